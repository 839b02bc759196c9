/**
 * Per-run measures the experiment summaries and the claim verdicts share (definitions in
 * docs/experiments.md, "Measures"). Each takes one method's result of one run (one seed).
 *
 * - blocks: the tracked layers except the output ("logits");
 * - middle layers: the blocks after the first (none at depth 1);
 * - the output (last tracked layer): the summary's `last_layer`.
 *
 * @module
 */
import type { ProbePoint, RunRecord } from "../experiments/types.ts";
import type { LayerSummary } from "../summary.ts";
import { LOGITS } from "../train/network.ts";
import type { MethodResult } from "../train/types.ts";

/** The method of a run with a given label, or undefined. */
export function methodOf(run: RunRecord, label: string): MethodResult | undefined {
  return run.result.methods.find((m) => m.method.label === label);
}

/** Method labels of runs, in first-seen order. */
export function methodLabels(runs: RunRecord[]): string[] {
  return [...new Set(runs.flatMap((r) => r.result.methods.map((m) => m.method.label)))];
}

/** Summaries of the blocks (every tracked layer but the output). */
export function blockSummaries(m: MethodResult): LayerSummary[] {
  return m.analysis.summary.layers.filter((l) => l.name !== LOGITS);
}

/** Summaries of the middle layers: the blocks after the first. */
export function middleSummaries(m: MethodResult): LayerSummary[] {
  return blockSummaries(m).slice(1);
}

function mean(v: number[]): number {
  const f = v.filter(Number.isFinite);
  return f.length ? f.reduce((a, b) => a + b, 0) / f.length : NaN;
}

/** Mean compression (peak minus final normalised nHSIC(X;T)) over the middle layers. */
export function middleCompression(m: MethodResult): number {
  return mean(middleSummaries(m).map((l) => l.compression ?? NaN));
}

/** Mean final normalised nHSIC(X;T) over the blocks. */
export function meanFinalX(m: MethodResult): number {
  return mean(blockSummaries(m).map((l) => l.final_x));
}

/** Mean final normalised nHSIC(Y;T) over the blocks. */
export function meanFinalY(m: MethodResult): number {
  return mean(blockSummaries(m).map((l) => l.final_y));
}

/**
 * Mean normalised nHSIC(Y;T) over the blocks at the first tracking point after step 0 ("early in
 * training"; the same step for every method of a run).
 */
export function earlyLabelBlocks(m: MethodResult): number {
  const cp = [...m.analysis.checkpoints].sort((a, b) => a.step - b.step)[1];
  if (!cp) return NaN;
  return mean(cp.layers.filter((l) => l.name !== LOGITS).map((l) => l.nhsic_y_norm));
}

/** Step of that first tracking point after 0 (NaN when there is none). */
export function earlyStep(m: MethodResult): number {
  const steps = m.analysis.checkpoints.map((c) => c.step).sort((a, b) => a - b);
  return steps[1] ?? NaN;
}

/** Differentiation score of the summary (population sd of per-layer compression). */
export function differentiation(m: MethodResult): number {
  return m.analysis.summary.differentiation?.score ?? NaN;
}

/** The probe points of one method of a run, sorted by step. */
export function probesOf(run: RunRecord, label: string): ProbePoint[] {
  return (run.probes ?? []).filter((p) => p.method === label).sort((a, b) => a.step - b.step);
}

/** The last probe point of a method (its final network), if any. */
export function finalProbe(run: RunRecord, label: string): ProbePoint | undefined {
  return probesOf(run, label).at(-1);
}

/** Mean final SNNL over the middle layers (blocks after the first). */
export function middleSnnl(run: RunRecord, label: string): number {
  const p = finalProbe(run, label);
  if (!p) return NaN;
  const blocks = p.layers.filter((l) => l.name !== LOGITS).slice(1);
  return mean(blocks.map((l) => l.snnl ?? NaN));
}

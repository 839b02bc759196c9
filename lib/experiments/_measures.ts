/**
 * Per-run measures the experiments' summaries, tables, figures and claim rules share (definitions
 * in docs/experiments.md, "Measures"), and the grouping of runs over seeds. Each measure takes one
 * method's result of one run (one seed).
 *
 * - blocks: the tracked layers except the output ("logits");
 * - middle layers: the blocks after the first (none at depth 1);
 * - the output (last tracked layer): the summary's `last_layer`.
 *
 * @module
 */
import { type SeedValue, type Stat, stat } from "../report/kit.ts";
import type { LayerSummary } from "../summary.ts";
import { LOGITS } from "../train/mod.ts";
import type { MethodResult } from "../train/mod.ts";
import type { ProbePoint, RunRecord } from "./types.ts";

/** Method label of end-to-end training. */
export const E2E = "e2e";
/** Method label of layer-wise training with local cross-entropy (the paper's main comparison). */
export const LW = "layerwise(cross_entropy)";

/** Whether a method label is a layer-wise method (anything but e2e). */
export function isLayerwise(label: string): boolean {
  return label !== E2E;
}

/** Runs grouped by their group key (a configuration over seeds), in first-seen order. */
export function groups(runs: RunRecord[]): Array<[string, RunRecord[]]> {
  const m = new Map<string, RunRecord[]>();
  for (const r of runs) m.set(r.group, [...(m.get(r.group) ?? []), r]);
  return [...m];
}

/** The tags of a group's runs (those of its first run). */
export function tagsOf(runs: RunRecord[]): Record<string, string | number> {
  return runs[0]?.tags ?? {};
}

/** "mnist, mlp w128, depth 5" (the depth only where the runs have one). */
export function groupTitle(runs: RunRecord[]): string {
  const t = runs[0].tags;
  return `${t.dataset}, ${t.model_name ?? t.model}${
    t.depth === undefined ? "" : `, depth ${t.depth}`
  }`;
}

/** A statistic over the seeds of a group for one method (NaN where a run lacks the method). */
export function over(
  runs: RunRecord[],
  label: string,
  f: (m: MethodResult, r: RunRecord) => number,
): Stat {
  return stat(runs.map((r) => {
    const m = methodOf(r, label);
    return m ? f(m, r) : NaN;
  }));
}

/** Per-seed values of a method's measure (runs without the method are left out). */
export function values(
  runs: RunRecord[],
  label: string,
  f: (m: MethodResult, r: RunRecord) => number,
): SeedValue[] {
  return runs.flatMap((r): SeedValue[] => {
    const m = methodOf(r, label);
    return m ? [{ seed: r.seed, value: f(m, r) }] : [];
  });
}

/** Per-layer statistics of a method over the seeds of a group. */
export function layerStats(runs: RunRecord[], label: string): Array<{
  name: string;
  final_x: Stat;
  final_y: Stat;
  compression: Stat;
  label_retention: Stat;
}> {
  const first = runs.map((r) => methodOf(r, label)).find((m) => m);
  if (!first) return [];
  return first.analysis.summary.layers.map((l, i) => {
    const pick = (f: (s: LayerSummary) => number | null) =>
      over(runs, label, (m) => f(m.analysis.summary.layers[i]) ?? NaN);
    return {
      name: l.name,
      final_x: pick((s) => s.final_x),
      final_y: pick((s) => s.final_y),
      compression: pick((s) => s.compression),
      label_retention: pick((s) => s.label_retention),
    };
  });
}

/** Final test accuracy of a method. */
export const accuracy = (m: MethodResult): number => m.final_test_accuracy;

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

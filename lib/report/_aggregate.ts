/**
 * Aggregates training results over seeds: mean and spread of accuracy and of the summary
 * measures, per method label. Used by the run summaries and the experiment report.
 */
import type { TrainingResult } from "../train/mod.ts";

/** Mean, sample standard deviation and the values themselves. */
export interface Stat {
  mean: number;
  sd: number;
  n: number;
  values: number[];
}

/** Mean and sample standard deviation (0 for a single value) of finite values. */
export function stat(values: number[]): Stat {
  const v = values.filter(Number.isFinite);
  const n = v.length;
  const mean = n ? v.reduce((a, b) => a + b, 0) / n : NaN;
  const sd = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd, n, values: v };
}

/** Per method, over seeds: accuracy, differentiation, last-layer IB verdicts and measures. */
export interface MethodAggregate {
  label: string;
  seeds: number[];
  test_accuracy: Stat;
  differentiation: Stat;
  last_compression: Stat;
  last_label_retention: Stat;
  /** How many seeds' last layer follows the information bottleneck. */
  last_follows_ib: number;
  /** Mean normalised nHSIC(Y;T) over layers at the first tracked point after step 0. */
  early_label_nhsic: Stat;
  /** Per layer: compression over seeds. */
  layer_compression: Array<{ name: string; compression: Stat }>;
}

/** Groups the methods of several results (one per seed) by label and aggregates them. */
export function aggregateByMethod(results: TrainingResult[]): MethodAggregate[] {
  const labels = [...new Set(results.flatMap((r) => r.methods.map((m) => m.method.label)))];
  return labels.map((label) => {
    const runs = results.flatMap((r) =>
      r.methods.filter((m) => m.method.label === label).map((m) => ({ seed: r.seed, m }))
    );
    const summaries = runs.map(({ m }) => m.analysis.summary);
    const names = summaries[0]?.layers.map((l) => l.name) ?? [];
    return {
      label,
      seeds: runs.map((r) => r.seed),
      test_accuracy: stat(runs.map(({ m }) => m.final_test_accuracy)),
      differentiation: stat(summaries.map((s) => s.differentiation?.score ?? NaN)),
      last_compression: stat(summaries.map((s) => s.last_layer.compression ?? NaN)),
      last_label_retention: stat(summaries.map((s) => s.last_layer.label_retention ?? NaN)),
      last_follows_ib: summaries.filter((s) => s.last_layer.follows_ib === true).length,
      early_label_nhsic: stat(runs.map(({ m }) => {
        const cp = m.analysis.checkpoints[1] ?? m.analysis.checkpoints[0];
        const ys = cp.layers.map((l) => l.nhsic_y_norm);
        return ys.reduce((a, b) => a + b, 0) / ys.length;
      })),
      layer_compression: names.map((name, li) => ({
        name,
        compression: stat(summaries.map((s) => s.layers[li]?.compression ?? NaN)),
      })),
    };
  });
}

/** "0.9712 ± 0.0011" with the given number of decimals. */
export function fmtStat(s: Stat, digits = 3): string {
  if (!Number.isFinite(s.mean)) return "n/a";
  return s.n > 1 ? `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)}` : s.mean.toFixed(digits);
}

// ---------------------------------------------------------------------------------------------
// Paired comparisons over seeds (the experiment report's verdict rules, docs/experiments.md)

/** A value measured for one seed. */
export interface SeedValue {
  seed: number;
  value: number;
}

/** Mean of per-seed differences a - b, its standard error and the differences themselves. */
export interface PairedDiff {
  mean: number;
  /** Standard error of the mean difference: sd / sqrt(n) (0 for a single seed). */
  se: number;
  n: number;
  values: number[];
}

/**
 * Differences a - b over the seeds both have (methods of one job share a seed's initial weights
 * and batch order, so pairing removes what the seeds have in common).
 */
export function pairedDiff(a: SeedValue[], b: SeedValue[]): PairedDiff {
  const bySeed = new Map(b.filter((v) => Number.isFinite(v.value)).map((v) => [v.seed, v.value]));
  const values = a.filter((v) => Number.isFinite(v.value) && bySeed.has(v.seed))
    .map((v) => v.value - bySeed.get(v.seed)!);
  const s = stat(values);
  return { mean: s.mean, se: s.n > 1 ? s.sd / Math.sqrt(s.n) : 0, n: s.n, values };
}

/**
 * The report's test of "a exceeds b": the mean paired difference is more than two standard errors
 * above zero and at least `minEffect`.
 */
export function exceeds(d: PairedDiff, minEffect: number): boolean {
  return d.n > 0 && d.mean > 2 * d.se && d.mean >= minEffect;
}

/** Spearman rank correlation of paired values (average ranks for ties); NaN below 3 pairs. */
export function spearman(x: number[], y: number[]): number {
  const pairs = x.map((v, i) => [v, y[i]]).filter(([a, b]) =>
    Number.isFinite(a) && Number.isFinite(b)
  );
  if (pairs.length < 3) return NaN;
  const rx = ranks(pairs.map((p) => p[0])), ry = ranks(pairs.map((p) => p[1]));
  const mx = stat(rx).mean, my = stat(ry).mean;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < rx.length; i++) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) ** 2;
    syy += (ry[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

/** Ranks 1..n with ties sharing their average rank. */
export function ranks(v: number[]): number[] {
  const order = v.map((x, i) => [x, i]).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(v.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) out[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

/** "+0.012 ± 0.004 (n = 3)": a paired difference with its standard error. */
export function fmtDiff(d: PairedDiff, digits = 3): string {
  if (!Number.isFinite(d.mean)) return "n/a";
  const sign = d.mean >= 0 ? "+" : "";
  return `${sign}${d.mean.toFixed(digits)} ± ${d.se.toFixed(digits)} SE (n = ${d.n})`;
}

/**
 * Whether the conclusions of a summary survive the estimator's free choices: for each
 * conclusion, the fraction of a sweep's settings under which it holds, and a verdict in plain
 * words. Definitions in docs/metrics.md ("Robustness").
 *
 * @module
 */
import type { Summary } from "../summary.ts";

/** Plain-words verdict on one conclusion. */
export type Verdict = "robust" | "depends on the estimator" | "absent";

/**
 * Fractions that separate the verdicts: `robust` when a conclusion holds under at least 90% of
 * the settings, `absent` when it holds under at most 10%, `depends on the estimator` between.
 */
export const ROBUSTNESS_THRESHOLDS: Readonly<{ robust: number; absent: number }> = Object
  .freeze({ robust: 0.9, absent: 0.1 });

/** The verdict of a fraction of settings. */
export function verdictOf(fraction: number): Verdict {
  if (fraction >= ROBUSTNESS_THRESHOLDS.robust) return "robust";
  if (fraction <= ROBUSTNESS_THRESHOLDS.absent) return "absent";
  return "depends on the estimator";
}

/** One conclusion of a summary checked across settings. */
export interface Conclusion {
  /** `compression` (compression_l >= threshold) or `follows_ib` (the layer's IB verdict). */
  kind: "compression" | "follows_ib";
  /** The layer it is about. */
  layer: string;
  /** The conclusion in words. */
  statement: string;
  /** Whether it holds under the request's own estimator (null without dynamics). */
  baseline: boolean | null;
  /** Settings under which it holds. */
  holds: number;
  /** holds / settings. */
  fraction: number;
  /** The verdict of `fraction`. */
  verdict: Verdict;
}

/** What {@link robustness} returns. */
export interface Robustness {
  /** Number of settings compared. */
  settings: number;
  /** Fractions that separate the verdicts. */
  thresholds: { robust: number; absent: number };
  /** Null when there is something to report; otherwise why not (one checkpoint). */
  note: string | null;
  /** Per layer: compression and follows_ib. */
  conclusions: Conclusion[];
}

/**
 * For each layer's compression (compression >= the summary's threshold) and information-
 * bottleneck verdict (follows_ib), the fraction of settings under which it holds.
 *
 * @example Usage
 * ```ts ignore
 * const r = robustness(output.summary, output.sweep.map((e) => e.summary));
 * r.conclusions.filter((c) => c.verdict === "depends on the estimator");
 * ```
 *
 * @param baseline The summary under the request's own estimator.
 * @param settings The summary under each setting of the sweep (same layers).
 * @returns The conclusions with their fractions and verdicts.
 */
export function robustness(baseline: Summary, settings: Summary[]): Robustness {
  const out: Robustness = {
    settings: settings.length,
    thresholds: { ...ROBUSTNESS_THRESHOLDS },
    note: null,
    conclusions: [],
  };
  if (!baseline.dynamics || settings.length === 0) {
    out.note = settings.length === 0
      ? "no settings to compare"
      : "one checkpoint: compression and the information-bottleneck verdict need dynamics";
    return out;
  }
  const threshold = baseline.thresholds.compression;
  baseline.layers.forEach((layer, li) => {
    const comp = (s: Summary) => (s.layers[li]?.compression ?? -Infinity) >= threshold;
    const ib = (s: Summary) => s.layers[li]?.follows_ib === true;
    for (
      const [kind, test, statement] of [
        ["compression", comp, `${layer.name} compresses (compression >= ${threshold})`],
        ["follows_ib", ib, `${layer.name} reaches an information bottleneck (follows_ib)`],
      ] as const
    ) {
      const holds = settings.filter(test).length;
      const fraction = holds / settings.length;
      out.conclusions.push({
        kind,
        layer: layer.name,
        statement,
        baseline: test(baseline),
        holds,
        fraction,
        verdict: verdictOf(fraction),
      });
    }
  });
  return out;
}

/** One compared result: a method's analysis with its sweep. */
export interface RankedResult {
  /** The method's label, e.g. "e2e". */
  name: string;
  /** Its summary under the request's own estimator. */
  summary: Summary;
  /** Its summaries under the sweep's settings, in the same order for every result. */
  sweep: Summary[];
}

/** What {@link differentiationRobustness} returns. */
export interface RankingRobustness {
  /** Number of settings compared. */
  settings: number;
  /** Fractions that separate the verdicts. */
  thresholds: { robust: number; absent: number };
  /** Methods by differentiation score under the request's own estimator, highest first. */
  baseline_order: string[];
  /** How often each ordering occurs across settings, most frequent first. */
  orders: Array<{ order: string[]; holds: number; fraction: number }>;
  /** Whether the baseline ordering holds: the fraction of settings with exactly that order. */
  ranking: { holds: number; fraction: number; verdict: Verdict };
  /** For each pair of methods (as the baseline ranks them): "a differentiates more than b". */
  pairs: Array<{
    higher: string;
    lower: string;
    statement: string;
    holds: number;
    fraction: number;
    verdict: Verdict;
  }>;
  /** Why something is missing, or null. */
  note: string | null;
}

/** Methods ordered by differentiation score, highest first (ties keep input order). */
function orderOf(names: string[], summaries: Summary[]): string[] {
  const score = (s: Summary) => s.differentiation?.score ?? -Infinity;
  return names.map((n, i) => ({ n, i, v: score(summaries[i]) }))
    .sort((a, b) => b.v - a.v || a.i - b.i).map((e) => e.n);
}

/**
 * Checks the differentiation ranking of several methods (the paper's claim 3: E2E training
 * differentiates its layers, layer-wise training does not) across the settings of a sweep that
 * every method was analysed under.
 *
 * @example Usage
 * ```ts ignore
 * const r = differentiationRobustness([
 *   { name: "e2e", summary: e2e.summary, sweep: e2e.sweep.map((s) => s.summary) },
 *   { name: "layerwise", summary: lw.summary, sweep: lw.sweep.map((s) => s.summary) },
 * ]);
 * r.pairs[0].verdict; // "robust"
 * ```
 *
 * @param results Two or more methods, each with the same number of sweep settings.
 * @returns Orders, the baseline ranking's fraction and pairwise comparisons.
 * @throws {RangeError} With fewer than two results, or sweeps of different lengths.
 */
export function differentiationRobustness(results: RankedResult[]): RankingRobustness {
  if (results.length < 2) throw new RangeError("a ranking needs at least two results");
  const k = results[0].sweep.length;
  if (results.some((r) => r.sweep.length !== k)) {
    throw new RangeError("every result needs the same sweep (same number of settings)");
  }
  const names = results.map((r) => r.name);
  const baseline = orderOf(names, results.map((r) => r.summary));
  const orders = new Map<string, { order: string[]; holds: number }>();
  for (let s = 0; s < k; s++) {
    const order = orderOf(names, results.map((r) => r.sweep[s]));
    const key = JSON.stringify(order);
    const hit = orders.get(key);
    if (hit) hit.holds++;
    else orders.set(key, { order, holds: 1 });
  }
  const frac = (h: number) => (k > 0 ? h / k : 0);
  const same = orders.get(JSON.stringify(baseline))?.holds ?? 0;
  const pairs: RankingRobustness["pairs"] = [];
  for (let i = 0; i < baseline.length; i++) {
    for (let j = i + 1; j < baseline.length; j++) {
      const hi = names.indexOf(baseline[i]), lo = names.indexOf(baseline[j]);
      let holds = 0;
      for (let s = 0; s < k; s++) {
        const a = results[hi].sweep[s].differentiation?.score ?? -Infinity;
        const b = results[lo].sweep[s].differentiation?.score ?? -Infinity;
        if (a > b) holds++;
      }
      pairs.push({
        higher: baseline[i],
        lower: baseline[j],
        statement: `${baseline[i]} differentiates its layers more than ${baseline[j]}`,
        holds,
        fraction: frac(holds),
        verdict: verdictOf(frac(holds)),
      });
    }
  }
  const noDynamics = results.some((r) => !r.summary.dynamics);
  return {
    settings: k,
    thresholds: { ...ROBUSTNESS_THRESHOLDS },
    baseline_order: baseline,
    orders: [...orders.values()].sort((a, b) => b.holds - a.holds)
      .map((o) => ({ ...o, fraction: frac(o.holds) })),
    ranking: { holds: same, fraction: frac(same), verdict: verdictOf(frac(same)) },
    pairs,
    note: noDynamics
      ? "a result has one checkpoint: differentiation needs dynamics, so scores are missing"
      : null,
  };
}

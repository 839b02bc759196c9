/**
 * The paper's six claims (PAPER.md, "Claims the service must be able to show") and the rules that
 * turn a suite's measurements into a verdict for each. The rules were written down before the
 * CPU-scale suite was first run and are written out in docs/experiments.md and in every report;
 * changing them after seeing results would defeat their purpose.
 *
 * Structure: a claim has parts; a part is a test applied to units (a configuration, or a
 * configuration and a method); a part holds when its test passes in at least two thirds of its
 * units; a claim is "held" when all its parts hold, "held partly" when some do (or when parts were
 * not tested), "did not hold" when none does, "not tested" when no part had a unit.
 *
 * "a exceeds b" means: the mean over seeds of the paired difference a - b is more than twice its
 * standard error and at least a minimum effect ({@link MIN_EFFECT}).
 *
 * @module
 */
import type { ExperimentName, RunRecord, SuiteResult } from "../experiments/types.ts";
import { exceeds, fmtDiff, pairedDiff, type SeedValue, spearman, stat } from "./aggregate.ts";
import {
  differentiation,
  earlyLabelBlocks,
  finalProbe,
  meanFinalX,
  methodLabels,
  methodOf,
  middleCompression,
  middleSnnl,
  middleSummaries,
} from "./measures.ts";
import type { MethodResult } from "../train/types.ts";

/** A claim's verdict. */
export type Verdict = "held" | "held partly" | "did not hold" | "not tested";

/** Smallest differences that count, by quantity. */
export const MIN_EFFECT = Object.freeze({
  /** Test accuracy (fraction): half a percentage point. */
  accuracy: 0.005,
  /** Normalised nHSIC (nHSIC(A;T) / nHSIC(A;A)). */
  nhsic: 0.01,
  /** Soft nearest-neighbour loss (nats). */
  snnl: 0.02,
  /** Differentiation score (sd of per-layer compression, normalised units). */
  differentiation: 0.005,
});

/** Fraction of a part's units in which its test must pass. */
export const PART_QUORUM = 2 / 3;
/** Thresholds of claims 3 and 4 (those of lib/summary.ts's information-bottleneck verdict). */
export const COMPRESSION_THRESHOLD = 0.05;
export const RETENTION_THRESHOLD = 0.9;
/** Smallest Spearman correlation of compression and SNNL that counts as "going together". */
export const RHO_THRESHOLD = 0.3;

/** The test of one part in one unit. */
export interface UnitResult {
  unit: string;
  holds: boolean;
  /** The measured numbers behind it. */
  detail: string;
}

/** One part of a claim. */
export interface PartResult {
  id: string;
  statement: string;
  /** The rule, in words. */
  rule: string;
  units: UnitResult[];
  /** Null when the part had no unit (its experiment did not run). */
  holds: boolean | null;
}

/** A claim with its parts and verdict. */
export interface ClaimResult {
  number: number;
  title: string;
  /** The claim as PAPER.md states it. */
  claim: string;
  experiments: ExperimentName[];
  parts: PartResult[];
  verdict: Verdict;
}

/** The claims as PAPER.md states them. */
export const CLAIMS: ReadonlyArray<{ number: number; title: string; claim: string }> = [
  {
    number: 1,
    title: "Accuracy",
    claim: "E2E beats layer-wise training, and layer-wise accuracy stops improving with depth.",
  },
  {
    number: 2,
    title: "Propagation",
    claim: "Early in training E2E reaches higher nHSIC(Y;T_l) than layer-wise training: it " +
      "carries label information through the layers more efficiently. A toy example shows " +
      "layer-wise training losing information that later layers would need.",
  },
  {
    number: 3,
    title: "Layer-role differentiation",
    claim: "In E2E training the layers behave differently over time: middle layers compress " +
      "(nHSIC(X;T_l) falls late in training) while the last layer keeps nHSIC(Y;T_L) high. In " +
      "layer-wise training all layers move alike (uniform compression, or increase).",
  },
  {
    number: 4,
    title: "Information bottleneck",
    claim: "Only E2E training drives the final representation to an information bottleneck " +
      "(low dependence on X, high dependence on Y); differentiation is what makes it possible.",
  },
  {
    number: 5,
    title: "Entanglement",
    claim: "Compression of middle layers connects, through an HSIC lower bound, to class " +
      "entanglement (soft nearest-neighbour loss): entangled middle layers help.",
  },
  {
    number: 6,
    title: "nHSIC-regularised layer-wise training",
    claim: "Adding an nHSIC term to layer-wise training moves the nHSIC values, but accuracy " +
      "still lags E2E: matching the numbers is not enough; the cooperation between layers is " +
      "what matters.",
  },
];

/** The general rules, in words (printed in every report). */
export const GENERAL_RULES: readonly string[] = [
  'Comparisons are paired by seed (the methods of one run share its initial weights and batch order). "A exceeds B" means: the mean over seeds of A - B is more than twice its standard error and at least a minimum effect: ' +
  `${MIN_EFFECT.accuracy} for test accuracy (half a percentage point), ${MIN_EFFECT.nhsic} for ` +
  `normalised nHSIC, ${MIN_EFFECT.snnl} for the soft nearest-neighbour loss, ` +
  `${MIN_EFFECT.differentiation} for the differentiation score.`,
  "A part of a claim is tested in units (a configuration of dataset, model and depth, or such a " +
  "configuration and one method); the part holds when its test passes in at least two thirds of " +
  "its units.",
  'A claim is "held" when all its parts hold, "held partly" when at least one part holds or some ' +
  'parts could not be tested, "did not hold" when no tested part holds, and "not tested" when ' +
  "the suite had no unit for any of its parts.",
  "These rules were written down before the CPU-scale suite was first run (only single-seed " +
  "timing trials had been looked at, to size the suite) and have not been changed since " +
  "(docs/experiments.md).",
];

const E2E = "e2e";
const LW = "layerwise(cross_entropy)";

function isLayerwise(label: string): boolean {
  return label !== E2E;
}

function values(runs: RunRecord[], label: string, f: (m: MethodResult, r: RunRecord) => number) {
  return runs.flatMap((r): SeedValue[] => {
    const m = methodOf(r, label);
    return m ? [{ seed: r.seed, value: f(m, r) }] : [];
  });
}

function groups(runs: RunRecord[]): Map<string, RunRecord[]> {
  const out = new Map<string, RunRecord[]>();
  for (const r of runs) out.set(r.group, [...(out.get(r.group) ?? []), r]);
  return out;
}

function part(id: string, statement: string, rule: string, units: UnitResult[]): PartResult {
  const pass = units.filter((u) => u.holds).length;
  return {
    id,
    statement,
    rule,
    units,
    holds: units.length === 0 ? null : pass >= Math.ceil(PART_QUORUM * units.length - 1e-9),
  };
}

const acc = (m: MethodResult) => m.final_test_accuracy;

// ---------------------------------------------------------------------------------------------

function claim1(runs: RunRecord[]): PartResult[] {
  // Series: one dataset and model family, several depths.
  const series = new Map<string, Map<number, RunRecord[]>>();
  for (const r of runs) {
    const key = `${r.tags.dataset} ${r.tags.model_name ?? r.tags.model}`;
    const byDepth = series.get(key) ?? new Map<number, RunRecord[]>();
    const d = Number(r.tags.depth);
    byDepth.set(d, [...(byDepth.get(d) ?? []), r]);
    series.set(key, byDepth);
  }
  const a: UnitResult[] = [], b: UnitResult[] = [], c: UnitResult[] = [];
  for (const [name, byDepth] of series) {
    const depths = [...byDepth.keys()].sort((x, y) => x - y);
    if (depths.length < 2) continue;
    const dMax = depths.at(-1)!, dPrev = depths.at(-2)!, dMin = depths[0];
    const at = (d: number) => byDepth.get(d)!;
    const labels = methodLabels(at(dMax)).filter(isLayerwise);
    // Per-seed accuracy gain of a method between two depths.
    const gains = (label: string, from: number, to: number): SeedValue[] => {
      const base = new Map(values(at(from), label, acc).map((v) => [v.seed, v.value]));
      return values(at(to), label, acc).filter((v) => base.has(v.seed))
        .map((v) => ({ seed: v.seed, value: v.value - base.get(v.seed)! }));
    };
    const zero = (g: SeedValue[]) => g.map((v) => ({ seed: v.seed, value: 0 }));
    for (const label of labels) {
      const d = pairedDiff(values(at(dMax), E2E, acc), values(at(dMax), label, acc));
      a.push({
        unit: `${name}, depth ${dMax}: e2e vs ${label}`,
        holds: exceeds(d, MIN_EFFECT.accuracy),
        detail: `accuracy difference ${fmtDiff(d)}`,
      });
      const lateGain = gains(label, dPrev, dMax);
      const late = pairedDiff(lateGain, zero(lateGain));
      b.push({
        unit: `${name}: ${label}, depth ${dPrev} -> ${dMax}`,
        holds: !exceeds(late, MIN_EFFECT.accuracy),
        detail: `accuracy gain ${fmtDiff(late)}`,
      });
      const diff = pairedDiff(gains(E2E, dMin, dMax), gains(label, dMin, dMax));
      c.push({
        unit: `${name}: e2e vs ${label}, depth ${dMin} -> ${dMax}`,
        holds: exceeds(diff, MIN_EFFECT.accuracy),
        detail: `e2e gain minus layer-wise gain ${fmtDiff(diff)}`,
      });
    }
  }
  return [
    part(
      "1a",
      "E2E is more accurate than every layer-wise method at the largest depth.",
      "Unit: a series (dataset, model family) and a layer-wise method. Test: e2e accuracy " +
        "exceeds the layer-wise method's at the largest depth of the series.",
      a,
    ),
    part(
      "1b",
      "Layer-wise accuracy stops improving with depth.",
      "Unit: a series and a layer-wise method. Test: the method's accuracy at the largest depth " +
        "does not exceed its accuracy at the second-largest depth.",
      b,
    ),
    part(
      "1c",
      "E2E gains more from depth than layer-wise training does.",
      "Unit: a series and a layer-wise method. Test: e2e's accuracy gain from the smallest to " +
        "the largest depth exceeds the layer-wise method's gain (paired by seed).",
      c,
    ),
  ];
}

function claim2(byExperiment: Map<ExperimentName, RunRecord[]>): PartResult[] {
  const a: UnitResult[] = [];
  const sources: ExperimentName[] = ["accuracy-vs-depth", "information-dynamics", "entanglement"];
  for (const name of sources) {
    for (const [group, rs] of groups(byExperiment.get(name) ?? [])) {
      if (Number(rs[0].tags.depth) < 2) continue;
      const labels = methodLabels(rs);
      if (!labels.includes(E2E) || !labels.includes(LW)) continue;
      const d = pairedDiff(values(rs, E2E, earlyLabelBlocks), values(rs, LW, earlyLabelBlocks));
      const step = methodOf(rs[0], E2E)?.analysis.checkpoints.map((c) => c.step)
        .sort((x, y) => x - y)[1];
      a.push({
        unit: `${name} ${group} (step ${step})`,
        holds: exceeds(d, MIN_EFFECT.nhsic),
        detail: `e2e - layer-wise, mean normalised nHSIC(Y;T) over blocks: ${fmtDiff(d)}`,
      });
    }
  }
  const b: UnitResult[] = [];
  const toy = byExperiment.get("toy") ?? [];
  const uFirst = (m: MethodResult, r: RunRecord) =>
    finalProbe(r, m.method.label)?.layers[0]?.nhsic_u_norm ?? NaN;
  for (const label of methodLabels(toy).filter(isLayerwise)) {
    const du = pairedDiff(values(toy, E2E, uFirst), values(toy, label, uFirst));
    const da = pairedDiff(values(toy, E2E, acc), values(toy, label, acc));
    b.push({
      unit: `toy: e2e vs ${label}`,
      holds: exceeds(du, MIN_EFFECT.nhsic) && exceeds(da, MIN_EFFECT.accuracy),
      detail: `nHSIC(U;T_fc1)/nHSIC(U;U) difference ${fmtDiff(du)}; accuracy difference ` +
        fmtDiff(da),
    });
  }
  return [
    part(
      "2a",
      "Early in training, E2E's layers carry more label information than layer-wise ones.",
      "Unit: a configuration of depth >= 2 in accuracy-vs-depth, information-dynamics or " +
        "entanglement. Test: at the first tracking point after step 0, the mean over the blocks " +
        "(every layer but the output) of nHSIC(Y;T_l)/nHSIC(Y;Y) of e2e exceeds that of " +
        "layerwise(cross_entropy).",
      a,
    ),
    part(
      "2b",
      "In the toy, greedy training discards input information that a later layer needs.",
      "Unit: a greedy method of the toy experiment. Test: at the end of training, e2e's " +
        "nHSIC(U;T_fc1)/nHSIC(U;U) at the bottleneck (U = the two XOR features) exceeds the " +
        "greedy method's, and e2e's test accuracy exceeds the greedy method's.",
      b,
    ),
  ];
}

function claim3(runs: RunRecord[]): PartResult[] {
  const a: UnitResult[] = [], b: UnitResult[] = [], c: UnitResult[] = [];
  for (const [group, rs] of groups(runs)) {
    const comp = stat(values(rs, E2E, middleCompression).map((v) => v.value));
    a.push({
      unit: group,
      holds: comp.mean >= COMPRESSION_THRESHOLD,
      detail: `e2e mean compression of the middle layers ${comp.mean.toFixed(3)} ± ` +
        `${comp.sd.toFixed(3)} sd; layer-wise ${
          stat(values(rs, LW, middleCompression).map((v) => v.value)).mean.toFixed(3)
        }`,
    });
    const ret = stat(
      values(rs, E2E, (m) => m.analysis.summary.last_layer.label_retention ?? NaN)
        .map((v) => v.value),
    );
    b.push({
      unit: group,
      holds: ret.mean >= RETENTION_THRESHOLD,
      detail: `e2e output label retention ${ret.mean.toFixed(3)} ± ${ret.sd.toFixed(3)} sd`,
    });
    const d = pairedDiff(values(rs, E2E, differentiation), values(rs, LW, differentiation));
    c.push({
      unit: group,
      holds: exceeds(d, MIN_EFFECT.differentiation),
      detail: `differentiation score e2e - layer-wise ${fmtDiff(d)}`,
    });
  }
  return [
    part(
      "3a",
      "E2E's middle layers compress late in training.",
      "Unit: a configuration of information-dynamics. Test: e2e's compression (peak minus " +
        "final nHSIC(X;T_l)/nHSIC(X;X)), averaged over the middle layers (the blocks after the " +
        `first) and the seeds, is at least ${COMPRESSION_THRESHOLD}.`,
      a,
    ),
    part(
      "3b",
      "E2E's last layer keeps its label information.",
      "Unit: a configuration. Test: the output's label retention (final over peak " +
        `nHSIC(Y;T)/nHSIC(Y;Y)) of e2e, averaged over seeds, is at least ${RETENTION_THRESHOLD}.`,
      b,
    ),
    part(
      "3c",
      "E2E's layers move differently from each other, layer-wise ones alike.",
      "Unit: a configuration. Test: e2e's differentiation score (population sd over all tracked " +
        "layers of their compression) exceeds layerwise(cross_entropy)'s.",
      c,
    ),
  ];
}

function claim4(runs: RunRecord[]): PartResult[] {
  const a: UnitResult[] = [], b: UnitResult[] = [];
  for (const [group, rs] of groups(runs)) {
    const count = (label: string) => {
      const ms = rs.map((r) => methodOf(r, label)).filter((m) => m) as MethodResult[];
      return {
        n: ms.length,
        ib: ms.filter((m) => m.analysis.summary.last_layer.follows_ib === true).length,
      };
    };
    const e = count(E2E), l = count(LW);
    if (e.n > 0) {
      a.push({
        unit: group,
        holds: e.ib >= Math.ceil(PART_QUORUM * e.n - 1e-9),
        detail: `e2e output follows the bottleneck in ${e.ib} of ${e.n} seeds`,
      });
    }
    if (l.n > 0) {
      b.push({
        unit: group,
        holds: l.ib <= Math.floor(l.n / 3 + 1e-9),
        detail: `layerwise(cross_entropy) output follows the bottleneck in ${l.ib} of ${l.n} seeds`,
      });
    }
  }
  const ib = "follows the information bottleneck (lib/summary.ts: compression >= " +
    `${COMPRESSION_THRESHOLD}, label retention >= ${RETENTION_THRESHOLD}, peak of ` +
    "nHSIC(X;T) before the last tracking point)";
  return [
    part(
      "4a",
      "E2E's final representation reaches an information bottleneck.",
      `Unit: a configuration of information-dynamics. Test: e2e's output ${ib} in at least two ` +
        "thirds of the seeds.",
      a,
    ),
    part(
      "4b",
      "Layer-wise training's final representation does not.",
      "Unit: a configuration. Test: layerwise(cross_entropy)'s output follows the bottleneck in " +
        "at most a third of the seeds.",
      b,
    ),
  ];
}

function claim5(runs: RunRecord[]): PartResult[] {
  const a: UnitResult[] = [], b: UnitResult[] = [], c: UnitResult[] = [];
  for (const [group, rs] of groups(runs)) {
    const snnl = (m: MethodResult, r: RunRecord) => middleSnnl(r, m.method.label);
    const d = pairedDiff(values(rs, E2E, snnl), values(rs, LW, snnl));
    a.push({
      unit: group,
      holds: exceeds(d, MIN_EFFECT.snnl),
      detail: `mean SNNL of the middle layers, e2e - layer-wise ${fmtDiff(d)}`,
    });
    const xs: number[] = [], ys: number[] = [];
    for (const r of rs) {
      for (const label of [E2E, LW]) {
        const m = methodOf(r, label);
        const p = finalProbe(r, label);
        if (!m || !p) continue;
        for (const l of middleSummaries(m)) {
          const s = p.layers.find((pl) => pl.name === l.name)?.snnl;
          if (s !== undefined && l.compression !== null) {
            xs.push(l.compression);
            ys.push(s);
          }
        }
      }
    }
    const rho = spearman(xs, ys);
    b.push({
      unit: group,
      holds: Number.isFinite(rho) && rho >= RHO_THRESHOLD,
      detail: `Spearman correlation of compression and final SNNL over ${xs.length} middle ` +
        `layers (both methods, all seeds): ${
          Number.isFinite(rho) ? rho.toFixed(3) : "undefined (no variation to rank)"
        }`,
    });
    const da = pairedDiff(values(rs, E2E, acc), values(rs, LW, acc));
    c.push({
      unit: group,
      holds: exceeds(da, MIN_EFFECT.accuracy),
      detail: `accuracy e2e - layer-wise ${fmtDiff(da)}`,
    });
  }
  return [
    part(
      "5a",
      "E2E's middle layers are more class-entangled than layer-wise ones.",
      "Unit: a configuration of the entanglement experiment. Test: the final soft " +
        "nearest-neighbour loss, averaged over the middle layers (blocks after the first), of e2e " +
        "exceeds layerwise(cross_entropy)'s.",
      a,
    ),
    part(
      "5b",
      "A middle layer's entanglement goes with its compression.",
      "Unit: a configuration. Test: over the middle layers of both methods and all seeds, the " +
        `Spearman correlation of compression and final SNNL is at least ${RHO_THRESHOLD}.`,
      b,
    ),
    part(
      "5c",
      "The method with entangled middle layers is the more accurate one.",
      "Unit: a configuration. Test: e2e's test accuracy exceeds layerwise(cross_entropy)'s in the " +
        "same runs.",
      c,
    ),
  ];
}

function claim6(runs: RunRecord[]): PartResult[] {
  const a: UnitResult[] = [], b: UnitResult[] = [];
  for (const [group, rs] of groups(runs)) {
    const regularised = methodLabels(rs).filter((label) =>
      rs.some((r) => (methodOf(r, label)?.method.nhsic_lambda ?? 0) > 0)
    );
    for (const label of regularised) {
      const d = pairedDiff(values(rs, label, meanFinalX), values(rs, LW, meanFinalX));
      const neg = { ...d, mean: -d.mean };
      a.push({
        unit: `${group}: ${label}`,
        holds: exceeds(d, MIN_EFFECT.nhsic) || exceeds(neg, MIN_EFFECT.nhsic),
        detail: `mean final nHSIC(X;T_l)/nHSIC(X;X) over blocks, regularised - unregularised ` +
          fmtDiff(d),
      });
      const da = pairedDiff(values(rs, E2E, acc), values(rs, label, acc));
      b.push({
        unit: `${group}: ${label}`,
        holds: exceeds(da, MIN_EFFECT.accuracy),
        detail: `accuracy e2e - regularised ${fmtDiff(da)}`,
      });
    }
  }
  return [
    part(
      "6a",
      "The nHSIC term moves the layers' nHSIC.",
      "Unit: a configuration and a regularised method (lambda > 0, global or local target). " +
        "Test: the mean over blocks of the final nHSIC(X;T_l)/nHSIC(X;X) differs from " +
        "unregularised layerwise(cross_entropy)'s (either direction exceeds).",
      a,
    ),
    part(
      "6b",
      "Accuracy still lags E2E.",
      "Unit: a configuration and a regularised method. Test: e2e's test accuracy exceeds the " +
        "regularised method's.",
      b,
    ),
  ];
}

/** The verdict of a claim from its parts. */
export function verdictOf(parts: PartResult[]): Verdict {
  const tested = parts.filter((p) => p.holds !== null);
  if (tested.length === 0) return "not tested";
  const held = tested.filter((p) => p.holds).length;
  if (held === 0) return "did not hold";
  return held === parts.length ? "held" : "held partly";
}

/** Evaluates every claim on a suite's runs (claims whose experiments did not run: "not tested"). */
export function evaluateClaims(suite: SuiteResult): ClaimResult[] {
  const byExperiment = new Map<ExperimentName, RunRecord[]>(
    suite.experiments.map((e) => [e.name, e.runs]),
  );
  const runsOf = (n: ExperimentName) => byExperiment.get(n) ?? [];
  const parts: Record<number, { parts: PartResult[]; experiments: ExperimentName[] }> = {
    1: { parts: claim1(runsOf("accuracy-vs-depth")), experiments: ["accuracy-vs-depth"] },
    2: {
      parts: claim2(byExperiment),
      experiments: ["information-dynamics", "accuracy-vs-depth", "entanglement", "toy"],
    },
    3: { parts: claim3(runsOf("information-dynamics")), experiments: ["information-dynamics"] },
    4: { parts: claim4(runsOf("information-dynamics")), experiments: ["information-dynamics"] },
    5: { parts: claim5(runsOf("entanglement")), experiments: ["entanglement"] },
    6: { parts: claim6(runsOf("nhsic-regularised")), experiments: ["nhsic-regularised"] },
  };
  return CLAIMS.map((c) => ({
    ...c,
    experiments: parts[c.number].experiments,
    parts: parts[c.number].parts,
    verdict: verdictOf(parts[c.number].parts),
  }));
}

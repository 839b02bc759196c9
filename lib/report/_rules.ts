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
import type { ExperimentName, RunRecord } from "../experiments/mod.ts";

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

/**
 * A part of a claim as an experiment defines it: the statement, the rule in words, the
 * experiments whose runs it reads, and the test applied to each unit.
 */
export interface ClaimPart {
  /** The claim (1-based, {@link CLAIMS}). */
  claim: number;
  /** "2a", ...: parts are listed in id order. */
  id: string;
  statement: string;
  rule: string;
  /** Experiments whose runs the part reads, in the order the report names them. */
  evidence: ExperimentName[];
  /**
   * Whether the test reads nHSIC values (and so may depend on how nHSIC is estimated: the
   * report's estimator sweep tests it again under every setting).
   */
  estimator?: boolean;
  /** The test in every unit, given the runs of each experiment (none when it did not run). */
  units(runsOf: (name: ExperimentName) => RunRecord[]): UnitResult[];
}

/** Evaluates a part on a suite's runs. */
export function evaluatePart(
  p: ClaimPart,
  runsOf: (name: ExperimentName) => RunRecord[],
): PartResult {
  const units = p.units(runsOf);
  const pass = units.filter((u) => u.holds).length;
  return {
    id: p.id,
    statement: p.statement,
    rule: p.rule,
    units,
    holds: units.length === 0 ? null : pass >= Math.ceil(PART_QUORUM * units.length - 1e-9),
  };
}

/** Whether a count of passing seeds reaches the quorum (at least two thirds of n). */
export function quorum(pass: number, n: number): boolean {
  return pass >= Math.ceil(PART_QUORUM * n - 1e-9);
}

/** The verdict of a claim from its parts. */
export function verdictOf(parts: PartResult[]): Verdict {
  const tested = parts.filter((p) => p.holds !== null);
  if (tested.length === 0) return "not tested";
  const held = tested.filter((p) => p.holds).length;
  if (held === 0) return "did not hold";
  return held === parts.length ? "held" : "held partly";
}

/**
 * The list of experiments, in the order a suite runs them and the report shows them, and the
 * selection of experiments and runs for a suite. Adding an experiment: write its file (an
 * {@link Experiment}), add its name to EXPERIMENT_NAMES (lib/experiments/types.ts) and the object
 * here.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import { accuracyVsDepth } from "./accuracy_vs_depth.ts";
import type { Experiment, RunOptions } from "./_experiment.ts";
import { entanglement } from "./entanglement.ts";
import { informationDynamics } from "./dynamics.ts";
import { nhsicRegularised } from "./nhsic_regularised.ts";
import { toy } from "./toy.ts";
import { EXPERIMENT_NAMES, type ExperimentName, type RunSpec, type Scale } from "./types.ts";

/** Every experiment, in suite order (the order of EXPERIMENT_NAMES). */
export const EXPERIMENT_LIST: readonly Experiment[] = Object.freeze([
  accuracyVsDepth,
  informationDynamics,
  toy,
  nhsicRegularised,
  entanglement,
]);

/** The experiments by name. */
export const EXPERIMENTS: Readonly<Record<ExperimentName, Experiment>> = Object.freeze(
  Object.fromEntries(EXPERIMENT_LIST.map((e) => [e.name, e])) as Record<ExperimentName, Experiment>,
);

/** Whether a string names an experiment. */
export function isExperimentName(s: string): s is ExperimentName {
  return (EXPERIMENT_NAMES as readonly string[]).includes(s);
}

/**
 * Experiment names from a list (e.g. `--only a,b`), in suite order; all when empty.
 *
 * @throws {InputError} naming an unknown experiment.
 */
export function selectExperiments(names: readonly string[] | undefined): ExperimentName[] {
  if (!names || names.length === 0) return [...EXPERIMENT_NAMES];
  for (const n of names) {
    if (!isExperimentName(n)) {
      throw new InputError(
        "invalid-request",
        `unknown experiment "${n}"; known: ${EXPERIMENT_NAMES.join(", ")}`,
        "names",
      );
    }
  }
  return EXPERIMENT_NAMES.filter((n) => names.includes(n));
}

/** Every run of the named experiments at a scale, in suite order. */
export function suiteRuns(names: ExperimentName[], scale: Scale, opts: RunOptions = {}): RunSpec[] {
  return names.flatMap((n) => EXPERIMENTS[n].runs(scale, opts));
}

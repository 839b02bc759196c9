/**
 * The experiment suite that reproduces the paper (docs/experiments.md): the named experiments,
 * their runs at each scale, running a suite (in process, in Web Workers, or as a job of the
 * training engine) and its structured results.
 *
 * This is the package's public face: callers (scripts, routes, tests) import from here only.
 * Layout: one file per experiment (accuracy_vs_depth.ts, dynamics.ts, toy.ts,
 * nhsic_regularised.ts, entanglement.ts), each exporting one {@link Experiment}; the list of them
 * (_registry.ts); shared configuration (_configs.ts), measures (_measures.ts), figures
 * (_trajectories.ts), the runner (_runner.ts) with its store of finished runs (_store.ts),
 * probes (_probed.ts), the estimator sweep (_sweep.ts) and the toy's data (_toy_data.ts); the
 * contracts (types.ts) and the training engine's runner module (job.ts).
 *
 * @module
 */
export type { ClaimSection, Experiment, RunOptions, SuiteDataset } from "./_experiment.ts";
export {
  EXPERIMENT_LIST,
  EXPERIMENTS,
  isExperimentName,
  selectExperiments,
  suiteRuns,
} from "./_registry.ts";
export {
  executeRun,
  inProcess,
  type RunContext,
  type RunExecutor,
  runMethodLabel,
  type RunStore,
  runSuite,
  type SuiteOptions,
  type SuiteProgress,
} from "./_runner.ts";
export { convNet } from "./_configs.ts";
export { dirRunStore } from "./_store.ts";
export { ESTIMATOR_SWEEP, measureSweep, SWEEP_WORDS, sweepSettings, sweptRuns } from "./_sweep.ts";
export {
  type CheckpointHook,
  EVAL_CONTEXT,
  probeActivations,
  runTrainingProbed,
} from "./_probed.ts";
export {
  TOY_FEATURES,
  TOY_SHORTCUT_FLIP,
  TOY_SHORTCUT_NOISE,
  toyColumns,
  toyDataset,
  toyModel,
  type ToySpec,
} from "./_toy_data.ts";
export { toyDataSeed } from "./toy.ts";
export {
  datasetDirsFromEnv,
  type ExperimentJobSpec,
  runExperimentRun,
  runExperimentSuite,
  type SuiteSize,
  suiteSize,
} from "./job.ts";
export * from "./types.ts";

/** The engine runner module that runs experiment jobs (a Web Worker or engine loads it by URL). */

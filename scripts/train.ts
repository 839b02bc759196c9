/**
 * Runs a training job locally and writes its result JSON.
 *
 *   deno task train --preset mlp --depth 4 --methods e2e,layerwise --epochs 1 \
 *     --train-limit 2000 --seed 0 --out result.json
 *   deno task train --config job.json --out result.json
 *
 * `--config` takes a training request (the API's JSON body); flags given with it override its
 * fields. Methods: a comma-separated list of `name[:key=value...]`, e.g.
 * `e2e,layerwise,layerwise:loss=similarity,layerwise:head=mlp:nhsic=0.1:target=local,sequential`
 * (`on=head` makes the nHSIC regulariser measure the head's output instead of the block's).
 * Progress goes to stderr on one carriage-return line.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { loadDataset } from "../lib/data/mod.ts";
import { selectBackend } from "../lib/train/mod.ts";
import { batchRanges } from "../lib/train/mod.ts";
import { checkJobAgainstInput, resolveTrainingRequest } from "../lib/train/mod.ts";
import { runTrainingOn } from "../lib/train/mod.ts";
import type { MethodSpec, TrainingEvent } from "../lib/train/mod.ts";

const HELP = `Usage: deno task train [--config job.json] [options]

Model:     --preset mlp|lenet5|vgg-small|resnet-small  --depth N  --width W  --activation relu|tanh|...
Data:      --dataset mnist|fashion-mnist|cifar10  --train-limit N  --test-limit N  --dataset-dir DIR
Methods:   --methods e2e,layerwise,layerwise:loss=similarity,layerwise:head=mlp:nhsic=0.1:target=local,sequential
Optimiser: --epochs N  --batch N  --lr X  --weight-decay X  --seed N
Tracking:  --probe-size N  --probe-batch N  --first-epoch-points N  --linear-probe
Other:     --backend auto|tensorflow|webgpu|native|wasm|cpu  --data-dir DIR (caches)  --out result.json`;

/** Parses one `name[:key=value...]` method item. */
export function parseMethod(item: string): MethodSpec {
  const [name, ...opts] = item.split(":");
  const m: Record<string, unknown> = { name };
  for (const o of opts) {
    const [k, v] = o.split("=");
    if (v === undefined) throw new Error(`method option "${o}" in "${item}" is not key=value`);
    if (k === "nhsic") m.nhsic_lambda = Number(v);
    else if (k === "target") m.nhsic_target = v;
    else if (k === "on") m.nhsic_on = v;
    else if (k === "loss" || k === "head" || k === "label") m[k] = v;
    else {throw new Error(
        `unknown method option "${k}" in "${item}" (loss, head, nhsic, target, on, label)`,
      );}
  }
  return m as unknown as MethodSpec;
}

/** Builds a training request from a config file and flags (flags win). */
export function requestFromArgs(
  flags: Record<string, string | boolean | undefined>,
  base: Record<string, unknown> = {},
): Record<string, unknown> {
  const req: Record<string, unknown> = structuredClone(base);
  const num = (k: string) => (flags[k] === undefined ? undefined : Number(flags[k]));
  const obj = (k: string) => (req[k] ?? (req[k] = {})) as Record<string, unknown>;
  const set = (o: Record<string, unknown>, k: string, v: unknown) => {
    if (v !== undefined) o[k] = v;
  };
  if (flags.preset !== undefined) req.model = { preset: flags.preset };
  if (req.model === undefined && (flags.depth || flags.width || flags.activation)) {
    req.model = { preset: "mlp" };
  }
  if (req.model && typeof req.model === "object" && "preset" in (req.model as object)) {
    const m = req.model as Record<string, unknown>;
    set(m, "depth", num("depth"));
    set(m, "width", num("width"));
    set(m, "activation", flags.activation);
  }
  if (flags.dataset !== undefined || req.dataset === undefined) {
    req.dataset = { ...(req.dataset as object ?? {}), name: flags.dataset ?? "mnist" };
  }
  const ds = obj("dataset");
  set(ds, "train_limit", num("train-limit"));
  set(ds, "test_limit", num("test-limit"));
  set(ds, "dir", flags["dataset-dir"]);
  if (typeof flags.methods === "string") {
    req.methods = flags.methods.split(",").filter((s) => s).map(parseMethod);
  }
  if (["epochs", "batch", "lr", "weight-decay"].some((k) => flags[k] !== undefined)) {
    const o = obj("optimizer");
    set(o, "epochs", num("epochs"));
    set(o, "batch_size", num("batch"));
    set(o, "lr", num("lr"));
    set(o, "weight_decay", num("weight-decay"));
  }
  if (
    ["probe-size", "probe-batch", "first-epoch-points", "linear-probe"].some((k) =>
      flags[k] !== undefined
    )
  ) {
    const t = obj("tracking");
    set(t, "probe_size", num("probe-size"));
    set(t, "probe_batch", num("probe-batch"));
    set(t, "first_epoch_points", num("first-epoch-points"));
    if (flags["linear-probe"]) t.linear_probe = true;
  }
  set(req, "seed", num("seed"));
  set(req, "backend", flags.backend);
  return req;
}

function bar(frac: number, width = 24): string {
  const n = Math.max(0, Math.min(width, Math.round(frac * width)));
  return "#".repeat(n) + "-".repeat(width - n);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      config: { type: "string" },
      preset: { type: "string" },
      depth: { type: "string" },
      width: { type: "string" },
      activation: { type: "string" },
      dataset: { type: "string" },
      "dataset-dir": { type: "string" },
      "train-limit": { type: "string" },
      "test-limit": { type: "string" },
      methods: { type: "string" },
      epochs: { type: "string" },
      batch: { type: "string" },
      lr: { type: "string" },
      "weight-decay": { type: "string" },
      seed: { type: "string" },
      "probe-size": { type: "string" },
      "probe-batch": { type: "string" },
      "first-epoch-points": { type: "string" },
      "linear-probe": { type: "boolean" },
      backend: { type: "string" },
      "data-dir": { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const base = values.config ? JSON.parse(await Deno.readTextFile(values.config)) : {};
  const job = resolveTrainingRequest(requestFromArgs(values, base));
  const err = (s: string) => Deno.stderr.writeSync(new TextEncoder().encode(s));
  const dataDir = values["data-dir"] ?? "data";

  const backend = await selectBackend(job.backend);
  err(`backend: ${backend.name} (${backend.device})\nloading ${job.dataset.name}...`);
  const dataset = await loadDataset(job.dataset, { dataDir });
  err(` ${dataset.train.n} train / ${dataset.test.n} test, shape [${dataset.shape}]\n`);
  const plan = checkJobAgainstInput(job, dataset.shape, dataset.numClasses);
  const perEpoch = batchRanges(dataset.train.n, job.optimizer.batch_size).length;
  const totals = new Map(
    job.methods.map((m) => [
      m.label ?? m.name,
      perEpoch * job.optimizer.epochs * (m.name === "sequential" ? plan.blocks.length : 1),
    ]),
  );
  const t0 = performance.now();
  let lastAcc = NaN;
  const onEvent = (e: TrainingEvent) => {
    if (e.type === "step" || e.type === "checkpoint") {
      const total = totals.get(e.method) ?? 1;
      if (e.type === "checkpoint") lastAcc = e.test_accuracy;
      const loss = e.type === "step" ? e.loss : e.train_loss;
      const secs = ((performance.now() - t0) / 1000).toFixed(0);
      err(
        `\r${e.method} [${bar(e.step / total)}] step ${e.step}/${total} epoch ${
          e.epoch.toFixed(2)
        } loss ${loss.toFixed(3)} test acc ${
          Number.isNaN(lastAcc) ? "-" : lastAcc.toFixed(3)
        } ${secs}s   `,
      );
    } else if (e.type === "method_done") {
      err(`\n${e.method}: test accuracy ${e.test_accuracy.toFixed(4)}\n`);
      lastAcc = NaN;
    }
  };
  const result = await runTrainingOn(job, dataset, { dataDir, onEvent }, backend);
  const out = values.out ?? "result.json";
  await Deno.writeTextFile(out, JSON.stringify(result, null, 2) + "\n");
  console.log(`\n${"method".padEnd(56)} test acc  seconds`);
  for (const m of result.methods) {
    console.log(
      `${m.method.label.padEnd(56)} ${m.final_test_accuracy.toFixed(4)}   ${m.seconds.toFixed(1)}`,
    );
  }
  console.log(`wrote ${out} (${result.seconds.toFixed(1)} s in all)`);
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.error(`\n${e instanceof Error ? `${e.name}: ${e.message}` : e}`);
    Deno.exit(1);
  }
}

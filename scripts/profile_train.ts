/**
 * Where a training step's time goes on the "native" backend: runs steps of a bench_train job
 * through lib/train's own method runner (the network, loss, gradients and FusedAdam of a real
 * job, without the tracking) and times
 *
 * - every kernel call (each native kernel wrapped with a timer; key: kernel name and, for the
 *   convolution and pooling kernels, the input shape), summed per step;
 * - the rest of the step (tfjs' engine and tape, gradient bookkeeping, FusedAdam's JS, the loss
 *   and accuracy read-back, the loop);
 * - optionally a V8 CPU profile of the same steps: run this script under
 *   `deno run --cpu-prof --cpu-prof-dir=DIR` and summarise the .cpuprofile with
 *   `--summarise=FILE` (self time per function, top entries).
 *
 *   deno run -A scripts/profile_train.ts [--job=lenet5-e2e] [--steps=200] [--warmup=10]
 *     [--no-kernel-timers] [--top=25] [--mlp-width=256]
 *   deno run -A scripts/profile_train.ts --summarise=prof/xxx.cpuprofile [--top=40]
 *
 * Jobs: mlp-e2e, mlp-layerwise, lenet5-e2e, convnet-e2e (lib/experiments' conv net, depth 4,
 * channels 16/32), as in scripts/bench_train.ts.
 *
 * @module
 */

import * as tfc from "@tensorflow/tfjs-core";
import { loadDataset } from "../lib/data/mod.ts";
import {
  batchRanges,
  batchTensors,
  epochOrder,
  gatherBatch,
  sampleSize,
} from "../lib/train/mod.ts";
import { selectBackend } from "../lib/train/mod.ts";
import { createRunner } from "../lib/train/mod.ts";
import { Network } from "../lib/train/mod.ts";
import { checkJobAgainstInput, resolveTrainingRequest } from "../lib/train/mod.ts";
import type { ResolvedMethod } from "../lib/train/mod.ts";
import { tf } from "../lib/train/mod.ts";
import { applyNativeThreads } from "../lib/train/mod.ts";
import { trainModelOf } from "./bench_train.ts";
import { threadCpuSeconds } from "./_bench.ts";

const flags = new Map<string, string>();
for (const a of Deno.args) {
  const m = /^--([\w-]+)(?:=(.*))?$/.exec(a);
  if (m) flags.set(m[1], m[2] ?? "");
}

interface ProfNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** Self time per function of a V8 .cpuprofile (as written by deno --cpu-prof). */
function summarise(path: string, top: number): void {
  const p = JSON.parse(Deno.readTextFileSync(path)) as {
    nodes: ProfNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i])!;
    const dt = p.timeDeltas[i] ?? 0;
    total += dt;
    const f = n.callFrame;
    const file = f.url.replace(/^.*\/(node_modules\/\.deno\/[^/]+\/node_modules\/)?/, "");
    const key = `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  console.log(`total sampled: ${(total / 1000).toFixed(0)} ms`);
  for (const [k, v] of rows) {
    console.log(
      `${(v / 1000).toFixed(1).padStart(9)} ms ${(100 * v / total).toFixed(1).padStart(5)}%  ${k}`,
    );
  }
}

function shapeKey(name: string, inputs: tfc.NamedTensorInfoMap): string {
  const x = inputs.x ?? inputs.dy ?? inputs.a;
  if (/Conv|Pool/.test(name) && x) return `${name} ${JSON.stringify(x.shape)}`;
  if (/MatMul/.test(name) && inputs.a && inputs.b) {
    return `${name} ${JSON.stringify(inputs.a.shape)}x${JSON.stringify(inputs.b.shape)}`;
  }
  return name;
}

/** Wraps every kernel registered for `backend` with a timer; returns the accumulator. */
function wrapKernels(backend: string): Map<string, { ms: number; calls: number; each: number[] }> {
  const acc = new Map<string, { ms: number; calls: number; each: number[] }>();
  for (const k of tfc.getKernelsForBackend(backend)) {
    const fn = k.kernelFunc;
    tfc.unregisterKernel(k.kernelName, backend);
    tfc.registerKernel({
      ...k,
      kernelFunc: (args) => {
        const t0 = performance.now();
        const r = fn(args);
        const dt = performance.now() - t0;
        const key = shapeKey(k.kernelName, args.inputs);
        const e = acc.get(key) ?? acc.set(key, { ms: 0, calls: 0, each: [] }).get(key)!;
        e.ms += dt;
        e.calls++;
        e.each.push(dt);
        return r;
      },
    });
  }
  return acc;
}

/** The native backend's buffer-pool counters (null on other backends). */
function poolStats(): { allocated: number; recycled: number } | null {
  const b = tf.backend() as unknown as {
    poolStats?: () => { allocated: number; recycled: number };
  };
  return b.poolStats?.() ?? null;
}

async function main(): Promise<void> {
  const summary = flags.get("summarise");
  const top = Number(flags.get("top") || 25);
  if (summary) return summarise(summary, top);
  const jobName = flags.get("job") || "lenet5-e2e";
  const steps = Number(flags.get("steps") || 200);
  const warmup = Number(flags.get("warmup") || 10);
  tf.env().set("PROD", true);
  const ds = await loadDataset({ name: "mnist" }, { dataDir: "data" });
  const backend = await selectBackend("native");
  const job = resolveTrainingRequest({
    model: trainModelOf(jobName, Number(flags.get("mlp-width") || 256)),
    dataset: { name: "mnist" },
    methods: [{ name: jobName.endsWith("layerwise") ? "layerwise" : "e2e" }],
    optimizer: { lr: 5e-4, batch_size: 128, epochs: 1, weight_decay: 0 },
    backend: "native",
  });
  const plan = checkJobAgainstInput(job, ds.shape, ds.numClasses);
  const method = job.methods[0] as ResolvedMethod;
  const net = new Network(plan, job.seed);
  const runner = createRunner(method, net, job);
  const d = sampleSize(ds.shape);
  const ranges = batchRanges(ds.train.n, 128);
  const order = epochOrder(ds.train.n, job.seed, 0);
  const ctx = { training: true, nextSeed: () => 0 };
  const acc = flags.has("no-kernel-timers") ? null : wrapKernels("native");
  // the optimiser's step (FusedAdam on native: not a tfjs kernel)
  const opt = (runner as unknown as { opt?: { step: (g: unknown) => void } }).opt;
  let optMs = 0, batchMs = 0;
  if (opt) {
    const step = opt.step.bind(opt);
    opt.step = (g) => {
      const t0 = performance.now();
      step(g);
      optMs += performance.now() - t0;
    };
  }
  const stepMs: number[] = [];
  let cpu0 = 0, pool0 = 0;
  let kernelMsAtStart = 0;
  const kernelTotal = () => acc ? [...acc.values()].reduce((a, e) => a + e.ms, 0) : 0;
  for (let i = 0; i < warmup + steps; i++) {
    if (i === warmup) {
      pool0 = poolStats()?.allocated ?? 0;
      acc?.clear();
      kernelMsAtStart = 0;
      optMs = batchMs = 0;
      cpu0 = threadCpuSeconds();
    }
    const [s, e] = ranges[i % ranges.length];
    const t0 = performance.now();
    applyNativeThreads();
    const batch = gatherBatch(ds.train, d, order, s, e);
    const { x, onehot } = batchTensors(batch.x, batch.labels, ds.shape, ds.numClasses);
    batchMs += performance.now() - t0;
    await runner.step(0, { x, onehot, labels: batch.labels, xData: batch.x }, ctx);
    tf.dispose([x, onehot]);
    if (i >= warmup) stepMs.push(performance.now() - t0);
  }
  const cpu = threadCpuSeconds() - cpu0;
  const stats = poolStats();
  if (stats) {
    console.log(
      `native buffer pool: ${((stats.allocated - pool0) / steps).toFixed(2)} fresh arrays per ` +
        "step (arrays under 64 floats are never pooled)",
    );
  }
  const total = stepMs.reduce((a, b) => a + b, 0);
  const sorted = [...stepMs].sort((a, b) => a - b);
  console.log(
    `job ${jobName}, ${backend.device}, ${steps} steps after ${warmup}: mean step ` +
      `${(total / steps).toFixed(2)} ms, median ${sorted[steps >> 1].toFixed(2)} ms; load ` +
      `${Deno.loadavg()[0].toFixed(2)}; thread CPU ${(1000 * cpu / steps).toFixed(2)} ms per step`,
  );
  console.log(
    `batch assembly ${(batchMs / steps).toFixed(3)} ms, optimiser step ${
      (optMs / steps).toFixed(3)
    } ms per step`,
  );
  if (acc) {
    const kt = kernelTotal() - kernelMsAtStart;
    const calls = [...acc.values()].reduce((a, e) => a + e.calls, 0);
    console.log(
      `kernels: ${(kt / steps).toFixed(2)} ms per step in ${(calls / steps).toFixed(0)} calls; ` +
        `outside kernels: ${((total - kt) / steps).toFixed(2)} ms per step`,
    );
    // per call: the mean, and the median (robust to the preemptions of a loaded machine)
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const medSum = [...acc.values()].reduce((a, e) => a + med(e.each) * e.calls / steps, 0);
    console.log(`kernels, by median call time: ${medSum.toFixed(2)} ms per step`);
    const rows = [...acc.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, top);
    for (const [k, e] of rows) {
      const perStep = (e.calls / steps).toFixed(1), mean = (1000 * e.ms / e.calls).toFixed(0);
      console.log(
        `${(e.ms / steps).toFixed(3).padStart(8)} ms/step ${perStep.padStart(5)} calls ` +
          `${mean.padStart(6)} us mean ${
            (1000 * med(e.each)).toFixed(0).padStart(6)
          } us median  ${k}`,
      );
    }
  }
  runner.dispose();
  net.dispose();
}

if (import.meta.main) await main();

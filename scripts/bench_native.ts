/**
 * The "native" tfjs backend (lib/native) side by side with tfjs-backend-wasm and -cpu, and with
 * PyTorch when it is installed:
 *
 * 1. matMul 128x784x256 in all four transpose forms (GFLOP/s);
 * 2. the two LeNet-5 convolutions at batch 128: forward, input gradient, filter gradient (the
 *    gradient ops lib/train uses on each backend);
 * 3. one training epoch on MNIST (60000 images, batch 128, Adam, end-to-end cross-entropy) of a
 *    784-256-256-256-10 ReLU MLP and of LeNet-5: the whole epoch on native; a slice of batches
 *    on wasm (and on native with an Adam made of tfjs ops), extrapolated to the epoch and marked
 *    as such.
 *
 * PyTorch: scripts/bench_torch.py runs the same workloads under the first Python with torch
 * (INFOPLANE_PYTHON, else python3, /usr/bin/python3, python: see scripts/torch_probe.ts), with
 * OPENBLAS_CORETYPE set to the core our OpenBLAS uses, once per thread configuration: "omp"
 * (torch threads = cores, OPENBLAS_NUM_THREADS=1) and "blas" (torch threads = 1,
 * OPENBLAS_NUM_THREADS = cores; only for a torch on OpenBLAS). Each figure's reference is the
 * better of the two (the per-config figures are printed at the end). Without torch that is
 * said and only the issue's reference (MLP epoch 1.7 s with MKL on the 2-core dev machine) is
 * used.
 *
 *   deno task bench:native [--quick] [--skip-wasm] [--skip-cpu] [--skip-torch] [--threads=N]
 *     [--wasm-batches=N] [--torch-configs=omp,blas]
 *
 * @module
 */

import { tf } from "../lib/train/mod.ts";
import { Adam } from "../lib/train/mod.ts";
import { embeddedMnistDir, loadMnist, type MnistData } from "../lib/data/mod.ts";
import { cpuModel } from "../lib/linalg/mod.ts";
import { mulberry32 } from "../lib/random.ts";
import {
  FusedAdam,
  NATIVE_BACKEND,
  NativeBackend,
  nativeFallbacks,
  registerNativeBackend,
} from "../lib/native/mod.ts";
import {
  describeTorch,
  findTorch,
  type TorchConfig,
  torchCoreType,
  torchEnv,
  torchThreadConfigs,
} from "./torch_probe.ts";
import { fmt, loadAvg, table as markdownTable } from "./_bench.ts";

/** Prints a table of right-aligned numbers. */
function table(head: string[], rows: (string | number)[][]): void {
  console.log(markdownTable(head, rows.map((r) => r.map(String)), 0) + "\n");
}

const args = new Set(Deno.args.filter((a) => !a.includes("=")));
const opt = (name: string, dflt: number) => {
  const a = Deno.args.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : dflt;
};
const QUICK = args.has("--quick");
const EPOCH_BATCHES = QUICK ? 60 : Infinity;
const WASM_BATCHES = opt("wasm-batches", QUICK ? 5 : 20);
const SLICE_BATCHES = QUICK ? 20 : 60;

const reg = registerNativeBackend();
if (!reg.ok) {
  console.error(`native backend unavailable: ${reg.reason}`);
  Deno.exit(1);
}
const threads = opt("threads", 0);
const openblas = (await import("../lib/linalg/mod.ts")).loadOpenBlas()!;
if (threads > 0) openblas.setThreads(threads);

const backends = [
  ...(args.has("--skip-wasm") ? [] : ["wasm"]),
  ...(args.has("--skip-cpu") ? [] : ["cpu"]),
  NATIVE_BACKEND,
];

/**
 * CPU seconds used by this process so far (getrusage through libc; NaN where unavailable). On a
 * machine shared with other jobs, wall time includes waiting for a CPU; CPU time does not, so
 * with one OpenBLAS thread it approximates the wall time on an idle machine.
 */
const cpuSeconds: () => number = (() => {
  try {
    const libc = Deno.dlopen(Deno.build.os === "darwin" ? "libc.dylib" : "libc.so.6", {
      getrusage: { parameters: ["i32", "buffer"], result: "i32" },
    });
    const buf = new BigInt64Array(18);
    return () => {
      if (libc.symbols.getrusage(0, buf) !== 0) return NaN; // RUSAGE_SELF
      return Number(buf[0]) + Number(buf[1]) / 1e6 + Number(buf[2]) + Number(buf[3]) / 1e6;
    };
  } catch {
    return () => NaN;
  }
})();

/**
 * Median seconds of fn (its tensors disposed after each run) over at least `minReps` runs and
 * `minSeconds`, after one warm-up.
 */
function timeIt(
  make: () => tf.Tensor,
  minReps = 5,
  minSeconds = 0.3,
  maxReps = 200,
): number {
  const fn = () => tf.dispose(tf.tidy(make));
  fn();
  const times: number[] = [];
  const start = performance.now();
  while (
    times.length < maxReps &&
    (times.length < minReps || performance.now() - start < minSeconds * 1000)
  ) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
    if (performance.now() - start > 20_000) break; // slow backends: stop after 20 s
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function randn(n: number, seed: number, scale = 1): Float32Array {
  const u = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u())), a = 2 * Math.PI * u();
    out[i] = scale * r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = scale * r * Math.sin(a);
  }
  return out;
}

// ---------------------------------------------------------------- header

const torch = await torchAvailable();
console.log("# tfjs native backend benchmark\n");
console.log(`machine: ${cpuModel() ?? "unknown CPU"}, ${navigator.hardwareConcurrency} CPUs`);
console.log(
  `deno ${Deno.version.deno}, tfjs-core ${tf.version_core}; native on ${openblas.describe()}`,
);
console.log(`load average at start: ${fmt(loadAvg())}`);
console.log(
  `PyTorch: ${torch.ok ? torch.version : `not available (${torch.reason}); reference skipped`}${
    torch.env ? `\nPyTorch env: ${torch.env}` : ""
  }\n`,
);

// ---------------------------------------------------------------- matMul

const M = 128, K = 784, N = 256;
const mmRows: (string | number)[][] = [];
const forms: [string, boolean, boolean][] = [
  ["A B", false, false],
  ["A^T B", true, false],
  ["A B^T", false, true],
  ["A^T B^T", true, true],
];
const mmFlops = 2 * M * K * N;
const mm: Record<string, Record<string, number>> = {};
for (const backend of backends) {
  await tf.setBackend(backend);
  const a = tf.tensor(randn(M * K, 1)), b = tf.tensor(randn(K * N, 2));
  for (const [name, ta, tb] of forms) {
    const A = tf.reshape(a, ta ? [K, M] : [M, K]) as tf.Tensor2D;
    const B = tf.reshape(b, tb ? [N, K] : [K, N]) as tf.Tensor2D;
    const s = timeIt(() => tf.matMul(A, B, ta, tb), 5, 0.3);
    (mm[name] ??= {})[backend] = mmFlops / s / 1e9;
    tf.dispose([A, B]);
  }
  tf.dispose([a, b]);
}
console.log(`## matMul ${M}x${K}x${N} (GFLOP/s, median)\n`);
for (const [name] of forms) {
  mmRows.push([
    name,
    ...backends.map((b) => fmt(mm[name][b], 1)),
    ...(torch.ok ? [fmt(torch.result?.matmul?.[name] ?? NaN, 1)] : []),
  ]);
}
table(["form", ...backends, ...(torch.ok ? ["torch (best)"] : [])], mmRows);
if (torch.winners?.matmul) console.log(`torch (best), per form: ${torch.winners.matmul}\n`);

// ---------------------------------------------------------------- conv2d

const convLayers: { name: string; x: number[]; f: number[]; pad: "same" | "valid" }[] = [
  { name: "conv1 28x28x1 -> 6, 5x5 same", x: [128, 28, 28, 1], f: [5, 5, 1, 6], pad: "same" },
  { name: "conv2 14x14x6 -> 16, 5x5 valid", x: [128, 14, 14, 6], f: [5, 5, 6, 16], pad: "valid" },
];
console.log("## conv2d, batch 128 (ms per call, median; GFLOP/s in brackets)\n");
const convRows: (string | number)[][] = [];
for (const layer of convLayers) {
  const info = tf.backend_util.computeConv2DInfo(
    layer.x as [number, number, number, number],
    layer.f as [number, number, number, number],
    1,
    1,
    layer.pad,
  );
  const flops = 2 * info.outShape.reduce((p, d) => p * d, 1) * layer.f[0] * layer.f[1] * layer.f[2];
  const res: Record<string, [number, number, number]> = {};
  for (const backend of backends) {
    await tf.setBackend(backend);
    const shape4 = (s: number[]) => s as [number, number, number, number];
    const x = tf.tensor4d(randn(layer.x.reduce((p, d) => p * d), 3), shape4(layer.x));
    const f = tf.tensor4d(randn(layer.f.reduce((p, d) => p * d), 4, 0.2), shape4(layer.f));
    const dy = tf.tensor(
      randn(info.outShape.reduce((p, d) => p * d), 5),
      info.outShape,
    ) as tf.Tensor4D;
    const attrs = { strides: 1, pad: layer.pad, dilations: 1, dataFormat: "NHWC" };
    const reps = backend === "cpu" ? 2 : 5;
    const grad = tf.getGradient(tf.Conv2D)!.gradFunc(dy, [x, f], attrs);
    res[backend] = [
      timeIt(() => tf.conv2d(x, f, 1, layer.pad), reps),
      timeIt(() => grad.x(), reps),
      timeIt(() => grad.filter(), reps),
    ];
    tf.dispose([x, f, dy]);
  }
  ["forward", "grad input", "grad filter"].forEach((pass, i) => {
    const key = ["forward", "input", "filter"][i];
    const t = torch.result?.conv?.[layer.name]?.[key];
    convRows.push([
      `${layer.name}: ${pass}`,
      ...backends.map((b) => `${fmt(res[b][i] * 1000)} (${fmt(flops / res[b][i] / 1e9, 1)})`),
      ...(torch.ok ? [t ? `${fmt(t * 1000)} (${fmt(flops / t / 1e9, 1)})` : "-"] : []),
    ]);
  });
}
table(["layer / pass", ...backends, ...(torch.ok ? ["torch (best)"] : [])], convRows);
if (torch.winners?.conv) console.log(`torch (best), per pass: ${torch.winners.conv}\n`);

// ---------------------------------------------------------------- training epochs

const train = await loadMnist({ split: "train" });
const test = await loadMnist({ split: "test" });
const BATCH = 128;

interface Model {
  params: tf.Variable[];
  forward(x: tf.Tensor): tf.Tensor;
  /** Input shape of one sample. */
  sample: number[];
}

/** A variable from values (the initial tensor is freed, so the variable owns its storage). */
function param(values: Float32Array | null, shape: number[]): tf.Variable {
  return tf.tidy(() => tf.variable(values ? tf.tensor(values, shape) : tf.zeros(shape)));
}

function dense(inDim: number, out: number, seed: number): tf.Variable[] {
  return [param(randn(inDim * out, seed, Math.sqrt(2 / inDim)), [inDim, out]), param(null, [out])];
}

function mlp(seed: number): Model {
  const sizes = [784, 256, 256, 256, 10];
  const params = sizes.slice(1).flatMap((d, i) => dense(sizes[i], d, seed + i));
  return {
    params,
    sample: [784],
    forward(x) {
      let h = x;
      for (let i = 0; i < 4; i++) {
        h = tf.add(tf.matMul(h as tf.Tensor2D, params[2 * i] as tf.Tensor2D), params[2 * i + 1]);
        if (i < 3) h = tf.relu(h);
      }
      return h;
    },
  };
}

/**
 * maxPool 2x2/2 whose gradient is the MaxPoolGrad kernel. lib/train's registered gradient
 * builds it from elementwise ops on every backend (tfjs-wasm's MaxPoolGrad is wrong); the
 * "LeNet-5, MaxPoolGrad" rows show what using the kernel on native gains.
 */
const maxPoolViaKernel = tf.customGrad(
  ((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const y = tf.maxPool(x as tf.Tensor4D, 2, 2, "valid");
    save([x, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        tf.engine().runKernel(
          "MaxPoolGrad",
          { dy: dy as tf.Tensor, input: saved[0], output: saved[1] },
          { filterSize: 2, strides: 2, pad: "valid" },
        ) as tf.Tensor,
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0],
) as (x: tf.Tensor) => tf.Tensor;

function lenet5(seed: number, poolKernel = false): Model {
  const pool = (h: tf.Tensor) =>
    poolKernel ? maxPoolViaKernel(h) : tf.maxPool(h as tf.Tensor4D, 2, 2, "valid");
  const conv = (f: number[], s: number) => [
    param(randn(f[0] * f[1] * f[2] * f[3], s, Math.sqrt(2 / (f[0] * f[1] * f[2]))), f),
    param(null, [f[3]]),
  ];
  const params = [
    ...conv([5, 5, 1, 6], seed),
    ...conv([5, 5, 6, 16], seed + 1),
    ...dense(400, 120, seed + 2),
    ...dense(120, 84, seed + 3),
    ...dense(84, 10, seed + 4),
  ];
  const [c1, c1b, c2, c2b, ...fc] = params;
  return {
    params,
    sample: [28, 28, 1],
    forward(x) {
      let h = tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, c1 as tf.Tensor4D, 1, "same"), c1b));
      h = pool(h);
      h = tf.relu(tf.add(tf.conv2d(h as tf.Tensor4D, c2 as tf.Tensor4D, 1, "valid"), c2b));
      h = pool(h);
      let z = tf.reshape(h, [h.shape[0], 400]);
      for (let i = 0; i < 3; i++) {
        z = tf.add(tf.matMul(z as tf.Tensor2D, fc[2 * i] as tf.Tensor2D), fc[2 * i + 1]);
        if (i < 2) z = tf.relu(z);
      }
      return z;
    },
  };
}

function crossEntropy(logits: tf.Tensor, onehot: tf.Tensor): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
}

function batchOf(data: MnistData, order: Int32Array, s: number, e: number, sample: number[]) {
  const n = e - s, d = 784;
  const x = new Float32Array(n * d), onehot = new Float32Array(n * 10), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const j = order[s + i];
    x.set(data.images.subarray(j * d, (j + 1) * d), i * d);
    labels[i] = data.labels[j];
    onehot[i * 10 + labels[i]] = 1;
  }
  return {
    x: tf.tensor(x, [n, ...sample]),
    onehot: tf.tensor2d(onehot, [n, 10]),
    labels,
  };
}

interface EpochResult {
  seconds: number;
  steps: number;
  msPerStep: number;
  /** Median step: robust to other jobs on the machine (the mean includes their interference). */
  medianMs: number;
  /** Process CPU seconds, scaled like `seconds` when extrapolated. */
  cpuSeconds: number;
  loss: number;
  extrapolated: boolean;
}

type Stepper = { step(pairs: [tf.Variable, tf.Tensor][]): void; dispose(): void };

/**
 * Trains `model` for up to `maxBatches` batches of one epoch (all 469 when Infinity), as
 * lib/train's e2e step does (variableGrads, optimizer step, loss and accuracy read back).
 */
async function epoch(
  backend: string,
  make: (seed: number) => Model,
  optimizer: () => Stepper,
  maxBatches: number,
): Promise<EpochResult> {
  await tf.setBackend(backend);
  const model = make(7);
  const adam = optimizer();
  const u = mulberry32(11);
  const order = new Int32Array(train.n).map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const total = Math.ceil(train.n / BATCH);
  const batches = Math.min(total, maxBatches);
  const run = (b: number) => {
    const s = b * BATCH, e = Math.min(train.n, s + BATCH);
    const { x, onehot, labels } = batchOf(train, order, s, e, model.sample);
    let logits: tf.Tensor | null = null;
    const { value, grads } = tf.variableGrads(() => {
      const z = model.forward(x);
      logits = tf.keep(z);
      return crossEntropy(z, onehot);
    }, model.params);
    adam.step(model.params.map((p) => [p, grads[p.name]]));
    const loss = value.dataSync()[0];
    const pred = tf.argMax(logits!, 1);
    const p = pred.dataSync();
    let correct = 0;
    for (let i = 0; i < labels.length; i++) correct += +(p[i] === labels[i]);
    tf.dispose([x, onehot, value, pred, logits!, ...Object.values(grads)]);
    return loss + 0 * correct;
  };
  for (let b = 0; b < Math.min(3, batches); b++) run(b); // warm-up (JIT, pools), not timed
  let loss = NaN;
  const stepMs: number[] = [];
  const c0 = cpuSeconds();
  const t0 = performance.now();
  for (let b = 0; b < batches; b++) {
    const s0 = performance.now();
    loss = run(b);
    stepMs.push(performance.now() - s0);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds() - c0;
  stepMs.sort((a, b) => a - b);
  adam.dispose();
  tf.dispose(model.params);
  const msPerStep = (seconds * 1000) / batches;
  return {
    seconds: batches < total ? (msPerStep * total) / 1000 : seconds,
    steps: batches,
    msPerStep,
    medianMs: stepMs[stepMs.length >> 1],
    cpuSeconds: (cpu * total) / batches,
    loss,
    extrapolated: batches < total,
  };
}

async function accuracy(
  backend: string,
  make: (seed: number) => Model,
  steps: number,
): Promise<number> {
  // a short run to check that training on this backend actually learns
  await tf.setBackend(backend);
  const model = make(3);
  const adam = new FusedAdam({ learningRate: 1e-3 });
  const order = new Int32Array(train.n).map((_, i) => i);
  for (let b = 0; b < steps; b++) {
    const { x, onehot } = batchOf(train, order, b * BATCH, (b + 1) * BATCH, model.sample);
    const { value, grads } = tf.variableGrads(
      () => crossEntropy(model.forward(x), onehot),
      model.params,
    );
    adam.step(model.params.map((p) => [p, grads[p.name]]));
    tf.dispose([x, onehot, value, ...Object.values(grads)]);
  }
  let correct = 0;
  const all = new Int32Array(test.n).map((_, i) => i);
  for (let s = 0; s < test.n; s += 1000) {
    const { x, labels } = batchOf(test, all, s, Math.min(test.n, s + 1000), model.sample);
    const pred = tf.tidy(() => tf.argMax(model.forward(x), 1));
    const p = pred.dataSync();
    for (let i = 0; i < labels.length; i++) correct += +(p[i] === labels[i]);
    tf.dispose([x, pred]);
  }
  adam.dispose();
  tf.dispose(model.params);
  return correct / test.n;
}

const fused = () => new FusedAdam({ learningRate: 1e-3 });
const opsAdam = () => new Adam({ lr: 1e-3, weightDecay: 0 });
const epochRows: (string | number)[][] = [];
const results: Record<string, EpochResult> = {};
const models: [string, (seed: number) => Model, boolean][] = [
  ["MLP 784-256-256-256-10", mlp, true],
  ["LeNet-5", (s) => lenet5(s), true],
  ["LeNet-5, MaxPoolGrad", (s) => lenet5(s, true), false],
];
for (const [name, make, withOthers] of models) {
  nativeFallbacks(true);
  type Run = [string, string, () => Promise<EpochResult>];
  const runs: Run[] = [
    ["native", "FusedAdam", () => epoch(NATIVE_BACKEND, make, fused, EPOCH_BATCHES)],
  ];
  if (withOthers) {
    runs.push([
      "native",
      "Adam from tfjs ops",
      () => epoch(NATIVE_BACKEND, make, opsAdam, SLICE_BATCHES),
    ]);
    if (backends.includes("wasm")) {
      runs.push(["wasm", "Adam from tfjs ops", () => epoch("wasm", make, opsAdam, WASM_BATCHES)]);
    }
  }
  for (const [backend, optName, run] of runs) {
    const r = await run();
    results[`${name}/${backend}/${optName}`] = r;
    const ref = torch.result?.epoch?.[name.split(",")[0]] ?? (name.startsWith("MLP") ? 1.7 : NaN);
    epochRows.push([
      name,
      backend,
      optName,
      `${fmt(r.seconds)}${r.extrapolated ? ` (${r.steps} batches, extrapolated)` : ""}`,
      fmt(r.msPerStep),
      fmt(r.medianMs),
      fmt(r.cpuSeconds),
      fmt(r.loss, 3),
      fmt(r.seconds / ref),
    ]);
  }
  const fb = nativeFallbacks(true);
  if (Object.keys(fb).length) {
    console.log(`${name}: kernels passed to cpu on native: ${JSON.stringify(fb)}`);
  }
}
const refNote = torch.ok
  ? `PyTorch measured in this run (the faster of its thread configs: ${torch.winners?.epoch})`
  : "PyTorch not installed: MLP ratio against the issue's 1.7 s, no LeNet reference";
console.log(`## one MNIST epoch (469 batches of 128, Adam lr 1e-3)\n`);
table(
  [
    "model",
    "backend",
    "optimizer",
    "epoch (s)",
    "ms/step",
    "median ms/step",
    "CPU s",
    "last loss",
    "vs torch",
  ],
  epochRows,
);
console.log(`vs torch: ${refNote}\n`);
for (const r of torch.perConfig ?? []) {
  const epochs = Object.entries(r.result.epoch ?? {}).map(([k, v]) => `${k} ${fmt(v)} s`);
  const mms = Object.entries(r.result.matmul ?? {}).map(([k, v]) => `${k} ${fmt(v, 1)}`);
  console.log(
    `PyTorch ${r.cfg.name} (${r.cfg.label}): epochs ${epochs.join(", ")}; matMul GFLOP/s ` +
      mms.join(", "),
  );
}

if (!QUICK) {
  const acc = await accuracy(NATIVE_BACKEND, mlp, 200);
  console.log(`sanity: MLP on native after 200 steps: test accuracy ${fmt(acc * 100, 1)}%`);
}
const pool = (tf.findBackend(NATIVE_BACKEND) as NativeBackend | null)?.poolStats();
if (pool) console.log(`native buffer pool: ${JSON.stringify(pool)}`);
console.log(
  `live tensors at end: ${tf.memory().numTensors}; load average at end: ${fmt(loadAvg())}`,
);

// ---------------------------------------------------------------- helpers

interface TorchResult {
  matmul?: Record<string, number>;
  conv?: Record<string, Record<string, number>>;
  epoch?: Record<string, number>;
}

interface TorchProbe {
  ok: boolean;
  version?: string;
  reason?: string;
  /** OPENBLAS_CORETYPE and the thread configs, for the header. */
  env?: string;
  /** Per figure, the best over the thread configs. */
  result?: TorchResult;
  /** Which config won, per table ("matmul", "conv", "epoch"): e.g. "MLP: blas, LeNet-5: omp". */
  winners?: Record<string, string>;
  perConfig?: { cfg: TorchConfig; result: TorchResult }[];
}

/** Per figure the best over the configs' results: highest GFLOP/s, lowest seconds. */
function bestOf(runs: { cfg: TorchConfig; result: TorchResult }[]) {
  const best: TorchResult = { matmul: {}, conv: {}, epoch: {} };
  const won: Record<string, string[]> = { matmul: [], conv: [], epoch: [] };
  const pick = (
    table: "matmul" | "epoch",
    better: (a: number, b: number) => boolean,
  ) => {
    const names = new Set(runs.flatMap((r) => Object.keys(r.result[table] ?? {})));
    for (const name of names) {
      let w: { v: number; cfg: string } | null = null;
      for (const r of runs) {
        const v = r.result[table]?.[name];
        if (v !== undefined && Number.isFinite(v) && (!w || better(v, w.v))) {
          w = { v, cfg: r.cfg.name };
        }
      }
      if (w) {
        best[table]![name] = w.v;
        won[table].push(`${name}: ${w.cfg}`);
      }
    }
  };
  pick("matmul", (a, b) => a > b);
  pick("epoch", (a, b) => a < b);
  const layers = new Set(runs.flatMap((r) => Object.keys(r.result.conv ?? {})));
  for (const layer of layers) {
    for (const pass of ["forward", "input", "filter"]) {
      let w: { v: number; cfg: string } | null = null;
      for (const r of runs) {
        const v = r.result.conv?.[layer]?.[pass];
        if (v !== undefined && Number.isFinite(v) && (!w || v < w.v)) w = { v, cfg: r.cfg.name };
      }
      if (w) {
        (best.conv![layer] ??= {})[pass] = w.v;
        won.conv.push(`${layer.split(" ")[0]} ${pass}: ${w.cfg}`);
      }
    }
  }
  return {
    result: best,
    winners: Object.fromEntries(Object.entries(won).map(([k, v]) => [k, v.join(", ")])),
  };
}

async function torchAvailable(): Promise<TorchProbe> {
  if (args.has("--skip-torch")) return { ok: false, reason: "--skip-torch" };
  const coreType = torchCoreType();
  const probe = await findTorch(coreType.env);
  if (!probe.ok) return { ok: false, reason: probe.reason };
  const only = Deno.args.find((a) => a.startsWith("--torch-configs="))?.split("=")[1];
  const configs = torchThreadConfigs(probe.info, navigator.hardwareConcurrency, only);
  const version = `PyTorch ${describeTorch(probe.info)} under ${probe.python}` +
    (configs.length > 1 ? `, best of ${configs.length} thread configs per figure` : "");
  const env = `${coreType.note}; configs: ${
    configs.map((c) => `${c.name} = ${c.label}`).join("; ")
  }`;
  const script = new URL("./bench_torch.py", import.meta.url).pathname;
  const mnist = await embeddedMnistDir();
  const perConfig: { cfg: TorchConfig; result: TorchResult }[] = [];
  for (const cfg of configs) {
    console.error(`PyTorch, ${cfg.name} (${cfg.label}):`);
    const out = await new Deno.Command(probe.python, {
      args: [
        script,
        "--mnist-dir",
        mnist,
        "--threads",
        String(cfg.torchThreads),
        ...(QUICK ? ["--quick"] : []),
      ],
      env: torchEnv(coreType.env, cfg),
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
    try {
      perConfig.push({ cfg, result: JSON.parse(lines[lines.length - 1]) });
    } catch {
      console.error(`bench_torch.py failed under ${cfg.name} (exit ${out.code})`);
    }
  }
  if (!perConfig.length) return { ok: true, version: `${version} (bench_torch.py failed)`, env };
  return { ok: true, version, env, perConfig, ...bestOf(perConfig) };
}

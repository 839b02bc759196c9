/**
 * The gradients training uses (tfjs' stock rules plus lib/train/autodiff/overrides.ts) against
 * central differences, on every backend, and an inventory: every float kernel that real training
 * steps record on the tape has a registered gradient and is exercised by a case here.
 */
import assert from "node:assert/strict";
import { tf } from "../lib/train/mod.ts";
import { getLinalg } from "../lib/linalg/mod.ts";
import { AdaptiveAvgPool, headPoolTarget } from "../lib/train/layers/adaptive_avg_pool.ts";
import { BatchNorm } from "../lib/train/layers/batch_norm.ts";
import { ParamStore } from "../lib/train/layers/layer.ts";
import { crossEntropy } from "../lib/train/losses/cross_entropy.ts";
import { trainMethod } from "../lib/train/mod.ts";
import { checkJobAgainstInput, resolveTrainingRequest } from "../lib/train/mod.ts";
import type { MethodSpec } from "../lib/train/mod.ts";
import { registerNativeBackend, SOFTMAX_CE } from "../lib/native/mod.ts";
import { gradientError, mnist } from "./train_helpers.ts";

type Case = [string, number[], (v: tf.Tensor) => tf.Tensor];

const W = (k: number, ci: number, co: number) =>
  tf.randomNormal([k, k, ci, co], 0, 0.5, "float32", 2) as tf.Tensor4D;
const X = (h: number, w: number, c: number) =>
  tf.randomNormal([2, h, w, c], 0, 1, "float32", 1) as tf.Tensor4D;

function cases(): Case[] {
  const out: Case[] = [];
  for (
    const [h, w, ci, co, k, s, pad] of [
      [7, 7, 3, 4, 3, 1, "same"],
      [7, 7, 3, 4, 3, 2, "same"],
      [8, 8, 3, 4, 3, 2, "same"],
      [7, 6, 3, 4, 3, 1, "valid"],
      [7, 7, 3, 4, 3, 2, "valid"],
      [8, 9, 2, 3, 1, 2, "same"],
      [9, 9, 2, 3, 5, 3, "same"],
    ] as const
  ) {
    const wt = W(k, ci, co), xt = X(h, w, ci);
    const tag = `${h}x${w}x${ci} k${k} s${s} ${pad}`;
    out.push([`conv2d dx ${tag}`, [2, h, w, ci], (x) => tf.conv2d(x as tf.Tensor4D, wt, s, pad)]);
    out.push([`conv2d dW ${tag}`, [k, k, ci, co], (v) => tf.conv2d(xt, v as tf.Tensor4D, s, pad)]);
  }
  for (const [h, k, s] of [[6, 2, 2], [7, 2, 2], [7, 3, 2], [6, 3, 1]] as const) {
    out.push([
      `maxPool ${h} k${k} s${s}`,
      [2, h, h, 3],
      (x) => tf.maxPool(x as tf.Tensor4D, k, s, "valid"),
    ]);
    out.push([
      `avgPool ${h} k${k} s${s}`,
      [2, h, h, 3],
      (x) => tf.avgPool(x as tf.Tensor4D, k, s, "valid"),
    ]);
  }
  const b = tf.randomNormal([4], 0, 1, "float32", 3);
  const m = tf.randomNormal([5, 4], 0, 1, "float32", 4);
  out.push(
    ["add (broadcast)", [3, 4], (x) => tf.add(tf.reshape(x, [3, 1, 4]), b)],
    ["sub/mul/div", [3, 4], (x) => tf.div(tf.mul(tf.sub(x, b), x), tf.add(tf.square(b), 1))],
    ["div denominator", [4], (x) => tf.div(m, tf.add(tf.square(x), 1))],
    ["maximum/minimum", [3, 4], (x) => tf.add(tf.maximum(x, b), tf.minimum(x, 0.3))],
    ["exp/log/sqrt/rsqrt", [3, 4], (x) => {
      const p = tf.add(tf.square(x), 0.5);
      return tf.addN([tf.exp(tf.mul(x, 0.3)), tf.log(p), tf.sqrt(p), tf.rsqrt(p)]);
    }],
    [
      "activations",
      [3, 4],
      (x) => tf.addN([tf.relu(x), tf.tanh(x), tf.sigmoid(x), tf.leakyRelu(x, 0.2)]),
    ],
    ["abs/neg/clip", [3, 4], (x) => tf.add(tf.abs(tf.neg(x)), tf.clipByValue(x, -0.5, 0.5))],
    [
      "sum/mean/max",
      [3, 4],
      (x) => tf.concat([tf.sum(x, 1, true), tf.mean(x, 1, true), tf.max(x, 1, true)], 1),
    ],
    ["reductions, all axes", [3, 4], (x) => tf.stack([tf.sum(x), tf.mean(x), tf.max(x)])],
    ["matMul", [4, 5], (x) => tf.matMul(m, x)],
    ["matMul transposeA", [5, 3], (x) => tf.matMul(x, m, true, false)],
    ["matMul transposeB", [3, 4], (x) => tf.matMul(x, m, false, true)],
    ["matMul both", [4, 2], (x) => tf.matMul(x, m, true, true)],
    [
      "transpose/reshape/slice/pad",
      [3, 4],
      (x) =>
        tf.pad(tf.slice(tf.transpose(tf.reshape(x, [2, 6])), [1, 0], [4, 2]), [[1, 0], [0, 2]]),
    ],
    ["logSoftmax", [3, 4], (x) => tf.logSoftmax(x)],
    ["clone/cast", [3, 4], (x) => tf.mul(tf.clone(x), tf.cast(x, "float32"))],
    [
      "concat/stack/expandDims",
      [3, 4],
      (x) => tf.concat([tf.stack([x, tf.square(x)]), tf.expandDims(x, 0)]),
    ],
    // the fused softmax cross-entropy kernel on "native", its composition elsewhere
    [
      "cross-entropy: logits",
      [4, 5],
      (x) => crossEntropy(x, tf.cast(tf.oneHot([0, 3, 1, 4], 5), "float32")),
    ],
  );
  // The fused kernels the layers use on "native" (their gradients are registered for every
  // backend): bias + ReLU after matMul and conv2d. The bias shift puts every pre-activation far
  // from the ReLU's kink (central differences across it are meaningless), alternating signs so
  // that both sides are checked. 3-D operands: tfjs-wasm's _FusedMatMul takes nothing else.
  const fa = tf.randomNormal([3, 4], 0, 1, "float32", 8);
  const fb = tf.randomNormal([5], 0, 1, "float32", 9);
  const fm = tf.randomNormal([4, 5], 0, 1, "float32", 10);
  const shift5 = tf.tensor1d([12, -12, 12, -12, 12]);
  const r3 = (t: tf.Tensor) => tf.reshape(t, [1, ...t.shape]);
  const fused = (a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor, tb = false) =>
    tf.engine().runKernel(tf._FusedMatMul, { a: r3(a), b: r3(b), bias: tf.add(bias, shift5) }, {
      transposeA: false,
      transposeB: tb,
      activation: "relu",
    }) as tf.Tensor;
  const cw = W(3, 3, 4), cx = X(7, 7, 3), cb = tf.randomNormal([4], 0, 1, "float32", 11);
  const shift4 = tf.tensor1d([25, -25, 25, -25]);
  const fconv = (x: tf.Tensor, f: tf.Tensor, b: tf.Tensor, st: number, pad: "same" | "valid") =>
    tf.engine().runKernel(tf.FusedConv2D, { x, filter: f, bias: tf.add(b, shift4) }, {
      strides: st,
      pad,
      dataFormat: "NHWC",
      dilations: [1, 1],
      activation: "relu",
    }) as tf.Tensor;
  out.push(
    ["fused matMul + bias + relu: a", [3, 4], (x) => fused(x, fm, fb)],
    ["fused matMul + bias + relu: b", [4, 5], (v) => fused(fa, v, fb)],
    ["fused matMul + bias + relu: bias", [5], (v) => fused(fa, fm, v)],
    ["fused matMul transposeB + bias + relu: b", [5, 4], (v) => fused(fa, v, fb, true)],
    ["fused conv2d + bias + relu: x, s2 same", [2, 7, 7, 3], (x) => fconv(x, cw, cb, 2, "same")],
    ["fused conv2d + bias + relu: filter", [3, 3, 3, 4], (v) => fconv(cx, v, cb, 1, "valid")],
    ["fused conv2d + bias + relu: bias", [4], (v) => fconv(cx, cw, v, 1, "same")],
  );
  return out;
}

// "native" (lib/native) when OpenBLAS loads: other kernels (fused layers and loss, sgemm with
// transpose flags, MaxPoolGrad), where wasm has rules of its own (explicit transposes, conv and
// max-pool gradients from forward ops).
const native = registerNativeBackend().ok ? ["native"] : [];

/** Runs `fn` and returns the kernels it records on the gradient tape with a float32 output. */
async function tapeKernels(fn: () => unknown): Promise<Set<string>> {
  type AddTapeNode = (name: string, inputs: unknown, outputs: tf.Tensor[], ...r: unknown[]) => void;
  const engine = tf.engine() as unknown as { addTapeNode: AddTapeNode };
  const original = engine.addTapeNode;
  const seen = new Set<string>();
  engine.addTapeNode = function (this: unknown, name, inputs, outputs, ...rest) {
    // Scopes (customGrad ops) are not kernels; boolean outputs (comparisons) carry no gradient.
    if (tf.getKernel(name, tf.getBackend()) && outputs.some((t) => t.dtype === "float32")) {
      seen.add(name);
    }
    return original.call(this, name, inputs, outputs, ...rest);
  };
  try {
    await fn();
  } finally {
    engine.addTapeNode = original;
  }
  return seen;
}

// Small versions of everything a job can ask for: dense/conv (with and without bias, strided,
// "same" and "valid"), batchNorm, the activations, both pools (overlapping max-pool windows
// too), dropout, a residual block, every method, head, local loss and nHSIC target.
const IMAGE_BLOCKS = [
  {
    layers: [
      { type: "conv2d", filters: 4, kernel: 3, stride: 2 },
      { type: "batchNorm" },
      { type: "leakyRelu", alpha: 0.1 },
      { type: "maxPool2d", size: 3, stride: 2 },
    ],
  },
  { type: "residual", filters: 4 },
  {
    layers: [
      { type: "conv2d", filters: 4, kernel: 3, padding: "valid" },
      { type: "relu" },
      { type: "avgPool2d", size: 2 },
      { type: "dropout", rate: 0.2 },
    ],
  },
];
const JOBS: Array<[unknown, MethodSpec[]]> = [
  [{ preset: "mlp", depth: 2, width: 16 }, [
    { name: "e2e" },
    { name: "layerwise", head: "mlp", nhsic_lambda: 0.1 },
    { name: "layerwise", loss: "supervised_contrastive", nhsic_lambda: 0.1, nhsic_target: "local" },
    { name: "sequential" },
  ]],
  [{
    blocks: [...IMAGE_BLOCKS, {
      layers: [
        { type: "flatten" },
        { type: "dense", units: 16 },
        { type: "tanh" },
        { type: "dense", units: 8 },
        { type: "sigmoid" },
      ],
    }],
  }, [{ name: "e2e" }, { name: "layerwise", loss: "similarity" }]],
  [{ blocks: IMAGE_BLOCKS, classifier_pool: "global_avg" }, [
    { name: "layerwise", head: "conv" },
    { name: "layerwise", loss: "similarity" },
  ]],
];

/** The kernels one short run of every job in JOBS records on the tape (the active backend). */
async function trainingKernels(backend: string): Promise<Set<string>> {
  const ds = await mnist(64, 128);
  const seen = new Set<string>();
  for (const [model, methods] of JOBS) {
    const job = resolveTrainingRequest({
      dataset: { name: "mnist", train_limit: 64, test_limit: 128 },
      model,
      methods,
      optimizer: { batch_size: 32, epochs: 1 },
      tracking: { probe_size: 32, probe_batch: 32, first_epoch_points: 0 },
      backend,
    });
    const plan = checkJobAgainstInput(job, ds.shape, ds.numClasses);
    for (const m of job.methods) {
      const run = () =>
        trainMethod({
          job,
          dataset: ds,
          plan,
          method: { ...m, label: m.label ?? m.name },
          backend: { name: backend as "wasm", device: "test" },
          linalg: getLinalg(),
        });
      for (const k of await tapeKernels(run)) seen.add(k);
    }
  }
  return seen;
}

for (const backend of ["wasm", "cpu", ...native]) {
  Deno.test(`autodiff: gradients match central differences (${backend})`, async () => {
    await tf.setBackend(backend);
    const all = cases();
    const before = tf.memory().numTensors;
    const failed: string[] = [];
    for (const [name, shape, fn] of all) {
      const { err, scale } = gradientError(shape, fn);
      if (!(err <= 5e-3 * Math.max(1, scale))) {
        failed.push(`${name}: error ${err} (scale ${scale})`);
      }
    }
    assert.deepStrictEqual(failed, []);
    // cases() made a few constants per call; nothing else may stay behind.
    assert(
      tf.memory().numTensors - before < 60,
      `tensors left: ${tf.memory().numTensors - before}`,
    );
  });

  Deno.test(`autodiff: every kernel training records has a gradient and a case (${backend})`, async () => {
    await tf.setBackend(backend);
    const used = await trainingKernels(backend);
    const covered = await tapeKernels(() => {
      for (const [, shape, fn] of cases()) {
        const v = tf.variable(tf.randomNormal(shape, 0, 1, "float32", 5));
        tf.dispose(tf.variableGrads(() => tf.sum(fn(v)) as tf.Scalar, [v]).grads);
        v.dispose();
      }
    });
    const missing = [...used].filter((k) => tf.getGradient(k) === undefined);
    assert.deepStrictEqual(missing, [], "kernels without a gradient");
    const untested = [...used].filter((k) => !covered.has(k));
    assert.deepStrictEqual(untested, [], "kernels no central-difference case exercises");
    // Sanity: the run saw the kernels it must (the fused ones and the fused loss on native).
    const expect = backend === "native"
      ? ["_FusedMatMul", "FusedConv2D", SOFTMAX_CE, "MaxPool", "Rsqrt"]
      : ["BatchMatMul", "Conv2D", "MaxPool", "AvgPool", "Rsqrt"];
    for (const k of expect) assert(used.has(k), `${k} not seen in training (${[...used]})`);
  });
}

Deno.test("autodiff: batchNorm and adaptive pooling layers (wasm)", async () => {
  await tf.setBackend("wasm");
  const store = new ParamStore(0);
  const bn = new BatchNorm(store, "bn", [5, 5, 3]);
  const ctx = { training: true, nextSeed: () => 0 };
  const pool = new AdaptiveAvgPool([7, 5, 3], 3, 2);
  for (
    const [name, shape, fn] of [
      ["batchNorm (training)", [4, 5, 5, 3], (x: tf.Tensor) => bn.apply(x, ctx)],
      ["adaptive average pool 7x5 -> 3x2", [2, 7, 5, 3], (x: tf.Tensor) => pool.apply(x)],
    ] as Case[]
  ) {
    const { err, scale } = gradientError(shape, fn);
    assert(err <= 5e-3 * Math.max(1, scale), `${name}: error ${err} (scale ${scale})`);
  }
  // PyTorch's adaptive windows: rows {0,1,2}, {2,3,4}, {4,5,6} of 7 -> 3.
  const x = tf.tensor4d(Array.from({ length: 7 }, (_, i) => i), [1, 7, 1, 1]);
  assert.deepStrictEqual(Array.from(new AdaptiveAvgPool([7, 1, 1], 3, 1).apply(x).dataSync()), [
    1,
    3,
    5,
  ]);
  assert.deepStrictEqual(headPoolTarget(28, 28, 16), { oh: 7, ow: 7 });
  assert.deepStrictEqual(headPoolTarget(7, 7, 64), { oh: 4, ow: 4 });
  assert.deepStrictEqual(headPoolTarget(3, 3, 4096), { oh: 1, ow: 1 });
  store.dispose();
  tf.dispose(x);
});

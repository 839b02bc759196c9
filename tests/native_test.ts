import assert from "node:assert/strict";
import { native, noNative, on, rand, randInt, sameOnBoth, tf } from "./native_util.ts";
import { NATIVE_BACKEND, NATIVE_KERNELS, NATIVE_PRIORITY } from "../lib/native/mod.ts";

const t = (name: string, fn: () => Promise<void> | void) =>
  Deno.test({ name: `native: ${name}`, ignore: noNative, fn });

const T = (v: Float32Array, shape: number[]) => tf.tensor(v.slice(), shape, "float32");

t("registers below cpu and is only used when asked for", () => {
  assert(native.ok, native.reason);
  assert(/openblas/.test(native.describe ?? ""), native.describe);
  assert(tf.findBackendFactory(NATIVE_BACKEND) !== null);
  assert(NATIVE_PRIORITY < 1, "cpu registers with priority 1");
  for (const k of NATIVE_KERNELS) assert(tf.getKernel(k.kernelName, NATIVE_BACKEND), k.kernelName);
  // every cpu kernel is available on native too
  for (const k of tf.getKernelsForBackend("cpu")) {
    assert(tf.getKernel(k.kernelName, NATIVE_BACKEND), `missing ${k.kernelName}`);
  }
});

t("matMul: all transpose forms, 1xN, Nx1, empty inner dim", async () => {
  const dims: [number, number, number][] = [
    [7, 13, 5],
    [1, 9, 6],
    [8, 9, 1],
    [1, 1, 1],
    [6, 1, 4],
    [33, 70, 17],
    [128, 784, 256],
  ];
  let seed = 1;
  for (const [m, k, n] of dims) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const a = rand(m * k, seed++), b = rand(k * n, seed++);
        await sameOnBoth(`matMul ${m}x${k}x${n} ta=${ta} tb=${tb}`, () =>
          tf.matMul(
            T(a, ta ? [k, m] : [m, k]),
            T(b, tb ? [n, k] : [k, n]),
            ta,
            tb,
          ), 1e-5);
      }
    }
  }
  await sameOnBoth("matMul k=0", () => tf.matMul(tf.zeros([3, 0]), tf.zeros([0, 4])));
});

t("matMul: batched with broadcasting", async () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[3, 4, 5], [5, 6], false, false],
    [[3, 5, 4], [6, 5], true, true],
    [[3, 4, 5], [3, 5, 6], false, false],
    [[3, 4, 5], [3, 6, 5], false, true],
    [[1, 4, 5], [3, 5, 6], false, false],
    [[3, 5, 4], [1, 5, 6], true, false],
    [[2, 3, 4, 5], [2, 3, 5, 6], false, false],
    [[4, 5], [3, 5, 6], false, false],
  ];
  let seed = 100;
  for (const [as, bs, ta, tb] of cases) {
    const a = rand(as.reduce((x, y) => x * y), seed++),
      b = rand(bs.reduce((x, y) => x * y), seed++);
    await sameOnBoth(`batchMatMul ${as} x ${bs}`, () => tf.matMul(T(a, as), T(b, bs), ta, tb));
  }
  // Two-sided broadcast: the cpu kernel indexes batches modulo their count, so compare with
  // explicitly tiled operands instead.
  const a = rand(2 * 4 * 5, 7), b = rand(3 * 5 * 6, 8);
  const [nat] = await on("native", () => tf.matMul(T(a, [2, 1, 4, 5]), T(b, [1, 3, 5, 6])));
  const [ref] = await on(
    "cpu",
    () =>
      tf.matMul(
        tf.tile(T(a, [2, 1, 4, 5]), [1, 3, 1, 1]),
        tf.tile(T(b, [1, 3, 5, 6]), [2, 1, 1, 1]),
      ),
  );
  assert.deepStrictEqual(nat.shape, [2, 3, 4, 6]);
  assert(nat.values.every((v, i) => Math.abs(v - ref.values[i]) < 1e-5), "2x1 by 1x3 broadcast");
});

t("fused matMul: bias shapes and activations", async () => {
  const m = 9, k = 11, n = 7;
  const a = rand(m * k, 21), b = rand(k * n, 22);
  const acts = ["linear", "relu", "relu6", "elu", "sigmoid", "leakyrelu", "prelu"] as const;
  for (const activation of acts) {
    for (const biasShape of [[n], [1, n], [m, 1], [m, n], []] as number[][]) {
      const bias = rand(Math.max(1, biasShape.reduce((x, y) => x * y, 1)), 23, -3, 3);
      await sameOnBoth(`fused ${activation} bias [${biasShape}]`, () =>
        tf.fused.matMul({
          a: T(a, [k, m]),
          b: T(b, [n, k]),
          transposeA: true,
          transposeB: true,
          bias: T(bias, biasShape),
          activation,
          preluActivationWeights: activation === "prelu" ? T(rand(n, 24), [n]) : undefined,
          leakyreluAlpha: 0.3,
        }));
    }
  }
});

/** x [n, h, w, ci], filter [fh, fw, ci, co] with strides and padding. */
const convCases: [number[], number[], number, "same" | "valid" | number][] = [
  [[2, 9, 9, 1], [5, 5, 1, 4], 1, "same"], // rows layout, padded
  [[2, 9, 9, 3], [5, 5, 3, 2], 1, "valid"], // rows layout
  [[3, 8, 7, 3], [3, 3, 3, 5], 2, "same"], // cols layout (stride 2)
  [[2, 9, 9, 1], [5, 5, 1, 3], 2, "valid"],
  [[2, 6, 5, 3], [1, 1, 3, 4], 1, "same"], // pointwise
  [[2, 6, 5, 3], [1, 1, 3, 4], 2, "valid"], // 1x1 with stride: cols
  [[2, 7, 7, 16], [5, 5, 16, 3], 1, "same"], // wide channels: cols
  [[1, 5, 6, 2], [3, 3, 2, 1], 1, 1], // explicit padding
  [[40, 28, 28, 1], [5, 5, 1, 6], 1, "same"], // LeNet conv1, several chunks
  [[20, 14, 14, 6], [5, 5, 6, 16], 1, "valid"], // LeNet conv2
  [[9, 16, 16, 16], [5, 5, 16, 4], 1, "valid"], // cols layout, several chunks
];

t("conv2d forward, fused conv2d", async () => {
  let seed = 300;
  for (const [xs, fs, stride, pad] of convCases) {
    const x = rand(xs.reduce((a, b) => a * b), seed++),
      f = rand(fs.reduce((a, b) => a * b), seed++);
    const what = `conv2d x=[${xs}] f=[${fs}] s=${stride} ${pad}`;
    await sameOnBoth(
      what,
      () => tf.conv2d(T(x, xs) as tf.Tensor4D, T(f, fs) as tf.Tensor4D, stride, pad),
    );
    const bias = rand(fs[3], seed++);
    await sameOnBoth(`fused ${what}`, () =>
      tf.fused.conv2d({
        x: T(x, xs) as tf.Tensor4D,
        filter: T(f, fs) as tf.Tensor4D,
        strides: stride,
        pad,
        bias: T(bias, [fs[3]]),
        activation: "relu",
      }));
  }
});

t("conv2d backprop input and filter kernels", async () => {
  let seed = 400;
  for (const [xs, fs, stride, pad] of convCases) {
    const info = tf.backend_util.computeConv2DInfo(
      xs as [number, number, number, number],
      fs as [number, number, number, number],
      stride,
      1,
      pad,
    );
    const x = rand(xs.reduce((a, b) => a * b), seed++);
    const f = rand(fs.reduce((a, b) => a * b), seed++);
    const dy = rand(info.outShape.reduce((a, b) => a * b), seed++);
    const attrs = { strides: stride, pad, dataFormat: "NHWC", dimRoundingMode: undefined };
    const what = `x=[${xs}] f=[${fs}] s=${stride} ${pad}`;
    await sameOnBoth(`Conv2DBackpropInput ${what}`, () =>
      tf.engine().runKernel(
        "Conv2DBackpropInput",
        { dy: T(dy, info.outShape), filter: T(f, fs) },
        { ...attrs, inputShape: xs } as unknown as tf.NamedAttrMap,
      ) as tf.Tensor);
    await sameOnBoth(`Conv2DBackpropFilter ${what}`, () =>
      tf.engine().runKernel(
        "Conv2DBackpropFilter",
        { x: T(x, xs), dy: T(dy, info.outShape) },
        { ...attrs, filterShape: fs } as unknown as tf.NamedAttrMap,
      ) as tf.Tensor, 2e-5);
  }
});

t("pooling forward and gradient kernels (with ties)", async () => {
  const cases: [number[], number, number, "same" | "valid"][] = [
    [[2, 8, 8, 1], 2, 2, "valid"],
    [[2, 9, 7, 3], 2, 2, "same"],
    [[2, 9, 9, 6], 3, 2, "same"],
    [[1, 6, 6, 3], 3, 1, "valid"],
    [[3, 5, 5, 2], 3, 1, "same"],
  ];
  let seed = 500;
  for (const [xs, size, stride, pad] of cases) {
    const n = xs.reduce((a, b) => a * b);
    const special = rand(n, seed++);
    special[0] = -Infinity;
    special[n - 1] = NaN;
    special[n >> 1] = Infinity;
    for (const x of [rand(n, seed++), randInt(n, seed++, 3), special]) {
      const what = `x=[${xs}] k=${size} s=${stride} ${pad}`;
      await sameOnBoth(
        `maxPool ${what}`,
        () => tf.maxPool(T(x, xs) as tf.Tensor4D, size, stride, pad),
      );
      await sameOnBoth(
        `avgPool ${what}`,
        () => tf.avgPool(T(x, xs) as tf.Tensor4D, size, stride, pad),
      );
      const ys = tf.backend_util.computePool2DInfo(
        xs as [number, number, number, number],
        size,
        stride,
        1,
        pad,
      ).outShape;
      const dy = rand(ys.reduce((a, b) => a * b), seed++);
      const attrs = { filterSize: size, strides: stride, pad } as unknown as tf.NamedAttrMap;
      await sameOnBoth(`MaxPoolGrad ${what}`, () => {
        const xt = T(x, xs) as tf.Tensor4D;
        const y = tf.maxPool(xt, size, stride, pad);
        return tf.engine().runKernel(
          "MaxPoolGrad",
          { dy: T(dy, ys), input: xt, output: y },
          attrs,
        ) as tf.Tensor;
      });
      await sameOnBoth(
        `AvgPoolGrad ${what}`,
        () =>
          tf.engine().runKernel(
            "AvgPoolGrad",
            { dy: T(dy, ys), input: T(x, xs) },
            attrs,
          ) as tf.Tensor,
      );
    }
  }
});

t("binary ops: every broadcast layout, fallbacks, comparisons", async () => {
  const pairs: [number[], number[]][] = [
    [[4, 5], [4, 5]], // same shape
    [[4, 5], []], // scalar b
    [[], [4, 5]], // scalar a
    [[3, 4, 5], [5]], // row b
    [[1, 5], [3, 4, 5]], // row a
    [[4, 5], [4, 1]], // column b
    [[3, 1, 1], [3, 4, 5]], // column a
    [[2, 3, 4], [2, 3, 1]], // column b, rank 3
    [[4, 1], [1, 5]], // outer: column a, row b
    [[5], [4, 1]], // outer: row a, column b
    [[2, 3, 1, 1], [4, 5]], // outer, rank 4
    [[2, 1, 3], [1, 4, 1]], // two-sided: cpu fallback
    [[3, 1, 5], [3, 4, 5]], // middle broadcast: cpu fallback
  ];
  const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ["add", tf.add],
    ["sub", tf.sub],
    ["mul", tf.mul],
    ["div", tf.div],
    ["maximum", tf.maximum],
    ["minimum", tf.minimum],
    ["squaredDifference", tf.squaredDifference],
    ["equal", tf.equal],
    ["notEqual", tf.notEqual],
    ["greater", tf.greater],
    ["greaterEqual", tf.greaterEqual],
    ["less", tf.less],
    ["lessEqual", tf.lessEqual],
  ];
  let seed = 600;
  for (const [as, bs] of pairs) {
    const a = randInt(Math.max(1, as.reduce((x, y) => x * y, 1)), seed++, 4);
    const b = randInt(Math.max(1, bs.reduce((x, y) => x * y, 1)), seed++, 4);
    b[0] = 0; // division by zero
    for (const [name, op] of ops) {
      await sameOnBoth(`${name} [${as}] [${bs}]`, () => op(T(a, as), T(b, bs)), 0);
    }
  }
  // int32 goes to the cpu kernels
  await sameOnBoth(
    "int32 add",
    () => tf.add(tf.tensor([1, 2, 3], [3], "int32"), tf.scalar(4, "int32")),
    0,
  );
});

t("unary ops, Step/Relu with NaN, Cast to float32", async () => {
  const x = rand(257, 700, -4, 4);
  x[3] = NaN;
  x[4] = 0;
  x[5] = -0;
  x[6] = Infinity;
  x[7] = -Infinity;
  const pos = rand(257, 701, 0.01, 5);
  const ops: [string, (t: tf.Tensor) => tf.Tensor, boolean][] = [
    ["relu", tf.relu, false],
    ["relu6", tf.relu6, false],
    ["leakyRelu", (v) => tf.leakyRelu(v, 0.15), false],
    ["step", (v) => tf.step(v, 0.25), false],
    ["step0", (v) => tf.step(v), false],
    ["sigmoid", tf.sigmoid, false],
    ["tanh", tf.tanh, false],
    ["elu", tf.elu, false],
    ["exp", tf.exp, false],
    ["neg", tf.neg, false],
    ["square", tf.square, false],
    ["abs", tf.abs, false],
    ["reciprocal", tf.reciprocal, false],
    ["log", tf.log, true],
    ["sqrt", tf.sqrt, true],
    ["rsqrt", tf.rsqrt, true],
  ];
  for (const [name, op, positive] of ops) {
    const v = positive ? pos : x;
    await sameOnBoth(name, () => op(T(v, [257])), 0);
  }
  const ints = tf.tensor([1, -2, 3, 0], [2, 2], "int32");
  const [nat] = await on(
    "native",
    () => tf.mul(tf.cast(tf.tensor([1, -2, 3, 0], [2, 2], "int32"), "float32"), 0.5),
  );
  assert.deepStrictEqual(nat.values, [0.5, -1, 1.5, 0]);
  ints.dispose();
  await sameOnBoth("cast bool", () => tf.add(tf.cast(tf.greater(T(x, [257]), 0), "float32"), 1), 0);
});

t("reductions and softmax", async () => {
  const shape = [3, 4, 5];
  const x = rand(60, 800, -3, 3);
  const axes: (number | number[] | undefined)[] = [
    0,
    1,
    2,
    -1,
    [0, 1],
    [1, 2],
    [0, 1, 2],
    undefined,
    [0, 2],
  ];
  for (const axis of axes) {
    for (const keep of [false, true]) {
      const what = `axis ${JSON.stringify(axis)} keepDims ${keep}`;
      await sameOnBoth(`sum ${what}`, () => tf.sum(T(x, shape), axis, keep), 0);
      await sameOnBoth(`mean ${what}`, () => tf.mean(T(x, shape), axis, keep), 0);
      await sameOnBoth(`max ${what}`, () => tf.max(T(x, shape), axis, keep), 0);
      await sameOnBoth(`min ${what}`, () => tf.min(T(x, shape), axis, keep), 0);
    }
  }
  const withNaN = x.slice();
  withNaN[7] = NaN;
  await sameOnBoth("max with NaN", () => tf.max(T(withNaN, shape), 1), 0);
  await sameOnBoth("softmax", () => tf.softmax(T(x, [12, 5])), 0);
  await sameOnBoth("softmax rank 3", () => tf.softmax(T(x, shape)), 0);
  await sameOnBoth("logSoftmax", () => tf.logSoftmax(T(x, [12, 5])), 1e-6);
});

t("transpose", async () => {
  const perms: [number[], number[]][] = [
    [[7, 9], [1, 0]],
    [[3, 4, 5], [0, 2, 1]],
    [[3, 4, 5], [2, 0, 1]],
    [[3, 4, 5], [1, 2, 0]],
    [[2, 3, 4, 5], [0, 3, 1, 2]],
    [[3, 4, 5], [1, 0, 2]], // not a block swap: cpu fallback
    [[3, 4, 5], [0, 1, 2]],
    [[1, 6], [1, 0]],
  ];
  let seed = 900;
  for (const [shape, perm] of perms) {
    const x = rand(shape.reduce((a, b) => a * b), seed++);
    await sameOnBoth(`transpose [${shape}] [${perm}]`, () => tf.transpose(T(x, shape), perm), 0);
  }
});

t("gradients through tf.grads: dense, conv, pooling, softmax cross-entropy", async () => {
  const x = rand(6 * 12 * 12 * 2, 1000), f = rand(3 * 3 * 2 * 4, 1001);
  const w = rand(6 * 6 * 4 * 5, 1002), bias = rand(5, 1003), y = randInt(6, 1004, 5);
  const fn = () => {
    const labels = tf.oneHot(tf.tensor1d(Array.from(y), "int32"), 5);
    const g = tf.grads((xt: tf.Tensor, ft: tf.Tensor, wt: tf.Tensor, bt: tf.Tensor) => {
      const c = tf.relu(tf.conv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, 1, "same"));
      const p = tf.maxPool(c, 2, 2, "valid");
      const z = tf.add(tf.matMul(tf.reshape(p, [6, 6 * 6 * 4]), wt), bt);
      return tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.logSoftmax(z)), -1)));
    });
    return g([T(x, [6, 12, 12, 2]), T(f, [3, 3, 2, 4]), T(w, [144, 5]), T(bias, [5])]);
  };
  await sameOnBoth("grads", fn, 1e-4);
});

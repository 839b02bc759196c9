import assert from "node:assert/strict";
import { assertClose, noNative, on, rand, randInt, type Result, tf } from "./native_util.ts";
import { CONV_RELU_POOL, loadCKernels, type NativeBackend, RELU_GRAD } from "../lib/native/mod.ts";

const ck = noNative ? null : loadCKernels();

const reluGrad = (dy: tf.Tensor, x: tf.Tensor) =>
  tf.engine().runKernel(RELU_GRAD, { dy, x }) as tf.Tensor;

function test(name: string, fn: () => Promise<void> | void) {
  Deno.test({ name: `C kernels: ${name}`, ignore: ck === null, fn });
}

/** Runs fn on the native backend with the C kernels (true) or without. */
async function withCk(use: boolean, fn: () => tf.Tensor | tf.Tensor[]): Promise<Result[]> {
  await tf.setBackend("native");
  const backend = tf.backend() as NativeBackend;
  const saved = backend.ck;
  backend.ck = use ? ck : null;
  try {
    return await on("native", fn);
  } finally {
    backend.ck = saved;
  }
}

/** Same shapes and the same values, compared with Object.is (so -0 differs from +0). */
function assertSameBits(a: Result[], b: Result[], what: string): void {
  assert.deepStrictEqual(a.length, b.length, `${what}: outputs`);
  for (let k = 0; k < a.length; k++) {
    assert.deepStrictEqual(a[k].shape, b[k].shape, `${what}[${k}]: shape`);
    const x = a[k].values, y = b[k].values;
    for (let i = 0; i < y.length; i++) {
      if (!Object.is(x[i], y[i])) {
        assert.fail(`${what}[${k}]: element ${i} is ${x[i]} with C, ${y[i]} without`);
      }
    }
  }
}

/** With the C kernels and without: the same bits, or within `tol` (relative) when given. */
async function bothWays(
  what: string,
  fn: () => tf.Tensor | tf.Tensor[],
  tol = 0,
): Promise<void> {
  const withC = await withCk(true, fn);
  const without = await withCk(false, fn);
  if (tol === 0) assertSameBits(withC, without, what);
  else assertClose(withC, without, tol, what);
}

/** Runs fn with INFOPLANE_KERNEL_THREADS set to `threads`. */
async function withThreads(threads: number, fn: () => Promise<Result[]>): Promise<Result[]> {
  const saved = Deno.env.get("INFOPLANE_KERNEL_THREADS");
  Deno.env.set("INFOPLANE_KERNEL_THREADS", String(threads));
  try {
    return await fn();
  } finally {
    if (saved === undefined) Deno.env.delete("INFOPLANE_KERNEL_THREADS");
    else Deno.env.set("INFOPLANE_KERNEL_THREADS", saved);
  }
}

test("the library loads and reports its ABI", () => {
  assert(ck!.path.endsWith(".so"), ck!.path);
});

// Stride-1 layers (the C kernels' direct convolutions): LeNet's two, the suite's conv net (3x3,
// 16/32 channels: two vectors of channels per tile), a "dot" forward (few output channels, 16
// input channels: the input channels on the vector axis), more than two vectors of channels,
// rows wider than a tile, odd sizes and padding, a single image.
const convCases: Array<
  {
    x: [number, number, number, number];
    f: [number, number, number, number];
    pad: "same" | "valid";
  }
> = [
  { x: [9, 28, 28, 1], f: [5, 5, 1, 6], pad: "same" },
  { x: [16, 14, 14, 6], f: [5, 5, 6, 16], pad: "valid" },
  { x: [3, 14, 14, 16], f: [3, 3, 16, 32], pad: "same" },
  { x: [2, 9, 11, 16], f: [3, 3, 16, 6], pad: "same" },
  { x: [2, 7, 7, 20], f: [3, 3, 20, 40], pad: "same" },
  { x: [1, 5, 37, 3], f: [3, 5, 3, 5], pad: "valid" },
  { x: [2, 9, 7, 3], f: [3, 2, 3, 4], pad: "same" },
];

for (const [i, c] of convCases.entries()) {
  test(`conv2d forward, fused bias + relu, and both gradients, case ${i}`, async () => {
    const [n, h, w, ci] = c.x, [fh, fw, , co] = c.f;
    const x = rand(n * h * w * ci, 10 + i), f = rand(fh * fw * ci * co, 20 + i, -0.3, 0.3);
    const bias = rand(co, 30 + i, -0.5, 0.5);
    // a NaN in the last case: ReLU must keep NaN on both paths
    if (i === convCases.length - 1) x[7] = NaN;
    const forward = () => {
      const xt = tf.tensor4d(x, c.x), ft = tf.tensor4d(f, c.f);
      const y = tf.conv2d(xt, ft, 1, c.pad);
      const fused = tf.fused.conv2d({
        x: xt,
        filter: ft,
        strides: 1,
        pad: c.pad,
        bias: tf.tensor1d(bias),
        activation: "relu",
      });
      const linear = tf.fused.conv2d({ x: xt, filter: ft, strides: 1, pad: c.pad });
      const dy = tf.tensor4d(rand(y.size, 40 + i), y.shape as [number, number, number, number]);
      const dx = tf.conv2dTranspose(dy, ft, c.x, 1, c.pad);
      return [y, fused, linear, dx];
    };
    const filterGrad = () => {
      const xt = tf.tensor4d(x, c.x);
      const oshape = tf.conv2d(xt, tf.zeros(c.f) as tf.Tensor4D, 1, c.pad).shape;
      const dy = tf.tensor4d(rand(oshape.reduce((a, b) => a * b, 1), 40 + i), oshape);
      return tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: xt, dy }, {
        strides: 1,
        pad: c.pad,
        dataFormat: "NHWC",
        filterShape: c.f,
      }) as tf.Tensor;
    };
    // the direct kernels sum in another order than im2col + sgemm: float32 rounding apart
    await bothWays(`conv ${i}`, forward, 1e-6);
    await bothWays(`conv ${i} filter gradient`, filterGrad, 1e-6);
    // and the cpu backend (tfjs' own loops) agrees too
    assertClose(
      await withCk(true, () => [...forward(), filterGrad()]),
      await on("cpu", () => [...forward(), filterGrad()]),
      1e-5,
      `conv ${i}, C vs cpu`,
    );
    // chunks on 1 or 3 threads: the same bits (no races, a fixed summation order)
    const one = await withThreads(1, () => withCk(true, () => [...forward(), filterGrad()]));
    const three = await withThreads(3, () => withCk(true, () => [...forward(), filterGrad()]));
    assertSameBits(three, one, `conv ${i}, 3 threads vs 1`);
    // AVX-512, AVX2 and scalar: the same chains of fused multiply-adds, the same bits
    const best = ck!.directIsa();
    try {
      for (const cap of [8, 1]) {
        if (cap >= best) continue;
        ck!.directIsa(cap);
        const other = await withCk(true, () => [...forward(), filterGrad()]);
        assertSameBits(other, one, `conv ${i}, ${cap} lanes vs ${best}`);
      }
    } finally {
      ck!.directIsa(16);
    }
  });
}

test("max pooling and its gradient: 2x2 tiles, odd sizes, overlapping windows, ties, NaN", async () => {
  const cases: Array<[[number, number, number, number], number, number, "same" | "valid"]> = [
    [[4, 28, 28, 6], 2, 2, "valid"],
    [[3, 8, 6, 20], 2, 2, "valid"],
    [[2, 7, 9, 3], 2, 2, "valid"],
    [[2, 9, 9, 4], 3, 2, "same"],
  ];
  for (const [k, [shape, size, stride, pad]] of cases.entries()) {
    const n = shape.reduce((a, b) => a * b, 1);
    // small integers: many ties between window elements (the first maximum must win)
    const x = randInt(n, 50 + k, 4);
    x[3] = NaN;
    x[17] = -Infinity;
    const pool = () => {
      const xt = tf.tensor4d(x, shape);
      const y = tf.maxPool(xt, size, stride, pad);
      const dy = tf.tensor4d(rand(y.size, 60 + k), y.shape as [number, number, number, number]);
      const dx = tf.engine().runKernel(tf.MaxPoolGrad, { dy, input: xt, output: y }, {
        filterSize: size,
        strides: stride,
        pad,
      }) as tf.Tensor;
      return [y, dx];
    };
    await bothWays(`pool ${k}`, pool);
    // chunks of images on 3 threads: the same bits
    assertSameBits(
      await withThreads(3, () => withCk(true, pool)),
      await withThreads(1, () => withCk(true, pool)),
      `pool ${k}, 3 threads vs 1`,
    );
  }
});

test("ReLU gradient: the C kernel, the bit-twiddled TS loop and mul(dy, step(x)) agree", async () => {
  const n = 4096;
  const x = rand(n, 70), dy = rand(n, 71);
  // the awkward values: signed zeros, infinities, NaN, in x and in dy
  const odd = [0, -0, Infinity, -Infinity, NaN, 1e-40, -1e-40];
  for (let i = 0; i < odd.length; i++) {
    for (let j = 0; j < odd.length; j++) {
      x[i * odd.length + j] = odd[i];
      dy[i * odd.length + j] = odd[j] || (j % 2 ? -0.5 : 0.5);
    }
  }
  const expected = await on("cpu", () => tf.mul(tf.tensor1d(dy), tf.step(tf.tensor1d(x))));
  const fn = () => reluGrad(tf.tensor1d(dy), tf.tensor1d(x));
  assertSameBits(await withCk(true, fn), expected, "C");
  assertSameBits(await withCk(false, fn), expected, "TS");
  // finite inputs take the bit-twiddled loop (NaN sends the TS kernel to its multiply)
  const xf = rand(n, 72), dyf = rand(n, 73);
  xf[5] = 0;
  xf[6] = -0;
  const finite = () => reluGrad(tf.tensor1d(dyf), tf.tensor1d(xf));
  assertSameBits(
    await withCk(false, finite),
    await on("cpu", () => tf.mul(tf.tensor1d(dyf), tf.step(tf.tensor1d(xf)))),
    "TS, finite",
  );
});

test("sums over a middle block of axes (bias gradients)", async () => {
  const x = rand(64 * 28 * 28 * 6, 80);
  await bothWays("sum", () => {
    const t = tf.tensor4d(x, [64, 28, 28, 6]);
    return [tf.sum(t, [0, 1, 2]), tf.sum(t, 3), tf.sum(t, [1, 2]), tf.sum(tf.reshape(t, [-1]))];
  });
});

test("a LeNet-5 training step gives the same loss and gradients with and without them", async () => {
  const n = 16;
  const x = rand(n * 28 * 28, 90), labels = Array.from({ length: n }, (_, i) => i % 10);
  const w1 = rand(5 * 5 * 1 * 6, 91, -0.2, 0.2), w2 = rand(5 * 5 * 6 * 16, 92, -0.1, 0.1);
  const b1 = rand(6, 93, -0.1, 0.1), b2 = rand(16, 94, -0.1, 0.1);
  await bothWays("lenet step", () => {
    const xt = tf.tensor4d(x, [n, 28, 28, 1]);
    const y = tf.oneHot(tf.tensor1d(labels, "int32"), 10);
    const vars = [tf.tensor4d(w1, [5, 5, 1, 6]), tf.tensor4d(w2, [5, 5, 6, 16])];
    const bs = [tf.tensor1d(b1), tf.tensor1d(b2)];
    const head = tf.tensor2d(rand(400 * 10, 95, -0.05, 0.05), [400, 10]);
    // conv + bias + relu, then 2x2 max pooling
    const block = (h: tf.Tensor4D, w: tf.Tensor, b: tf.Tensor1D, pad: "same" | "valid") =>
      tf.maxPool(
        tf.fused.conv2d({
          x: h,
          filter: w as tf.Tensor4D,
          strides: 1,
          pad,
          bias: b,
          activation: "relu",
        }),
        2,
        2,
        "valid",
      );
    const loss = (w1t: tf.Tensor, w2t: tf.Tensor, hd: tf.Tensor) => {
      const p2 = block(block(xt, w1t, bs[0], "same"), w2t, bs[1], "valid");
      const logits = tf.matMul(tf.reshape(p2, [n, 400]), hd as tf.Tensor2D);
      return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
    };
    const { value, grads } = tf.valueAndGrads(loss)([vars[0], vars[1], head]);
    return [value, ...grads];
  }, 1e-6);
});

test("GEMM: every transpose form, bias and ReLU, odd sizes; against OpenBLAS and cpu", async () => {
  if (!ck!.gemmAvailable()) return; // no AVX-512: matMul runs on OpenBLAS either way
  const shapes: Array<[number, number, number]> = [
    [128, 256, 784],
    [7, 10, 5],
    [13, 70, 1],
    [1, 33, 17],
    [50, 129, 64],
  ];
  for (const [m, n, k] of shapes) {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
      const a = rand(m * k, m + n + k), b = rand(k * n, m * n + k), bias = rand(n, 7 * n);
      const fn = () => {
        const at = tf.tensor2d(a, ta ? [k, m] : [m, k]), bt = tf.tensor2d(b, tb ? [n, k] : [k, n]);
        const plain = tf.matMul(at, bt, ta, tb);
        const fused = tf.fused.matMul({
          a: at,
          b: bt,
          transposeA: ta,
          transposeB: tb,
          bias: tf.tensor1d(bias),
          activation: "relu",
        });
        return [plain, fused];
      };
      const what = `gemm ${m}x${n}x${k} ${ta ? "T" : "N"}${tb ? "T" : "N"}`;
      await bothWays(what, fn, 1e-6);
      assertClose(await withCk(true, fn), await on("cpu", fn), 1e-5, `${what}, C vs cpu`);
      const one = await withThreads(1, () => withCk(true, fn));
      const three = await withThreads(3, () => withCk(true, fn));
      assertSameBits(three, one, `${what}, 3 threads vs 1`);
    }
  }
});

test("fused conv + bias + ReLU + 2x2 max pool: the bits of FusedConv2D then MaxPool, gradients too", async () => {
  const cases: Array<{ x: [number, number, number, number]; f: number[]; pad: "same" | "valid" }> =
    [
      { x: [9, 28, 28, 1], f: [5, 5, 1, 6], pad: "same" },
      { x: [5, 14, 14, 6], f: [5, 5, 6, 16], pad: "valid" },
      { x: [3, 14, 14, 16], f: [3, 3, 16, 32], pad: "same" },
      // a "dot" sweep (few output channels, 16 inputs): the C kernel declines, the TS path pools
      { x: [2, 8, 8, 16], f: [3, 3, 16, 6], pad: "same" },
    ];
  for (const [i, c] of cases.entries()) {
    const [fh, fw, ci, co] = c.f;
    // small integers in x: ties inside pooling windows, zeros after the ReLU
    const x = randInt(c.x.reduce((a, b) => a * b, 1), 100 + i, 3);
    for (let j = 0; j < x.length; j++) x[j] -= 1;
    if (i === 0) x[40] = NaN;
    const f = rand(fh * fw * ci * co, 110 + i, -0.5, 0.5), b = rand(co, 120 + i, -0.2, 0.2);
    const model = (fused: boolean) => () => {
      const xt = tf.tensor4d(x, c.x), ft = tf.tensor4d(f, c.f as typeof c.x), bt = tf.tensor1d(b);
      const forward = (xx: tf.Tensor, ff: tf.Tensor, bb: tf.Tensor) =>
        fused
          ? tf.engine().runKernel(CONV_RELU_POOL, { x: xx, filter: ff, bias: bb }, {
            strides: 1,
            pad: c.pad,
            dataFormat: "NHWC",
            dilations: [1, 1],
          }) as tf.Tensor4D
          : tf.maxPool(
            tf.fused.conv2d({
              x: xx as tf.Tensor4D,
              filter: ff as tf.Tensor4D,
              strides: 1,
              pad: c.pad,
              bias: bb,
              activation: "relu",
            }),
            2,
            2,
            "valid",
          );
      const p = forward(xt, ft, bt);
      const dy = tf.tensor(rand(p.size, 130 + i), p.shape);
      const grads = tf.grads((xx, ff, bb) => tf.sum(tf.mul(forward(xx, ff, bb), dy)))([xt, ft, bt]);
      return [p, ...grads];
    };
    const unfused = await withCk(true, model(false));
    assertSameBits(await withCk(true, model(true)), unfused, `conv-pool ${i}, C vs unfused`);
    assertSameBits(
      await withCk(false, model(true)),
      await withCk(false, model(false)),
      `conv-pool ${i}, TS`,
    );
    assertClose(await on("cpu", model(false)), unfused, 1e-5, `conv-pool ${i}, cpu`);
  }
});

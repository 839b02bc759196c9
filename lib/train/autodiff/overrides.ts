/**
 * The gradient rules training needs beyond tfjs' stock ones. lib/train/tf.ts imports the
 * @tensorflow/tfjs union package, which registers tfjs' own reverse-mode rules (about 100
 * kernels) in the registry every tfjs copy shares, and then calls
 * {@link registerGradientOverrides}. Each rule below says why it exists:
 *
 * - kernels tfjs has no rule for: `_FusedMatMul`, `FusedConv2D` (the layers' fused
 *   bias + ReLU kernels on "native") and lib/native's fused softmax cross-entropy;
 * - rules that go wrong or slow on tfjs-backend-wasm (`BatchMatMul`, `Conv2D`, `MaxPool`):
 *   replaced there only, every other backend keeps the stock rule;
 * - rules whose stock form rounds differently from the rules lib/train had before it used the
 *   stock ones (`RealDiv`, `Rsqrt`): kept so that training results stay bit-identical.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { RELU_GRAD } from "../../native/mod.ts";
import { SOFTMAX_CE, SOFTMAX_CE_GRAD } from "../../native/mod.ts";
import { conv2dGradFilter, conv2dGradInput, type ConvAttrs } from "../ops/conv2d_grad.ts";
import { maxPoolGrad } from "../ops/max_pool_grad.ts";

type T = tf.Tensor;
type GradFunc = tf.GradConfig["gradFunc"];

/** Sums a broadcast gradient back down to the shape of the input it came from. */
function unbroadcast(g: T, shape: number[]): T {
  const axes = tf.backend_util.getReductionAxes(shape, g.shape);
  return tf.reshape(axes.length > 0 ? tf.sum(g, axes) : g, shape);
}

/** The stock rule of a kernel (the union package must have been imported). */
function stock(kernelName: string): tf.GradConfig {
  const g = tf.getGradient(kernelName);
  if (!g) throw new Error(`tfjs registered no gradient for ${kernelName}: import lib/train/tf.ts`);
  return g;
}

/**
 * The stock rule of `kernelName`, with `rule` in its place on tfjs-backend-wasm. `rule` gets the
 * tensors the stock rule saves (same inputsToSave/outputsToSave).
 */
function onWasm(kernelName: string, rule: GradFunc): tf.GradConfig {
  const s = stock(kernelName);
  return {
    ...s,
    gradFunc: (dy, saved, attrs) =>
      tf.getBackend() === "wasm" ? rule(dy, saved, attrs) : s.gradFunc(dy, saved, attrs),
  };
}

/** Swaps the last two axes. */
function transposed(x: T): T {
  const perm = [...x.shape.keys()];
  perm.splice(-2, 2, x.rank - 1, x.rank - 2);
  return tf.transpose(x, perm);
}

/** dL/d(pre-activation) of a fused kernel from dL/dy and its output y. */
function preActivationGrad(dy: T, y: T, attrs: tf.NamedAttrMap, kernel: string): T {
  const act = (attrs.activation as string | undefined) ?? "linear";
  if (act === "linear") return dy;
  if (act !== "relu") throw new Error(`${kernel} gradient: activation "${act}" (linear, relu)`);
  // y > 0 exactly where the pre-activation is. "native" does dy * step(y) in one pass.
  return tf.getKernel(RELU_GRAD, tf.getBackend())
    ? tf.engine().runKernel(RELU_GRAD, { dy, x: y }) as T
    : tf.mul(dy, tf.step(y));
}

/** Checks what the wasm conv and pool formulations support. */
function assertPlain(attrs: tf.NamedAttrMap, kernel: string, pool = false): void {
  const pair = (v: unknown) => (typeof v === "number" ? [v, v] : (v as number[] | undefined));
  const ok = pool
    ? pair(attrs.filterSize)![0] === pair(attrs.filterSize)![1] &&
      pair(attrs.strides)![0] === pair(attrs.strides)![1] &&
      (attrs.pad === "valid" || attrs.pad === 0)
    : (pair(attrs.dilations) ?? [1]).every((d) => d === 1) &&
      ((attrs.dataFormat as string | undefined) ?? "NHWC") === "NHWC";
  if (!ok) {
    throw new Error(
      `${kernel} gradient on wasm: ${
        pool ? 'square windows and strides, "valid" padding' : "NHWC, dilations 1"
      } only`,
    );
  }
}

/** The rules of this module, built from the stock registry. */
function overrides(): tf.GradConfig[] {
  const mm = (a: T, b: T) => tf.matMul(a, b);
  return [
    // tfjs has no rule for the fused kernels: its tf.fused.* ops carry their gradient in the op
    // (customGrad) and do not fuse a ReLU while recording. The layers run the kernels directly
    // (native only, layers/fuse.ts, always with a bias); this rule keeps one tape node per layer
    // and leaves the matMul part to BatchMatMul's rule, so that an input that leads to no
    // variable (the first layer's) gets no gradient computed.
    {
      kernelName: tf._FusedMatMul,
      inputsToSave: ["a", "b", "bias"],
      outputsToSave: [true],
      gradFunc: (dy, [a, b, bias, y], attrs) => {
        const dz = preActivationGrad(dy as T, y, attrs, tf._FusedMatMul);
        const g = tf.getGradient(tf.BatchMatMul)!.gradFunc(dz, [a, b], attrs);
        return { a: g.a, b: g.b, bias: () => unbroadcast(dz, bias.shape) };
      },
    },
    // The same for conv2d + bias + ReLU, with Conv2D's rule.
    {
      kernelName: tf.FusedConv2D,
      inputsToSave: ["x", "filter", "bias"],
      outputsToSave: [true],
      gradFunc: (dy, [x, filter, bias, y], attrs) => {
        const dz = preActivationGrad(dy as T, y, attrs, tf.FusedConv2D);
        const g = tf.getGradient(tf.Conv2D)!.gradFunc(dz, [x, filter], attrs);
        return { x: g.x, filter: g.filter, bias: () => unbroadcast(dz, bias.shape) };
      },
    },
    // lib/native's fused softmax cross-entropy (lib/native/kernels/softmax_ce.ts) is not a tfjs
    // kernel. dL/dlogits by its companion kernel, (p S - onehot) dy / n per row (S = the row's
    // onehot sum); dL/donehot = -log softmax(logits) dy / n.
    {
      kernelName: SOFTMAX_CE,
      inputsToSave: ["logits", "onehot"],
      gradFunc: (dy, [logits, onehot]) => ({
        logits: () => tf.engine().runKernel(SOFTMAX_CE_GRAD, { logits, onehot, dy: dy as T }) as T,
        onehot: () => tf.mul(tf.logSoftmax(logits), tf.div(tf.neg(dy as T), logits.shape[0])),
      }),
    },
    // tfjs-wasm multiplies a transposed operand (the stock rule's transpose flags) far slower
    // than a plain one (docs/performance.md); an explicit transpose is one cheap pass.
    onWasm(tf.BatchMatMul, (dy, [a, b], attrs) => {
      const g = dy as T, ta = attrs.transposeA as boolean, tb = attrs.transposeB as boolean;
      if (!ta && !tb) return { a: () => mm(g, transposed(b)), b: () => mm(transposed(a), g) };
      if (!ta) return { a: () => mm(g, b), b: () => mm(transposed(g), a) };
      if (!tb) return { a: () => mm(b, transposed(g)), b: () => mm(a, g) };
      return { a: () => transposed(mm(g, b)), b: () => transposed(mm(a, g)) };
    }),
    // tfjs-wasm has no Conv2DBackpropFilter kernel, and its Conv2DBackpropInput is a plain loop:
    // both gradients as forward convolutions (ops/conv2d_grad.ts), which XNNPACK runs.
    onWasm(tf.Conv2D, (dy, [x, filter], attrs) => {
      assertPlain(attrs, tf.Conv2D);
      const a = attrs as unknown as ConvAttrs, g = dy as tf.Tensor4D;
      const fs = filter.shape as [number, number, number, number];
      return {
        x: () =>
          conv2dGradInput(x.shape as [number, number, number, number], g, filter as tf.Tensor4D, a),
        filter: () => conv2dGradFilter(x as tf.Tensor4D, g, fs, a),
      };
    }),
    // tfjs-wasm's MaxPoolGrad kernel drops entries (ops/max_pool_grad.ts).
    onWasm(tf.MaxPool, (dy, [x, y], attrs) => {
      assertPlain(attrs, tf.MaxPool, true);
      const size = [attrs.filterSize].flat()[0] as number;
      const stride = [attrs.strides].flat()[0] as number;
      return {
        x: () => maxPoolGrad(x as tf.Tensor4D, y as tf.Tensor4D, dy as tf.Tensor4D, size, stride),
      };
    }),
    // Bit-identity with the results of earlier versions (lib/train's own rules): stock sums
    // dy a over b's broadcast axes first and divides by b^2 after; this rule divides first. Only
    // rounding differs, but the layer-wise losses that normalise rows (similarity, supervised
    // contrastive, the nHSIC term) would train to other numbers (docs/performance.md).
    {
      ...stock(tf.RealDiv),
      gradFunc: (dy, [a, b]) => ({
        a: () => unbroadcast(tf.div(dy as T, b), a.shape),
        b: () => unbroadcast(tf.neg(tf.div(tf.mul(dy as T, a), tf.square(b))), b.shape),
      }),
    },
    // Bit-identity likewise (batchNorm): stock computes -dy / (2 x^1.5) through pow, this rule
    // -dy y^3 / 2 from the output y = x^-1/2.
    {
      kernelName: tf.Rsqrt,
      outputsToSave: [true],
      gradFunc: (dy, [y]) => ({ x: () => tf.mul(dy as T, tf.mul(tf.mul(y, tf.square(y)), -0.5)) }),
    },
  ];
}

let registered = false;

/**
 * Registers the rules of this module over tfjs' stock ones (once per isolate; later calls do
 * nothing). Needs the stock rules in place: lib/train/tf.ts does both.
 */
export function registerGradientOverrides(): void {
  if (registered) return;
  for (const g of overrides()) tf.registerGradient(g);
  registered = true;
}

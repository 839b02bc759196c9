import assert from "node:assert/strict";
import { assertClose, noNative, on, rand, tf } from "./native_util.ts";
import { crossEntropy } from "../lib/train/losses/cross_entropy.ts";
import { SOFTMAX_CE } from "../lib/native/mod.ts";

function test(name: string, fn: () => Promise<void> | void) {
  Deno.test({ name: `native loss: ${name}`, ignore: noNative, fn });
}

/** The composition lib/train used before (and still uses on other backends). */
function composed(logits: tf.Tensor, onehot: tf.Tensor): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
}

const n = 128, c = 10;
const logits = rand(n * c, 1, -8, 8);
const hard = new Float32Array(n * c);
for (let i = 0; i < n; i++) hard[i * c + (i * 7) % c] = 1;
// soft labels: rows that do not sum to one, as the gradient's S term must handle
const soft = rand(n * c, 2, 0, 0.3);

function lossAndGrads(loss: (l: tf.Tensor, y: tf.Tensor) => tf.Scalar, labels: Float32Array) {
  return () => {
    const l = tf.tensor2d(logits, [n, c]), y = tf.tensor2d(labels, [n, c]);
    const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => loss(a, b))([l, y]);
    return [value, ...grads];
  };
}

test("crossEntropy is one kernel on native", async () => {
  await tf.setBackend("native");
  const x = tf.tensor2d(logits, [n, c]), y = tf.tensor2d(hard, [n, c]);
  const info = await tf.profile(() => crossEntropy(x, y));
  assert.deepStrictEqual(info.kernelNames, [SOFTMAX_CE]);
  tf.dispose([x, y, info.result as tf.Tensor]);
});

for (const [what, labels] of [["one-hot", hard], ["soft", soft]] as const) {
  test(`${what} labels: the loss bit for bit, gradients within rounding`, async () => {
    const [fusedLoss, ...fusedGrads] = await on("native", lossAndGrads(crossEntropy, labels));
    const [nativeLoss, ...nativeGrads] = await on("native", lossAndGrads(composed, labels));
    const [cpuLoss] = await on("cpu", lossAndGrads(composed, labels));
    assert.deepStrictEqual(fusedLoss.values, nativeLoss.values, "fused vs composed on native");
    assert.deepStrictEqual(fusedLoss.values, cpuLoss.values, "fused vs composed on cpu");
    assertClose(fusedGrads, nativeGrads, 1e-6, `${what} gradients`);
  });
}

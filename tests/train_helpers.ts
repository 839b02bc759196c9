/** Shared helpers of the training tests: small MNIST subsets and numerical gradient checks. */
import { loadDataset } from "../lib/data/mod.ts";
import type { Dataset } from "../lib/data/mod.ts";
import { tf } from "../lib/train/mod.ts";

const cache = new Map<string, Promise<Dataset>>();

/** The first `train` / `test` MNIST samples (embedded copy, no network), cached per test file. */
export function mnist(train: number, test: number): Promise<Dataset> {
  const key = `${train}/${test}`;
  let p = cache.get(key);
  if (!p) {
    p = loadDataset({ name: "mnist", train_limit: train, test_limit: test }, {
      dataDir: Deno.makeTempDirSync({ prefix: "infoplane-train-" }),
    });
    cache.set(key, p);
  }
  return p;
}

/**
 * Largest |autodiff - central difference| of d/dv sum(fn(v) * proj) over every entry of v
 * (float32 on the active backend), and the largest |gradient| for scale.
 */
export function gradientError(
  shape: number[],
  fn: (v: tf.Tensor) => tf.Tensor,
  seed = 7,
  h = 1e-2,
): { err: number; scale: number } {
  const v = tf.variable(tf.randomNormal(shape, 0, 1, "float32", seed));
  const proj = tf.tidy(() => tf.randomNormal(fn(v).shape, 0, 1, "float32", seed + 1));
  const f = () => tf.sum(tf.mul(fn(v), proj)) as tf.Scalar;
  const g = tf.tidy(() => {
    const { grads } = tf.variableGrads(f, [v]);
    return grads[v.name];
  });
  const analytic = g.dataSync().slice();
  const base = Float32Array.from(v.dataSync());
  const at = (vals: Float32Array) => {
    tf.tidy(() => v.assign(tf.tensor(vals, shape)));
    return tf.tidy(() => f().dataSync()[0]);
  };
  let err = 0, scale = 0;
  for (let i = 0; i < base.length; i++) {
    const p = base.slice();
    p[i] += h;
    const fp = at(p);
    p[i] -= 2 * h;
    const fm = at(p);
    err = Math.max(err, Math.abs((fp - fm) / (2 * h) - analytic[i]));
    scale = Math.max(scale, Math.abs(analytic[i]));
  }
  tf.dispose([v, proj, g]);
  return { err, scale };
}

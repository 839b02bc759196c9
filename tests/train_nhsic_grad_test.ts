import assert from "node:assert/strict";
import { tf } from "../lib/train/mod.ts";
import { getLinalg } from "../lib/linalg/mod.ts";
import { resolveEstimator } from "../lib/nhsic/mod.ts";
import { measureDump } from "../lib/nhsic/mod.ts";
import { nhsicAgainst, regulariserKernel, targetOperatorT } from "../lib/train/losses/nhsic.ts";
import { inverse64, spdInverse } from "../lib/train/ops/spd_inverse.ts";
import { fillNormal, mulberry32 } from "../lib/train/random.ts";
Deno.test("spdInverse: forward in float64 and d(A^-1) = -A^-1 dA A^-1", async () => {
  await tf.setBackend("wasm");
  const m = 6;
  const rng = mulberry32(1);
  const b = fillNormal(new Float32Array(m * m), rng);
  const a = new Float32Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      let s = i === j ? 2 : 0;
      for (let k = 0; k < m; k++) s += b[i * m + k] * b[j * m + k] / m;
      a[i * m + j] = s;
    }
  }
  const w = tf.tensor2d(fillNormal(new Float32Array(m * m), rng), [m, m]);
  const av = tf.variable(tf.tensor2d(a, [m, m]));
  const f = () => tf.sum(tf.mul(w, spdInverse(av))) as tf.Scalar;
  // A A^-1 = I
  const prod = tf.matMul(av, spdInverse(av)).dataSync();
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) assert.ok(Math.abs((prod[i * m + j]) - (i === j ? 1 : 0)) <= 1e-5);
  }
  const { grads } = tf.variableGrads(f, [av]);
  const g = grads[av.name].dataSync();
  // Symmetric perturbations only: the op reads A through (A + A^T) / 2.
  const h = 1e-2;
  for (let i = 0; i < m; i++) {
    for (let j = i; j < m; j++) {
      const at = (d: number) => {
        const p = a.slice();
        p[i * m + j] += d;
        if (i !== j) p[j * m + i] += d;
        av.assign(tf.tensor2d(p, [m, m]));
        return f().dataSync()[0];
      };
      const num = (at(h) - at(-h)) / (2 * h);
      const ana = i === j ? g[i * m + i] : g[i * m + j] + g[j * m + i];
      assert.ok(Math.abs(ana - num) <= 2e-3 * Math.max(1, Math.abs(num)), `entry ${i},${j}`);
    }
  }
  tf.dispose([w, av, grads[av.name]]);
});

Deno.test("differentiable nHSIC: value matches the estimator, gradient matches float64 differences", async () => {
  await tf.setBackend("wasm");
  const m = 24, dx = 7, dt = 5;
  const rng = mulberry32(3);
  const x = fillNormal(new Float32Array(m * dx), rng);
  const t = fillNormal(new Float32Array(m * dt), rng);
  for (let i = 0; i < t.length; i++) t[i] = 2 * t[i] + x[i];
  const labels = new Int32Array(m).map((_, i) => i % 3);
  const cfg = resolveEstimator({});
  const reference = (values: Float64Array) =>
    measureDump(
      {
        x: { rows: m, cols: dx, data: x },
        labels,
        classes: 3,
        numClasses: 3,
        checkpoints: [{
          step: 0,
          layers: [{ name: "t", values: { rows: m, cols: dt, data: values } }],
        }],
      },
      cfg,
      { linalg: getLinalg() },
    ).checkpoints[0].layers[0].nhsic_x;

  const rxT = targetOperatorT(x, m, dx);
  const tv = tf.variable(tf.tensor2d(t, [m, dt]));
  const f = () => nhsicAgainst(rxT, tv);
  const t64 = Float64Array.from(t);
  const value = f().dataSync()[0];
  const ref = reference(t64);
  assert.ok(Math.abs(value - ref) <= 1e-4 * ref, "nHSIC(X;T)");
  assert(ref > 1, `a dependent T has nHSIC ${ref}`);

  const { grads } = tf.variableGrads(f, [tv]);
  const g = grads[tv.name].dataSync();
  let err = 0, scale = 0;
  for (let i = 0; i < t64.length; i++) {
    const h = 1e-5;
    const p = Float64Array.from(t64);
    p[i] += h;
    const fp = reference(p);
    p[i] -= 2 * h;
    const num = (fp - reference(p)) / (2 * h);
    err = Math.max(err, Math.abs(num - g[i]));
    scale = Math.max(scale, Math.abs(num));
  }
  assert(scale > 1e-3, `gradient scale ${scale}`);
  assert(err < 5e-3 * scale, `gradient error ${err} at scale ${scale}`);

  // The path of backends without synchronous reads (webgpu): the inverse is precomputed from the
  // same kernel matrix and handed in; value and gradient are those of the direct path.
  const s = regulariserKernel(tv);
  const given = tf.tensor2d(inverse64(s.dataSync() as Float32Array, m), [m, m]);
  const g2 = tf.variableGrads(() => nhsicAgainst(rxT, tv, given), [tv]);
  assert.ok(Math.abs((g2.value.dataSync()[0]) - value) <= 1e-5 * value);
  const gg = g2.grads[tv.name].dataSync();
  for (let i = 0; i < g.length; i++) assert.ok(Math.abs((gg[i]) - (g[i])) <= 1e-5 * scale);
  tf.dispose([rxT, tv, grads[tv.name], s, given, g2.value, g2.grads[tv.name]]);
});

import assert from "node:assert/strict";
import { noNative, rand, randInt, tf } from "./native_util.ts";
import {
  FusedAdam,
  FusedAdamOptimizer,
  NativeBackend,
  nativeFallbacks,
} from "../lib/native/mod.ts";
import { Adam } from "../lib/train/mod.ts";
import { AdamMoments } from "../lib/native/adam_simd.ts";

const t = (name: string, fn: () => Promise<void> | void) =>
  Deno.test({ name: `native training: ${name}`, ignore: noNative, fn });

/** Runs `fn` with `backend` active, then restores the previous one. */
async function using<T>(backend: string, fn: () => T | Promise<T>): Promise<T> {
  const prev = tf.getBackend() ?? "cpu";
  await tf.setBackend(backend);
  try {
    return await fn();
  } finally {
    await tf.setBackend(prev);
  }
}

/** Losses of `steps` optimizer steps of a 20-16-3 ReLU MLP on fixed data. */
function mlpLosses(makeOpt: () => tf.Optimizer, steps: number, seed = 1): number[] {
  const n = 32, d = 20, h = 16, k = 3;
  const [x, y, w1, b1, w2, b2] = tf.tidy(() => [
    tf.tensor2d(rand(n * d, seed), [n, d]),
    tf.oneHot(tf.tensor1d(Array.from(randInt(n, seed + 1, k)), "int32"), k),
    tf.variable(tf.tensor2d(rand(d * h, seed + 2, -0.4, 0.4), [d, h])),
    tf.variable(tf.zeros([h])),
    tf.variable(tf.tensor2d(rand(h * k, seed + 3, -0.4, 0.4), [h, k])),
    tf.variable(tf.zeros([k])),
  ]);
  const opt = makeOpt();
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const loss = opt.minimize(() => {
      const z = tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), b1)), w2), b2);
      return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(z)), -1))) as tf.Scalar;
    }, true)!;
    losses.push(loss.dataSync()[0]);
    loss.dispose();
  }
  opt.dispose();
  tf.dispose([x, y, w1, b1, w2, b2]);
  return losses;
}

function assertSameLosses(a: number[], b: number[], rel: number, what: string): void {
  assert.deepStrictEqual(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs((a[i]) - (b[i])) <= rel * Math.abs(b[i]), `${what} step ${i}`);
  }
}

t("a few Adam steps of an MLP: same losses on native and cpu", async () => {
  const lr = 0.05;
  const cpuAdam = await using("cpu", () => mlpLosses(() => tf.train.adam(lr), 8));
  const nativeAdam = await using("native", () => mlpLosses(() => tf.train.adam(lr), 8));
  const nativeFused = await using(
    "native",
    () => mlpLosses(() => new FusedAdamOptimizer({ learningRate: lr }), 8),
  );
  const cpuFused = await using(
    "cpu",
    () => mlpLosses(() => new FusedAdamOptimizer({ learningRate: lr }), 8),
  );
  assert(cpuAdam[7] < cpuAdam[0] * 0.8, `loss should fall: ${cpuAdam}`);
  assertSameLosses(nativeAdam, cpuAdam, 1e-4, "tf.train.adam native vs cpu");
  assertSameLosses(nativeFused, cpuAdam, 1e-4, "FusedAdam native vs tf.train.adam cpu");
  assertSameLosses(cpuFused, cpuAdam, 1e-4, "FusedAdam cpu vs tf.train.adam cpu");
});

t(
  "FusedAdam.step is a drop-in for lib/train's Adam (weight decay, per-parameter steps)",
  async () => {
    const run = (backend: string, fused: boolean) =>
      using(backend, () => {
        const opts = { lr: 0.02, weightDecay: 0.01 };
        const opt = fused
          ? new FusedAdam({ learningRate: opts.lr, weightDecay: opts.weightDecay })
          : new Adam(opts);
        const [x, y, w, b] = tf.tidy(() => [
          tf.tensor2d(rand(24 * 6, 31), [24, 6]),
          tf.oneHot(tf.tensor1d(Array.from(randInt(24, 32, 4)), "int32"), 4),
          tf.variable(tf.tensor2d(rand(6 * 4, 33, -0.5, 0.5), [6, 4])),
          tf.variable(tf.zeros([4])),
        ]);
        const losses: number[] = [];
        for (let s = 0; s < 6; s++) {
          // the bias only gets a gradient every other step: its own step count differs
          const vars = s % 2 === 0 ? [w, b] : [w];
          const { value, grads } = tf.variableGrads(() => {
            const z = tf.add(tf.matMul(x, w), b);
            return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(z)), -1))) as tf.Scalar;
          }, vars);
          opt.step(vars.map((v) => [v, grads[v.name]] as const));
          losses.push(value.dataSync()[0]);
          tf.dispose([value, ...Object.values(grads)]);
        }
        opt.dispose();
        tf.dispose([x, y, w, b]);
        return losses;
      });
    const ref = await run("cpu", false);
    assertSameLosses(await run("native", true), ref, 1e-5, "FusedAdam native vs Adam cpu");
    assertSameLosses(await run("cpu", true), ref, 1e-5, "FusedAdam cpu vs Adam cpu");
  },
);

t("FusedAdam weight decay matches torch's formula", async () => {
  for (const backend of ["native", "cpu"]) {
    await using(backend, () => {
      const p0 = [0.5, -1, 2, 0], g = [0.1, 0.2, -0.3, 0.4];
      const lr = 0.01, wd = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8;
      const p = tf.variable(tf.tensor1d(p0));
      const opt = new FusedAdamOptimizer({ learningRate: lr, weightDecay: wd, epsilon: eps });
      opt.applyGradients({ [p.name]: tf.tensor1d(g) });
      opt.applyGradients({ [p.name]: tf.tensor1d(g) });
      // reference in float64: two steps of torch.optim.Adam(weight_decay=wd)
      const ref = [...p0], m = [0, 0, 0, 0], v = [0, 0, 0, 0];
      for (let step = 1; step <= 2; step++) {
        for (let i = 0; i < 4; i++) {
          const gi = g[i] + wd * ref[i];
          m[i] = b1 * m[i] + (1 - b1) * gi;
          v[i] = b2 * v[i] + (1 - b2) * gi * gi;
          const denom = Math.sqrt(v[i]) / Math.sqrt(1 - b2 ** step) + eps;
          ref[i] -= (lr / (1 - b1 ** step)) * m[i] / denom;
        }
      }
      const got = p.dataSync();
      for (let i = 0; i < 4; i++) {
        assert.ok(Math.abs((got[i]) - (ref[i])) <= 1e-6, `${backend} p[${i}]`);
      }
      p.dispose();
    });
  }
});

t(
  "FusedAdam: in-place updates leave clones and read arrays alone; weights round-trip",
  async () => {
    await using("native", async () => {
      const w = tf.variable(tf.tensor2d(rand(64, 5), [8, 8]));
      const opt = new FusedAdamOptimizer({ learningRate: 0.1 });
      const step = () => opt.applyGradients({ [w.name]: tf.onesLike(w) });
      step(); // w now lives in a buffer the backend owns: later steps update it in place
      const snapshot = w.clone();
      const read = w.dataSync().slice();
      const escaped = w.dataSync(); // the storage itself: must not change under the reader
      step();
      step();
      assert.deepStrictEqual(Array.from(snapshot.dataSync()), Array.from(read), "clone changed");
      assert.deepStrictEqual(Array.from(escaped), Array.from(read), "array from dataSync changed");
      assert(w.dataSync()[0] < read[0], "w moved against the gradient");
      const weights = await opt.getWeights();
      assert.deepStrictEqual(weights.length, 3);
      assert.deepStrictEqual(weights[1].tensor.shape, [8, 8]);
      const other = new FusedAdamOptimizer({ learningRate: 0.1 });
      await other.setWeights(weights);
      assert.deepStrictEqual(other.iterations, opt.iterations);
      const w2 = tf.variable(w.clone(), true, `${w.name}-copy`);
      // same state: one more step from identical weights gives identical results
      opt.applyGradients({ [w.name]: tf.onesLike(w) });
      const moments = (await other.getWeights()).slice(1);
      assert.deepStrictEqual(moments.map((m) => m.name), weights.slice(1).map((m) => m.name));
      tf.dispose([
        w,
        w2,
        snapshot,
        ...weights.map((x) => x.tensor),
        ...moments.map((m) => m.tensor),
      ]);
    });
  },
);

t("recycled buffers never show through live tensors or read arrays", async () => {
  await using("native", () => {
    const backend = tf.backend() as NativeBackend;
    const x = tf.tensor1d(rand(4096, 9));
    const a = tf.relu(x);
    const view = tf.slice(a, [0], [1024]); // cpu Slice: a view of a's buffer
    const viewBefore = Array.from(view.dataSync());
    const r = tf.exp(x);
    const read = r.dataSync();
    const readBefore = Array.from(read);
    a.dispose();
    r.dispose();
    for (let i = 0; i < 4; i++) tf.tidy(() => tf.mul(tf.neg(x), 3)); // churn the pool
    assert.deepStrictEqual(
      Array.from(view.dataSync()),
      viewBefore,
      "slice view of a disposed tensor",
    );
    assert.deepStrictEqual(Array.from(read), readBefore, "array returned by dataSync");
    assert(backend.poolStats().recycled > 0, "the pool is used");
    tf.dispose([x, view]);
  });
});

t("a training loop leaks nothing and stays on native kernels", async () => {
  await using("native", () => {
    nativeFallbacks(true);
    const before = tf.memory().numTensors;
    mlpLosses(() => new FusedAdamOptimizer({ learningRate: 0.01 }), 5);
    assert.deepStrictEqual(tf.memory().numTensors, before);
    assert.deepStrictEqual(nativeFallbacks(), {}, "kernels handed to cpu");
  });
});

t("AdamMoments (WebAssembly SIMD) matches a float64 reference", () => {
  const m = new AdamMoments();
  assert(m.simd, "WebAssembly SIMD available in Deno");
  const n = 1003, g = rand(n, 11);
  const p = {
    beta1: 0.9,
    beta2: 0.999,
    stepSize: 0.01,
    k: 1 / Math.sqrt(1 - 0.999),
    epsilon: 1e-7,
  };
  const ref = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const mi = 0.1 * g[i], vi = 0.001 * g[i] * g[i];
    ref[i] = (0.01 * mi) / (Math.sqrt(vi) * p.k + 1e-7);
  }
  m.gradient("w", n).set(g);
  const d = m.step("w", p);
  for (let i = 0; i < n; i++) {
    assert.ok(Math.abs((d[i]) - (ref[i])) <= 1e-6 * Math.abs(ref[i]) + 1e-12);
  }
});

const canRun = Deno.permissions.querySync({ name: "run" }).state === "granted";

Deno.test({
  name: "native training: registration fails soft without FFI permission",
  ignore: !canRun,
  async fn() {
    const mod = new URL("../lib/native/mod.ts", import.meta.url).href;
    const code = `import { registerNativeBackend } from "${mod}";
      console.log(JSON.stringify(registerNativeBackend()));`;
    // A child with read/env but no FFI permission (deno eval would grant everything).
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--allow-read", "--allow-env", "-"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      cwd: new URL("..", import.meta.url).pathname,
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(code));
    await w.close();
    const out = await child.output();
    const text = new TextDecoder().decode(out.stdout).trim();
    assert(out.success, new TextDecoder().decode(out.stderr));
    const r = JSON.parse(text.split("\n").pop()!);
    assert.deepStrictEqual(r.ok, false);
    assert(/FFI/.test(r.reason), r.reason);
  },
});

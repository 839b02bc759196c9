/**
 * lib/train on the "native" backend (lib/native: OpenBLAS through FFI): backend selection and
 * its thread policy, the same job giving the same numbers as on wasm, FusedAdam giving the
 * losses of lib/train's Adam, and no kernel handed to the cpu fallback during training steps.
 * Ignored where OpenBLAS or --allow-ffi is missing.
 *
 * Tolerances: native and wasm sum in other orders (OpenBLAS sgemm and im2col against XNNPACK),
 * so float32 results differ in the last bits and the differences grow with every step. After
 * the few steps here the losses agree to ~1e-7 relative (e2e, layer-wise) and ~3e-5 with the
 * nHSIC regulariser, whose float64 inverse of a badly conditioned kernel matrix amplifies them;
 * nHSIC of the tracked layers to ~1e-7 (~7e-5 with the regulariser). The tests allow 1e-3.
 */
import assert from "node:assert/strict";
import { tf } from "../lib/train/mod.ts";
import { loadOpenBlas } from "../lib/linalg/mod.ts";
import { analysisThreads, trainingThreads } from "../lib/linalg/mod.ts";
import { nativeFallbacks, registerNativeBackend } from "../lib/native/mod.ts";
import { applyNativeThreads, BACKEND_ORDER, selectBackend } from "../lib/train/backend.ts";
import { batchTensors, gatherBatch } from "../lib/train/mod.ts";
import { createRunner } from "../lib/train/mod.ts";
import { E2E } from "../lib/train/methods/e2e.ts";
import { Network } from "../lib/train/mod.ts";
import { Adam, createOptimizer } from "../lib/train/optimizer.ts";
import {
  checkJobAgainstInput,
  type ResolvedMethod,
  resolveTrainingRequest,
} from "../lib/train/mod.ts";
import { runTrainingOn } from "../lib/train/mod.ts";
import type { TrainingJob, TrainingResult } from "../lib/train/mod.ts";
import { mnist } from "./train_helpers.ts";

const registration = registerNativeBackend();
const t = (name: string, fn: () => Promise<void> | void) =>
  Deno.test({ name: `train on native: ${name}`, ignore: !registration.ok, fn });

/** Relative tolerance of native against wasm (see the module doc). */
const REL_ANY = 1e-3;

/** Runs `fn` with environment variables set (undefined: unset) as given, then restores them. */
async function withEnv<T>(
  vars: Record<string, string | undefined>,
  fn: () => Promise<T> | T,
): Promise<T> {
  const old = Object.fromEntries(Object.keys(vars).map((k) => [k, Deno.env.get(k)]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) Deno.env.delete(k);
    else Deno.env.set(k, v);
  }
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(old)) {
      if (v === undefined) Deno.env.delete(k);
      else Deno.env.set(k, v);
    }
  }
}

/** Runs `fn`, then puts OpenBLAS's (process-wide) thread count back. */
async function keepingThreads<T>(fn: () => Promise<T>): Promise<T> {
  const ob = loadOpenBlas()!;
  const before = ob.threads();
  try {
    return await fn();
  } finally {
    ob.setThreads(before);
  }
}

/** A small training request: 3 steps of 128, tracking at steps 0, 2 and 3. */
function request(preset: "mlp" | "lenet5", methods: unknown[], extra = {}) {
  return {
    dataset: { name: "mnist", train_limit: 384, test_limit: 128 },
    model: preset === "mlp" ? { preset, depth: 3, width: 64 } : { preset },
    methods,
    optimizer: { batch_size: 128, lr: 1e-3 },
    tracking: { probe_size: 128, probe_batch: 64, first_epoch_points: 1 },
    ...extra,
  };
}

function job(preset: "mlp" | "lenet5", methods: unknown[], extra = {}): TrainingJob {
  return resolveTrainingRequest(request(preset, methods, extra));
}

t("selectBackend: by name, forced by INFOPLANE_BACKEND, and auto prefers it to wasm", async () => {
  await keepingThreads(async () => {
    assert.deepStrictEqual(BACKEND_ORDER, ["tensorflow", "webgpu", "native", "wasm", "cpu"]);
    const chosen = await selectBackend("native");
    assert.deepStrictEqual(chosen.name, "native");
    assert(
      /^tfjs native \(openblas \S+ \(\w+, \d+ threads?\), (no )?C kernels\)$/.test(chosen.device),
      chosen.device,
    );
    assert.deepStrictEqual(tf.getBackend(), "native");
    assert.deepStrictEqual(
      (await withEnv({ INFOPLANE_BACKEND: "native" }, () => selectBackend("wasm"))).name,
      "native",
    );
    const auto = await selectBackend("auto");
    assert(["tensorflow", "webgpu", "native"].includes(auto.name), `auto chose ${auto.name}`);
    await selectBackend("wasm");
  });
});

t(
  "thread policy: one OpenBLAS thread on <= 2 cores unless OPENBLAS_NUM_THREADS is set",
  async () => {
    await keepingThreads(async () => {
      await withEnv({ OPENBLAS_NUM_THREADS: undefined }, () => {
        assert.deepStrictEqual(trainingThreads(1), 1);
        assert.deepStrictEqual(trainingThreads(2), 1);
        assert.deepStrictEqual(trainingThreads(16), null);
        assert.deepStrictEqual(analysisThreads(2, 16), 8);
        assert.deepStrictEqual(analysisThreads(4, 2), 1);
      });
      await withEnv({ OPENBLAS_NUM_THREADS: "2" }, () => {
        assert.deepStrictEqual(trainingThreads(2), null);
        assert.deepStrictEqual(analysisThreads(1, 2), null);
      });
      const ob = loadOpenBlas()!;
      await withEnv({ OPENBLAS_NUM_THREADS: undefined }, async () => {
        await selectBackend("native");
        ob.setThreads(2); // e.g. an analysis task started meanwhile
        applyNativeThreads(); // what the training loop does before every step
        const want = trainingThreads();
        assert.deepStrictEqual(ob.threads(), want ?? 2);
      });
      await selectBackend("wasm");
    });
  },
);

const canRun = Deno.permissions.querySync({ name: "run" }).state === "granted";

Deno.test({
  name: "train on native: INFOPLANE_BACKEND=native without FFI fails with the reason",
  ignore: !canRun,
  async fn() {
    const mod = new URL("../lib/train/backend.ts", import.meta.url).href;
    const code = `import { selectBackend } from "${mod}";
      try { await selectBackend("auto"); console.log("selected"); }
      catch (e) { console.log(JSON.stringify(e.message)); }`;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--allow-read", "--allow-env", "-"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      cwd: new URL("..", import.meta.url).pathname,
      env: { INFOPLANE_BACKEND: "native" },
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(code));
    await w.close();
    const out = await child.output();
    assert(out.success, new TextDecoder().decode(out.stderr));
    const msg = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
    assert(msg.startsWith("INFOPLANE_BACKEND=native is not available: "), msg);
    assert(/FFI/.test(msg), msg);
  },
});

/**
 * Methods whose loss goes through the nHSIC regulariser's inverse of (K + eps m I) (condition
 * number ~1e5 at eps = 1e-5, m = 128) amplify float32 rounding about that much: two matrix
 * products that differ in their last bit (OpenBLAS with another core type, or the C kernels' GEMM,
 * both as far from the exact product) move the loss after two steps by up to a few 1e-3. They
 * are held to this instead of REL_ANY.
 */
const REL_INVERSE = 1e-2;

/** The largest relative difference between two results' curves and nHSIC values. */
function compare(a: TrainingResult, b: TrainingResult): void {
  assert.deepStrictEqual(a.methods.length, b.methods.length);
  a.methods.forEach((ma, i) => {
    const mb = b.methods[i], label = ma.method.label;
    const REL = ma.method.nhsic_lambda ? REL_INVERSE : REL_ANY;
    assert.deepStrictEqual(ma.curves.map((c) => c.step), mb.curves.map((c) => c.step));
    ma.curves.forEach((ca, j) => {
      const cb = mb.curves[j];
      assert.ok(
        Math.abs(cb.train_loss - ca.train_loss) <= REL * Math.abs(ca.train_loss),
        `${label} train_loss @${ca.step}`,
      );
      if (ca.objective !== undefined) {
        assert.ok(
          Math.abs((cb.objective!) - ca.objective) <= REL * Math.abs(ca.objective),
          `${label} objective @${ca.step}`,
        );
      }
      // a prediction may flip where two logits tie to float32 rounding
      assert.ok(Math.abs(cb.test_accuracy - ca.test_accuracy) <= 2 / 128, `${label} accuracy`);
    });
    ma.analysis.checkpoints.forEach((cpa, j) => {
      cpa.layers.forEach((la, k) => {
        const lb = mb.analysis.checkpoints[j].layers[k];
        assert.deepStrictEqual(lb.name, la.name);
        const where = `${label} ${la.name} @${cpa.step}`;
        assert.ok(
          Math.abs(lb.nhsic_x - la.nhsic_x) <= REL * Math.abs(la.nhsic_x),
          `${where} nhsic_x`,
        );
        assert.ok(
          Math.abs(lb.nhsic_y - la.nhsic_y) <= REL * Math.abs(la.nhsic_y),
          `${where} nhsic_y`,
        );
      });
    });
  });
}

for (const preset of ["mlp", "lenet5"] as const) {
  t(`${preset}: the same losses and nHSIC as on wasm (e2e, layer-wise)`, async () => {
    await keepingThreads(async () => {
      const ds = await mnist(384, 128);
      const methods: unknown[] = [{ name: "e2e" }, { name: "layerwise" }];
      if (preset === "mlp") methods.push({ name: "layerwise", nhsic_lambda: 0.1 });
      const j = job(preset, methods);
      const wasm = await runTrainingOn(j, ds, {}, await selectBackend("wasm"));
      const before = tf.memory().numTensors;
      const native = await runTrainingOn(j, ds, {}, await selectBackend("native"));
      assert.deepStrictEqual(tf.memory().numTensors, before, "tensors left on native");
      assert.deepStrictEqual(native.backend.name, "native");
      assert(native.backend.device.startsWith("tfjs native (openblas"), native.backend.device);
      compare(wasm, native);
      await selectBackend("wasm");
    });
  });
}

t("FusedAdam (native's optimizer) gives the losses of lib/train's Adam within 1e-5", async () => {
  await keepingThreads(async () => {
    const ds = await mnist(384, 128);
    const j = job("mlp", [{ name: "e2e" }], {
      optimizer: { batch_size: 64, lr: 2e-3, weight_decay: 0.01 },
    });
    const plan = checkJobAgainstInput(j, ds.shape, ds.numClasses);
    await selectBackend("native");
    const opts = { lr: 2e-3, weightDecay: 0.01 };
    assert.deepStrictEqual(createOptimizer(opts).constructor.name, "FusedAdam");
    const run = async (fused: boolean) => {
      const net = new Network(plan, 3);
      const runner = new E2E(net, fused ? createOptimizer(opts) : new Adam(opts));
      const losses: number[] = [];
      for (let s = 0; s < 6; s++) {
        const b = gatherBatch(ds.train, 784, null, s * 64, (s + 1) * 64);
        const { x, onehot } = batchTensors(b.x, b.labels, ds.shape, 10);
        const ctx = { training: true, nextSeed: () => 0 };
        losses.push((await runner.step(0, { x, onehot, labels: b.labels, xData: b.x }, ctx)).loss);
        tf.dispose([x, onehot]);
      }
      runner.dispose();
      net.dispose();
      return losses;
    };
    const ref = await run(false), got = await run(true);
    assert(ref[5] < ref[0], `the loss should fall: ${ref}`);
    got.forEach((l, i) =>
      assert.ok(Math.abs(l - (ref[i])) <= (1e-5) * Math.abs(ref[i]), `step ${i}`)
    );
    await selectBackend("wasm");
  });
});

t("training steps of an MLP and LeNet-5 (e2e, layer-wise) stay on native kernels", async () => {
  await keepingThreads(async () => {
    const ds = await mnist(384, 128);
    await selectBackend("native");
    for (const preset of ["mlp", "lenet5"] as const) {
      for (const name of ["e2e", "layerwise"]) {
        const j = job(preset, [{ name }]);
        const plan = checkJobAgainstInput(j, ds.shape, ds.numClasses);
        const net = new Network(plan, 0);
        const runner = createRunner(j.methods[0] as ResolvedMethod, net, j);
        const b = gatherBatch(ds.train, 784, null, 0, 128);
        const { x, onehot } = batchTensors(b.x, b.labels, ds.shape, 10);
        const ctx = { training: true, nextSeed: () => 0 };
        nativeFallbacks(true);
        for (let s = 0; s < 2; s++) {
          await runner.step(0, { x, onehot, labels: b.labels, xData: b.x }, ctx);
        }
        assert.deepStrictEqual(
          nativeFallbacks(true),
          {},
          `${preset} ${name}: kernels handed to cpu`,
        );
        tf.dispose([x, onehot]);
        runner.dispose();
        net.dispose();
      }
    }
    await selectBackend("wasm");
  });
});

Deno.test("train on native: requests may ask for backend native; unknown names are rejected", () => {
  assert.deepStrictEqual(job("mlp", [{ name: "e2e" }], { backend: "native" }).backend, "native");
  let field: unknown;
  try {
    job("mlp", [{ name: "e2e" }], { backend: "tpu" });
  } catch (e) {
    field = (e as { field?: unknown }).field;
  }
  assert.deepStrictEqual(field, "backend");
});

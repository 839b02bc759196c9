import assert from "node:assert/strict";
import { tf } from "../lib/train/mod.ts";
import { probeBackend, quietHeadlessVulkan, selectBackend } from "../lib/train/backend.ts";
import { batchTensors } from "../lib/train/mod.ts";
import { crossEntropy } from "../lib/train/losses/cross_entropy.ts";
import { checkModelAgainstInput } from "../lib/train/model_def.ts";
import { Network } from "../lib/train/mod.ts";
import { mnist } from "./train_helpers.ts";

/** Runs `fn` with INFOPLANE_BACKEND set to `value`, restoring it afterwards. */
async function withEnv<T>(value: string, fn: () => Promise<T>): Promise<T> {
  const old = Deno.env.get("INFOPLANE_BACKEND");
  Deno.env.set("INFOPLANE_BACKEND", value);
  try {
    return await fn();
  } finally {
    if (old === undefined) Deno.env.delete("INFOPLANE_BACKEND");
    else Deno.env.set("INFOPLANE_BACKEND", old);
  }
}

Deno.test("selectBackend: wasm and cpu by name, auto prefers wasm over cpu", async () => {
  const wasm = await selectBackend("wasm");
  assert.deepStrictEqual(wasm.name, "wasm");
  assert(wasm.device.startsWith("WebAssembly"), wasm.device);
  assert.deepStrictEqual(tf.getBackend(), "wasm");
  const cpu = await selectBackend("cpu");
  assert.deepStrictEqual(cpu, { name: "cpu", device: "JavaScript (tfjs-backend-cpu)" });
  assert.deepStrictEqual(tf.getBackend(), "cpu");
  const auto = await selectBackend("auto");
  assert(auto.name !== "cpu", `auto chose ${auto.name}`);
  const tfn = await probeBackend("tensorflow");
  if (!tfn.available) {
    assert(tfn.reason.includes("tfjs-node"), tfn.reason);
    assert(auto.name !== "tensorflow");
  }
});

Deno.test("INFOPLANE_BACKEND forces a backend and fails loudly when it is unavailable", async () => {
  assert.deepStrictEqual((await withEnv("cpu", () => selectBackend("wasm"))).name, "cpu");
  assert.deepStrictEqual((await withEnv(" WASM ", () => selectBackend("cpu"))).name, "wasm");
  await assert.rejects(
    () => withEnv("tpu", () => selectBackend("auto")),
    (e: unknown) => e instanceof Error && e.message.includes("INFOPLANE_BACKEND"),
  );
  const tfn = await probeBackend("tensorflow");
  if (!tfn.available) {
    await assert.rejects(
      () => withEnv("tensorflow", () => selectBackend("wasm")),
      (e: unknown) =>
        e instanceof Error && e.message.includes("INFOPLANE_BACKEND=tensorflow is not available"),
    );
    await assert.rejects(
      () => selectBackend("tensorflow"),
      (e: unknown) => e instanceof Error && e.message.includes('backend "tensorflow"'),
    );
  }
  await selectBackend("wasm");
});

const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
quietHeadlessVulkan();
const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;

Deno.test({
  name: "webgpu gives the numbers of wasm: forward pass and one training step",
  ignore: !adapter,
  async fn() {
    const ds = await mnist(64, 16);
    const model = {
      blocks: [
        {
          layers: [{ type: "conv2d", filters: 4, kernel: 3 }, { type: "batchNorm" }, {
            type: "relu",
          }, { type: "maxPool2d", size: 2 }],
        },
        { type: "residual", filters: 6, stride: 2 },
        { layers: [{ type: "flatten" }, { type: "dense", units: 16 }, { type: "tanh" }] },
      ],
    };
    const plan = checkModelAgainstInput(model, ds.shape, 10);
    const run = async (backend: "wasm" | "webgpu") => {
      const chosen = await selectBackend(backend);
      const net = new Network(plan, 0);
      const { x, onehot } = batchTensors(
        ds.train.x.slice(0, 32 * 784),
        ds.train.y.slice(0, 32),
        ds.shape,
        10,
      );
      const logits = tf.tidy(() => net.forward(x, { training: false, nextSeed: () => 0 }).logits);
      const { value, grads } = tf.variableGrads(
        () => crossEntropy(net.forward(x, { training: true, nextSeed: () => 0 }).logits, onehot),
        net.params,
      );
      const out = {
        device: chosen.device,
        logits: Float32Array.from(await logits.data()),
        loss: (await value.data())[0],
        grads: await Promise.all(
          net.params.map(async (p) => Float32Array.from(await grads[p.name].data())),
        ),
      };
      tf.dispose([x, onehot, logits, value, ...Object.values(grads)]);
      net.dispose();
      return out;
    };
    const a = await run("wasm");
    const b = await run("webgpu");
    await selectBackend("wasm");
    const maxRel = (u: Float32Array, v: Float32Array) => {
      let d = 0, s = 0;
      for (let i = 0; i < u.length; i++) {
        d = Math.max(d, Math.abs(u[i] - v[i]));
        s = Math.max(s, Math.abs(u[i]));
      }
      return d / Math.max(s, 1e-12);
    };
    assert(
      maxRel(a.logits, b.logits) < 1e-4,
      `logits differ by ${maxRel(a.logits, b.logits)} (${b.device})`,
    );
    assert(Math.abs(a.loss - b.loss) < 1e-4 * a.loss, `loss ${a.loss} vs ${b.loss}`);
    // The conv bias before batchNorm has a gradient of zero up to rounding: compare every
    // gradient on the scale of the largest one.
    const scale = Math.max(...a.grads.map((g) => g.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
    a.grads.forEach((g, i) => {
      let d = 0;
      for (let j = 0; j < g.length; j++) d = Math.max(d, Math.abs(g[j] - b.grads[i][j]));
      assert(d < 1e-3 * scale, `gradient ${i} differs by ${d} (largest gradient ${scale})`);
    });
  },
});

Deno.test("headless WebGPU probes switch off Mesa's device-select layer only when headless", () => {
  const envOf = (vars: Record<string, string>) => {
    const v = { ...vars };
    return { vars: v, get: (k: string) => v[k], set: (k: string, x: string) => void (v[k] = x) };
  };
  const headless = envOf({});
  assert.strictEqual(quietHeadlessVulkan(headless), true);
  assert.strictEqual(headless.vars.NODEVICE_SELECT, "1");
  const cases: Record<string, string>[] = [
    { WAYLAND_DISPLAY: "wayland-0" },
    { XDG_RUNTIME_DIR: "/run/user/1000" },
    { DRI_PRIME: "1" },
    { MESA_VK_DEVICE_SELECT: "1002:67df" },
    { NODEVICE_SELECT: "0" },
  ];
  for (const vars of cases) {
    const e = envOf(vars);
    assert.strictEqual(quietHeadlessVulkan(e), false, JSON.stringify(vars));
    assert.deepStrictEqual(e.vars, vars, "left alone");
  }
  // A relative XDG_RUNTIME_DIR is what libwayland calls invalid: still headless.
  assert.strictEqual(quietHeadlessVulkan(envOf({ XDG_RUNTIME_DIR: "tmp" })), true);
});

Deno.test("the WebGPU probe prints nothing on a headless machine", async () => {
  const env = { ...Deno.env.toObject() };
  for (const k of ["XDG_RUNTIME_DIR", "WAYLAND_DISPLAY", "NODEVICE_SELECT", "DRI_PRIME"]) {
    delete env[k];
  }
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { probeBackend } from "${new URL("../lib/train/backend.ts", import.meta.url)}";` +
      `const p = await probeBackend("webgpu", true); console.log(JSON.stringify(p));`,
    ],
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.strictEqual(out.code, 0, stderr);
  assert(!stderr.includes("XDG_RUNTIME_DIR"), `stderr: ${stderr}`);
});

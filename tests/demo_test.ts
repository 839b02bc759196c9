/**
 * The demo (scripts/demo.ts, lib/demo/compare.ts): it trains e2e and layer-wise through lib/train
 * and writes one dump per method in the layout the service reads; run against a service it posts
 * both, reads their summaries and prints the comparison and the estimator check; the comparison
 * and its conclusions follow the numbers.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type AnalysisLike,
  compareAnalyses,
  conclusions,
  DEMO_SETTINGS,
  demoDataset,
  trainBoth,
} from "../lib/demo/mod.ts";
import { parseNpz } from "../lib/dump/mod.ts";
import { encodeNpz } from "../lib/dump/mod.ts";
import { formatComparison, formatRobustness, serviceRobustness, wrap } from "../scripts/demo.ts";
import { withService } from "./api_helpers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SMALL = ["--epochs", "1", "--train-limit", "1024"];

function demo(args: string[], env: Record<string, string>) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/demo.ts", ...args],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
}

Deno.test("trainBoth trains e2e and layer-wise through lib/train and dumps every layer", async () => {
  const s = { ...DEMO_SETTINGS, trainLimit: 512, epochs: 1, probeSize: 64, firstEpochPoints: 1 };
  const ds = await demoDataset(s, join(ROOT, "data"));
  const t = await trainBoth(s, ds);
  assert.deepStrictEqual(t.methods.map((m) => m.label), ["e2e", "layerwise(cross_entropy)"]);
  assert.deepStrictEqual(t.layers, ["fc1", "fc2", "fc3", "fc4", "logits"]);
  for (const m of t.methods) {
    assert.deepStrictEqual(m.steps, [0, 4, 8]); // step 0, one point inside epoch 1, its end
    const arrays = parseNpz(encodeNpz(m.entries, { compress: true }));
    assert.deepStrictEqual(arrays.size, 2 + 3 * 5);
    assert.deepStrictEqual(arrays.get("x")!.shape, [64, 784]);
    assert.deepStrictEqual(arrays.get("8/fc2")!.shape, [64, 128]);
    assert.deepStrictEqual(arrays.get("8/logits")!.shape, [64, 10]);
  }
  // Same seed: the same initial network, so the same activations at step 0.
  assert.deepStrictEqual(t.methods[0].entries["0/fc3"].data, t.methods[1].entries["0/fc3"].data);
  assert.notDeepStrictEqual(t.methods[0].entries["8/fc3"].data, t.methods[1].entries["8/fc3"].data);
});

/** An analysis with per-layer [X, Y] trajectories over the steps 0, 10, 20, 40. */
function analysis(traj: Array<Array<[number, number]>>, names: string[]): AnalysisLike {
  const steps = [0, 10, 20, 40];
  const last = steps.length - 1;
  return {
    checkpoints: steps.map((step, t) => ({
      step,
      layers: names.map((name, l) => ({
        name,
        nhsic_x_norm: traj[l][t][0],
        nhsic_y_norm: traj[l][t][1],
      })),
    })),
    summary: {
      layers: names.map((name, l) => {
        const xs = traj[l].map((p) => p[0]), ys = traj[l].map((p) => p[1]);
        return {
          name,
          final_x: xs[last],
          final_y: ys[last],
          compression: Math.max(...xs) - xs[last],
          label_retention: ys[last] / Math.max(...ys),
        };
      }),
      differentiation: { score: 0 },
      last_layer: { follows_ib: false },
    },
  };
}

Deno.test("the comparison and its conclusions follow the numbers", () => {
  const names = ["fc1", "fc2", "fc3", "logits"];
  // e2e: deep layers learn labels early, middle layers compress late, the output keeps Y.
  const e2e = analysis([
    [[0.5, 0.3], [0.7, 0.6], [0.8, 0.7], [0.8, 0.7]],
    [[0.5, 0.3], [0.8, 0.6], [0.9, 0.7], [0.7, 0.7]],
    [[0.5, 0.3], [0.8, 0.6], [0.9, 0.7], [0.6, 0.7]],
    [[0.3, 0.2], [0.6, 0.6], [0.7, 0.8], [0.6, 0.8]],
  ], names);
  e2e.summary.differentiation = { score: 0.08 };
  e2e.summary.last_layer.follows_ib = true;
  const lw = analysis(names.map(() => [[0.5, 0.3], [0.6, 0.4], [0.8, 0.6], [0.9, 0.7]]), names);
  const c = compareAnalyses(e2e, lw);
  assert.deepStrictEqual(c.earlyStep, 10);
  assert.deepStrictEqual(c.layers[1].earlyY, [0.6, 0.4]);
  assert.deepStrictEqual(c.layers[2].compression.map((v) => Number(v.toFixed(3))), [0.3, 0]);
  const cs = conclusions(c);
  assert.deepStrictEqual(cs.map((x) => x.holds), [true, true, true, true, true]);
  assert.deepStrictEqual(cs.map((x) => x.claim), [2, 3, 3, 3, 4]);
  // Swapped, none holds.
  assert.deepStrictEqual(conclusions(compareAnalyses(lw, e2e)).map((x) => x.holds), [
    false,
    false,
    false,
    false,
    false,
  ]);
  const table = formatComparison(c).join("\n");
  assert(table.includes("early Y (step 10)") && table.includes("logits"), table);
  assert(table.includes("differentiation (spread of compression across the layers): e2e 0.080"));
  const rob = formatRobustness(["default", "plain"], [cs, conclusions(compareAnalyses(lw, e2e))]);
  assert(rob[0].includes("default") && rob[2].trimEnd().endsWith("yes     no"), rob.join("\n"));
  assert.deepStrictEqual(serviceRobustness({}), null);
  assert(wrap("a ".repeat(120), "1. ").every((l) => l.length <= 98));
});

Deno.test("scripts/demo.ts --dump-only trains both methods and writes their dumps", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { code, stdout, stderr } = await demo(
      ["--dump-only", ...SMALL, "--out-dir", join(dir, "nested")],
      { INFOPLANE_URL: "http://127.0.0.1:9" }, // never contacted
    );
    const text = new TextDecoder().decode(stdout);
    assert.deepStrictEqual(code, 0, new TextDecoder().decode(stderr));
    assert(text.includes("--dump-only"), text);
    for (const m of ["e2e", "layerwise"]) {
      const arrays = parseNpz(await Deno.readFile(join(dir, "nested", `demo-${m}.npz`)));
      assert.deepStrictEqual(arrays.get("x")!.shape, [512, 784]);
      assert(arrays.has("16/fc4"), [...arrays.keys()].join(" "));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the demo posts both dumps to a service and prints the comparison", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await withService({}, async (svc) => {
      const { code, stdout, stderr } = await demo([...SMALL, "--out-dir", dir], {
        INFOPLANE_URL: svc.url,
      });
      const text = new TextDecoder().decode(stdout);
      assert.deepStrictEqual(code, 0, `${text}\n${new TextDecoder().decode(stderr)}`);
      assert(text.includes(`using the service at ${svc.url}`), text);
      for (
        const s of [
          "5. Layer by layer, e2e next to layer-wise",
          "6. What this run shows",
          "7. Does it depend on how nHSIC is estimated?",
          "default  plain  median",
          "output follows the information bottleneck: e2e",
        ]
      ) assert(text.includes(s), `missing "${s}" in\n${text}`);
      assert.deepStrictEqual((text.match(/\/v1\/analyses\/[0-9a-f-]{8,}/g) ?? []).length, 2);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { parseMethod, requestFromArgs } from "../scripts/train.ts";
import { resolveTrainingRequest } from "../lib/train/mod.ts";
import type { TrainingResult } from "../lib/train/mod.ts";
Deno.test("train CLI: method items and flags become a training request", () => {
  assert.deepStrictEqual(parseMethod("e2e"), { name: "e2e" });
  assert.deepStrictEqual(parseMethod("layerwise:loss=similarity"), {
    name: "layerwise",
    loss: "similarity",
  });
  assert.deepStrictEqual(parseMethod("layerwise:head=mlp:nhsic=0.1:target=local"), {
    name: "layerwise",
    head: "mlp",
    nhsic_lambda: 0.1,
    nhsic_target: "local",
  });
  assert.throws(
    () => parseMethod("layerwise:nhsic"),
    (e: unknown) => e instanceof Error && e.message.includes("key=value"),
  );
  assert.throws(
    () => parseMethod("layerwise:foo=1"),
    (e: unknown) => e instanceof Error && e.message.includes("unknown method option"),
  );

  const req = requestFromArgs({
    preset: "mlp",
    depth: "4",
    methods: "e2e,layerwise",
    epochs: "1",
    "train-limit": "2000",
    seed: "0",
  });
  assert.deepStrictEqual(req, {
    model: { preset: "mlp", depth: 4 },
    dataset: { name: "mnist", train_limit: 2000 },
    methods: [{ name: "e2e" }, { name: "layerwise" }],
    optimizer: { epochs: 1 },
    seed: 0,
  });
  const job = resolveTrainingRequest(req);
  assert.deepStrictEqual((job.model as { blocks: unknown[] }).blocks.length, 4);
  // A config file's fields stay unless a flag overrides them.
  const merged = requestFromArgs({ epochs: "2" }, {
    dataset: { name: "mnist", test_limit: 100 },
    optimizer: { lr: 0.01 },
  });
  assert.deepStrictEqual(merged.optimizer, { lr: 0.01, epochs: 2 });
  assert.deepStrictEqual(merged.dataset, { name: "mnist", test_limit: 100 });
});

Deno.test("train CLI: runs a tiny job and writes the result JSON", async () => {
  const out = Deno.makeTempFileSync({ suffix: ".json" });
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../scripts/train.ts", import.meta.url).pathname,
      "--preset=mlp",
      "--depth=2",
      "--width=32",
      "--methods=e2e,sequential",
      "--train-limit=200",
      "--test-limit=64",
      "--batch=50",
      "--probe-size=32",
      "--first-epoch-points=1",
      "--backend=wasm",
      `--data-dir=${Deno.makeTempDirSync()}`,
      `--out=${out}`,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  const log = new TextDecoder().decode(stderr);
  assert.deepStrictEqual(code, 0, log);
  assert(log.includes("\r"), "progress is a carriage-return line");
  const res = JSON.parse(await Deno.readTextFile(out)) as TrainingResult;
  assert.deepStrictEqual(res.methods.map((m) => m.method.label), [
    "e2e",
    "sequential(cross_entropy)",
  ]);
  assert.deepStrictEqual(res.methods[0].curves.map((c) => c.step), [0, 2, 4]);
  assert.deepStrictEqual(res.methods[1].curves.map((c) => c.step), [0, 2, 4, 8]);
});

import { parseMethod, requestFromArgs } from "../scripts/train.ts";
import { resolveTrainingRequest } from "../lib/train/request.ts";
import type { TrainingResult } from "../lib/train/types.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";

Deno.test("train CLI: method items and flags become a training request", () => {
  assertEquals(parseMethod("e2e"), { name: "e2e" });
  assertEquals(parseMethod("layerwise:loss=similarity"), { name: "layerwise", loss: "similarity" });
  assertEquals(parseMethod("layerwise:head=mlp:nhsic=0.1:target=local"), {
    name: "layerwise",
    head: "mlp",
    nhsic_lambda: 0.1,
    nhsic_target: "local",
  });
  assertThrows(() => parseMethod("layerwise:nhsic"), Error, "key=value");
  assertThrows(() => parseMethod("layerwise:foo=1"), Error, "unknown method option");

  const req = requestFromArgs({
    preset: "mlp",
    depth: "4",
    methods: "e2e,layerwise",
    epochs: "1",
    "train-limit": "2000",
    seed: "0",
  });
  assertEquals(req, {
    model: { preset: "mlp", depth: 4 },
    dataset: { name: "mnist", train_limit: 2000 },
    methods: [{ name: "e2e" }, { name: "layerwise" }],
    optimizer: { epochs: 1 },
    seed: 0,
  });
  const job = resolveTrainingRequest(req);
  assertEquals((job.model as { blocks: unknown[] }).blocks.length, 4);
  // A config file's fields stay unless a flag overrides them.
  const merged = requestFromArgs({ epochs: "2" }, {
    dataset: { name: "mnist", test_limit: 100 },
    optimizer: { lr: 0.01 },
  });
  assertEquals(merged.optimizer, { lr: 0.01, epochs: 2 });
  assertEquals(merged.dataset, { name: "mnist", test_limit: 100 });
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
  assertEquals(code, 0, log);
  assert(log.includes("\r"), "progress is a carriage-return line");
  const res = JSON.parse(await Deno.readTextFile(out)) as TrainingResult;
  assertEquals(res.methods.map((m) => m.method.label), ["e2e", "sequential(cross_entropy)"]);
  assertEquals(res.methods[0].curves.map((c) => c.step), [0, 2, 4]);
  assertEquals(res.methods[1].curves.map((c) => c.step), [0, 2, 4, 8]);
});

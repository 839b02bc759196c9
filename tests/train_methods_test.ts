import assert from "node:assert/strict";
import { tf } from "../lib/train/mod.ts";
import { getLinalg } from "../lib/linalg/mod.ts";
import { trainMethod } from "../lib/train/mod.ts";
import type { StepResult } from "../lib/train/methods/method.ts";
import { checkJobAgainstInput, resolveTrainingRequest } from "../lib/train/mod.ts";
import type { MethodResult, MethodSpec } from "../lib/train/mod.ts";
import { mnist } from "./train_helpers.ts";

const SMALL_CONV = {
  blocks: [
    {
      layers: [{ type: "conv2d", filters: 6, kernel: 3 }, { type: "relu" }, {
        type: "maxPool2d",
        size: 2,
      }],
    },
    {
      layers: [{ type: "conv2d", filters: 8, kernel: 3 }, { type: "batchNorm" }, { type: "relu" }, {
        type: "maxPool2d",
        size: 2,
      }],
    },
  ],
};
const SMALL_MLP = { preset: "mlp", depth: 2, width: 64 };

/** Trains one method on 512 MNIST samples and returns the objective of every step. */
async function objectives(
  method: MethodSpec,
  model: unknown,
  epochs = 2,
): Promise<StepResult[] & { result?: MethodResult }> {
  await tf.setBackend("wasm");
  const ds = await mnist(512, 128);
  const job = resolveTrainingRequest({
    dataset: { name: "mnist", train_limit: 512, test_limit: 128 },
    model,
    methods: [method],
    optimizer: { lr: 2e-3, batch_size: 64, epochs },
    tracking: { probe_size: 32, probe_batch: 32, first_epoch_points: 0 },
    backend: "wasm",
  });
  const steps: StepResult[] & { result?: MethodResult } = [];
  const before = tf.memory().numTensors;
  steps.result = await trainMethod({
    job,
    dataset: ds,
    plan: checkJobAgainstInput(job, ds.shape, ds.numClasses),
    method: { ...job.methods[0], label: job.methods[0].label ?? method.name },
    backend: { name: "wasm", device: "test" },
    linalg: getLinalg(),
    onStep: (_s, r) => steps.push(r),
  });
  assert(tf.memory().numTensors === before, `${method.name}: tensors leaked`);
  return steps;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The objective's mean over the last 4 steps is below its mean over the first 4 steps. */
function assertLowers(name: string, steps: StepResult[], from = 0, to = steps.length) {
  const obj = steps.slice(from, to).map((s) => s.objective);
  assert(obj.every(Number.isFinite), `${name}: non-finite objective ${obj}`);
  const first = mean(obj.slice(0, 4)), last = mean(obj.slice(-4));
  assert(last < first, `${name}: objective went from ${first.toFixed(4)} to ${last.toFixed(4)}`);
}

const CASES: Array<[string, MethodSpec, unknown]> = [
  ["e2e", { name: "e2e" }, SMALL_MLP],
  ["layerwise cross_entropy, linear head", { name: "layerwise" }, SMALL_MLP],
  ["layerwise cross_entropy, mlp head", { name: "layerwise", head: "mlp" }, SMALL_MLP],
  ["layerwise cross_entropy, conv head", { name: "layerwise", head: "conv" }, SMALL_CONV],
  ["layerwise similarity (conv maps)", { name: "layerwise", loss: "similarity" }, SMALL_CONV],
  ["layerwise similarity (flat)", { name: "layerwise", loss: "similarity" }, SMALL_MLP],
  [
    "layerwise supervised_contrastive",
    { name: "layerwise", loss: "supervised_contrastive" },
    SMALL_MLP,
  ],
  ["layerwise + nHSIC global", { name: "layerwise", nhsic_lambda: 0.01 }, SMALL_MLP],
  [
    "layerwise + nHSIC local",
    { name: "layerwise", nhsic_lambda: 0.01, nhsic_target: "local" },
    SMALL_MLP,
  ],
  [
    "layerwise + nHSIC global on the head's output",
    { name: "layerwise", nhsic_lambda: 0.01, nhsic_on: "head" },
    SMALL_MLP,
  ],
  [
    "layerwise + nHSIC local on the head's output (conv)",
    { name: "layerwise", nhsic_lambda: 0.01, nhsic_target: "local", nhsic_on: "head" },
    SMALL_CONV,
  ],
];

for (const [name, method, model] of CASES) {
  Deno.test(`${name} runs and lowers its own loss`, async () => {
    const steps = await objectives(method, model);
    assert(steps.length === 16, `steps ${steps.length}`);
    assertLowers(name, steps);
  });
}

Deno.test("sequential trains block by block and lowers each stage's loss", async () => {
  const steps = await objectives({ name: "sequential" }, SMALL_MLP, 2);
  assert(steps.length === 32, `two stages of 16 steps, got ${steps.length}`);
  assertLowers("sequential stage 1", steps, 0, 16);
  assertLowers("sequential stage 2", steps, 16, 32);
});

Deno.test("the nHSIC regulariser raises nHSIC(X; T) of layer-wise blocks", async () => {
  const plain = await objectives({ name: "layerwise" }, SMALL_MLP, 1);
  const reg = await objectives({ name: "layerwise", nhsic_lambda: 1 }, SMALL_MLP, 1);
  assertLowers("layerwise nhsic=1", reg);
  const lastX = (r: MethodResult) => r.analysis.checkpoints.at(-1)!.layers.map((l) => l.nhsic_x);
  const [a, b] = [lastX(plain.result!), lastX(reg.result!)];
  // fc1 and fc2 keep more of the input with the regulariser (probe set, after 8 steps).
  assert(b[0] > a[0] && b[1] > a[1], `nHSIC(X;T) without ${a} vs with ${b}`);
});

Deno.test("nhsic_on chooses whose output the regulariser measures: the block's or the head's", async () => {
  const block = await objectives({ name: "layerwise", nhsic_lambda: 1 }, SMALL_MLP, 1);
  const head = await objectives(
    { name: "layerwise", nhsic_lambda: 1, nhsic_on: "head" },
    SMALL_MLP,
    1,
  );
  // Same initial weights and batch: the local cross-entropies agree at the first step, the
  // regularisers do not (nHSIC of 64 ReLU units against that of 10 logits).
  assert(Number.isFinite(head[0].objective) && Number.isFinite(block[0].objective));
  assert(
    Math.abs(head[0].objective - block[0].objective) > 1e-3,
    `objectives ${head[0].objective} and ${block[0].objective}`,
  );
  assert.deepStrictEqual(head[0].loss, block[0].loss); // the classifier's loss is the same
});

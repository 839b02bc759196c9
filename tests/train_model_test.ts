import assert from "node:assert/strict";
import { tf } from "../lib/train/mod.ts";
import { InputError } from "../lib/errors.ts";
import { checkModelAgainstInput, resolveModelSpec } from "../lib/train/model_def.ts";
import { Network } from "../lib/train/mod.ts";
import { resolveTrainingRequest, TrainingRequestSchema } from "../lib/train/mod.ts";
const PRESET_SHAPES: Record<string, Record<string, number[][]>> = {
  "mnist": {
    "mlp": [[256], [256], [256], [256], [10]],
    "lenet5": [[14, 14, 6], [5, 5, 16], [120], [84], [10]],
    "vgg-small": [[14, 14, 16], [7, 7, 32], [7, 7, 64], [3, 3, 64], [10]],
    "resnet-small": [[28, 28, 16], [28, 28, 16], [14, 14, 32], [7, 7, 64], [10]],
  },
  "cifar": {
    "mlp": [[256], [256], [256], [256], [10]],
    "lenet5": [[16, 16, 6], [6, 6, 16], [120], [84], [10]],
    "vgg-small": [[16, 16, 16], [8, 8, 32], [8, 8, 64], [4, 4, 64], [10]],
    "resnet-small": [[32, 32, 16], [32, 32, 16], [16, 16, 32], [8, 8, 64], [10]],
  },
};

Deno.test("presets build and run a forward pass on their input shapes", async () => {
  await tf.setBackend("wasm");
  const ctx = { training: false, nextSeed: () => 0 };
  for (const [ds, shape] of [["mnist", [28, 28, 1]], ["cifar", [32, 32, 3]]] as const) {
    for (const [preset, expected] of Object.entries(PRESET_SHAPES[ds])) {
      const plan = checkModelAgainstInput({ preset }, [...shape], 10);
      const net = new Network(plan, 0);
      const before = tf.memory().numTensors;
      const shapes = tf.tidy(() => {
        const x = tf.randomNormal([3, ...shape], 0, 1, "float32", 1);
        const { outputs, logits } = net.forward(x, ctx);
        for (const t of [...outputs, logits]) {
          assert(t.dataSync().every(Number.isFinite), `${preset}: non-finite activations`);
        }
        return [...outputs, logits].map((t) => t.shape.slice(1));
      });
      assert.deepStrictEqual(shapes, expected, `${preset} on ${ds}`);
      assert.deepStrictEqual(net.trackedNames.length, expected.length);
      assert.deepStrictEqual(tf.memory().numTensors, before, `${preset}: forward leaks tensors`);
      net.dispose();
    }
  }
});

Deno.test("preset options: depth, width, activation", () => {
  const mlp = checkModelAgainstInput({ preset: "mlp", depth: 2, width: 64, activation: "tanh" }, [
    784,
  ], 10);
  assert.deepStrictEqual(mlp.blocks.map((b) => b.name), ["fc1", "fc2"]);
  assert.deepStrictEqual(mlp.blocks.map((b) => b.outShape), [[64], [64]]);
  assert.deepStrictEqual(mlp.params, 784 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10);
  const full = checkModelAgainstInput({ preset: "vgg-small", width: 1 }, [32, 32, 3], 10);
  assert.deepStrictEqual(full.blocks.map((b) => b.outShape[2]), [64, 128, 256, 256]);
  const deep = checkModelAgainstInput({ preset: "resnet-small", depth: 2 }, [32, 32, 3], 10);
  assert.deepStrictEqual(deep.blocks.map((b) => b.name), [
    "stem",
    "res1_1",
    "res1_2",
    "res2_1",
    "res2_2",
    "res3_1",
    "res3_2",
  ]);
});

Deno.test("invalid definitions give InputError invalid-model naming the layer", () => {
  const cases: Array<[unknown, number[], string, string]> = [
    [
      { blocks: [{ layers: [{ type: "dense", units: 10 }] }] },
      [28, 28, 1],
      "model.blocks[0].layers[0]",
      "put a flatten layer before it",
    ],
    [
      {
        blocks: [{ layers: [{ type: "flatten" }] }, {
          layers: [{ type: "dense", units: 3 }, { type: "relu" }, {
            type: "conv2d",
            filters: 3,
            kernel: 3,
          }],
        }],
      },
      [28, 28, 1],
      "model.blocks[1].layers[2]",
      "needs an image input",
    ],
    [
      { blocks: [{ layers: [{ type: "maxPool2d", size: 2 }, { type: "maxPool2d", size: 20 }] }] },
      [28, 28, 1],
      "model.blocks[0].layers[1]",
      "window 20 is larger",
    ],
    [
      { blocks: [{ layers: [{ type: "conv2d", filters: 2, kernel: 5, padding: "valid" }] }] },
      [4, 4, 1],
      "model.blocks[0].layers[0]",
      "does not fit",
    ],
    [
      { blocks: [{ layers: [{ type: "dense", units: 0 }] }] },
      [784],
      "model.blocks[0].layers[0]",
      "units",
    ],
    [
      { blocks: [{ layers: [{ type: "swish" }] }] },
      [784],
      "model.blocks[0].layers[0]",
      "unknown layer",
    ],
    [
      { blocks: [{ layers: [{ type: "relu", alpha: 1 }] }] },
      [784],
      "model.blocks[0].layers[0]",
      'unknown field "alpha"',
    ],
    [
      { blocks: [{ type: "residual", filters: 4 }] },
      [784],
      "model.blocks[0]",
      "residual block needs an image",
    ],
    [
      { blocks: [{ layers: [{ type: "relu" }] }], extra: true },
      [784],
      "model",
      'unknown field "extra"',
    ],
    [
      {
        blocks: [{ name: "a", layers: [{ type: "relu" }] }, {
          name: "a",
          layers: [{ type: "relu" }],
        }],
      },
      [784],
      "model.blocks[1]",
      "used twice",
    ],
    [
      { blocks: [{ name: "logits", layers: [{ type: "relu" }] }] },
      [784],
      "model.blocks[0]",
      "reserved",
    ],
    [{ preset: "alexnet" }, [784], "model.preset", "unknown preset"],
    [
      {
        blocks: [{
          layers: [{ type: "flatten" }, { type: "dense", units: 60000 }, {
            type: "dense",
            units: 60000,
          }],
        }],
      },
      [784],
      "model",
      "parameters",
    ],
  ];
  for (const [model, shape, field, text] of cases) {
    assert.throws(() => checkModelAgainstInput(model, shape, 10), (e: unknown) => {
      assert.ok(e instanceof InputError && e.message.includes(text), String(e));
      assert.deepStrictEqual(e.problem, "invalid-model");
      assert.deepStrictEqual(e.field, field, JSON.stringify(model));
      assert.deepStrictEqual(e.status, 422);
      assert.ok(e.message.startsWith(field), e.message);
      return true;
    });
  }
});

Deno.test("resolveTrainingRequest fills defaults and expands presets", () => {
  const job = resolveTrainingRequest({ dataset: { name: "mnist" } });
  assert.deepStrictEqual(job.optimizer, { lr: 5e-4, weight_decay: 0, epochs: 1, batch_size: 128 });
  assert.deepStrictEqual(job.seed, 0);
  assert.deepStrictEqual(job.backend, "auto");
  assert.deepStrictEqual(job.tracking.probe_size, 1024);
  assert.deepStrictEqual(job.tracking.probe_batch, 128);
  assert.deepStrictEqual(job.tracking.first_epoch_points, 4);
  assert.deepStrictEqual(job.tracking.estimator.batch_size, 128);
  assert.deepStrictEqual(job.tracking.estimator.sigma, 5);
  assert.deepStrictEqual(job.methods.map((m) => m.label), ["e2e", "layerwise(cross_entropy)"]);
  assert.deepStrictEqual(job.model, resolveModelSpec({ preset: "mlp" }));
  assert.deepStrictEqual((job.model as { blocks: unknown[] }).blocks.length, 4);
  assert(TrainingRequestSchema.safeParse({ dataset: { name: "mnist" } }).success);

  const j2 = resolveTrainingRequest({
    dataset: { name: "cifar10", train_limit: 500 },
    model: { preset: "vgg-small" },
    methods: [
      { name: "layerwise", head: "conv" },
      { name: "layerwise", loss: "similarity", nhsic_lambda: 0.5, nhsic_target: "local" },
      { name: "sequential", loss: "supervised_contrastive", label: "seq-sc" },
    ],
    optimizer: { lr: 1e-3, epochs: 3 },
    tracking: { probe_size: 256, estimator: { kernel: "linear" } },
    seed: 4,
  });
  assert.deepStrictEqual(j2.methods.map((m) => m.label), [
    "layerwise(cross_entropy, head=conv)",
    "layerwise(similarity, nhsic=0.5 local)",
    "seq-sc",
  ]);
  assert.deepStrictEqual(j2.methods[2].head, "linear");
  // The regulariser measures the block's output unless told to measure the head's.
  assert.deepStrictEqual(j2.methods[1].nhsic_on, "block");
  const j3 = resolveTrainingRequest({
    dataset: { name: "mnist" },
    methods: [{ name: "layerwise", nhsic_lambda: 0.1, nhsic_on: "head" }],
  });
  assert.deepStrictEqual(j3.methods[0].label, "layerwise(cross_entropy, nhsic=0.1 global on head)");
  assert.deepStrictEqual(j3.methods[0].nhsic_on, "head");
  assert.deepStrictEqual(j2.tracking.estimator.kernel, "linear");
  assert.deepStrictEqual(j2.optimizer.batch_size, 128);
});

Deno.test("resolveTrainingRequest rejects bad requests with the field at fault", () => {
  const cases: Array<[unknown, string, string]> = [
    [{}, "missing-field", "dataset"],
    [{ dataset: { name: "mnist" }, epochs: 3 }, "invalid-request", "(body)"],
    [{ dataset: { name: "mnist", foo: 1 } }, "invalid-request", "dataset"],
    [{ dataset: { name: "mnist" }, optimizer: { lr: -1 } }, "invalid-request", "optimizer.lr"],
    [
      { dataset: { name: "mnist" }, tracking: { estimator: { batch_size: 64 } } },
      "invalid-estimator",
      "tracking.estimator",
    ],
    [
      { dataset: { name: "mnist" }, tracking: { estimator: { sigma: 0 } } },
      "invalid-estimator",
      "tracking.estimator.sigma",
    ],
    [
      { dataset: { name: "mnist" }, tracking: { probe_size: 64, probe_batch: 128 } },
      "invalid-model",
      "tracking.probe_batch",
    ],
    [
      { dataset: { name: "mnist" }, methods: [{ name: "e2e", loss: "similarity" }] },
      "invalid-model",
      "methods[0].loss",
    ],
    [
      {
        dataset: { name: "mnist" },
        methods: [{ name: "layerwise", loss: "similarity", head: "mlp" }],
      },
      "invalid-model",
      "methods[0].head",
    ],
    [
      { dataset: { name: "mnist" }, methods: [{ name: "layerwise", nhsic_target: "local" }] },
      "invalid-model",
      "methods[0].nhsic_target",
    ],
    [
      { dataset: { name: "mnist" }, methods: [{ name: "layerwise", nhsic_on: "head" }] },
      "invalid-model",
      "methods[0].nhsic_on",
    ],
    [
      {
        dataset: { name: "mnist" },
        methods: [{ name: "layerwise", loss: "similarity", nhsic_lambda: 1, nhsic_on: "head" }],
      },
      "invalid-model",
      "methods[0].nhsic_on",
    ],
    [
      { dataset: { name: "mnist" }, methods: [{ name: "e2e", nhsic_on: "block" }] },
      "invalid-model",
      "methods[0].nhsic_on",
    ],
    [
      { dataset: { name: "mnist" }, methods: [{ name: "layerwise", head: "conv" }] },
      "invalid-model",
      "methods[0].head",
    ],
    [
      { dataset: { name: "mnist" }, methods: [{ name: "e2e" }, { name: "e2e" }] },
      "invalid-model",
      "methods[1].label",
    ],
    [
      {
        dataset: { name: "mnist" },
        model: { blocks: [{ layers: [{ type: "dense", units: 3 }] }] },
      },
      "invalid-model",
      "model.blocks[0].layers[0]",
    ],
  ];
  for (const [raw, problem, field] of cases) {
    assert.throws(() => resolveTrainingRequest(raw), (e: unknown) => {
      assert.ok(e instanceof InputError, String(e));
      assert.deepStrictEqual(
        [e.problem, e.field],
        [problem, field],
        `${JSON.stringify(raw)}: ${e}`,
      );
      return true;
    });
  }
  // Uploads are checked when loaded: the same model passes resolution.
  resolveTrainingRequest({
    dataset: { name: "upload", path: "x.npz" },
    model: { blocks: [{ layers: [{ type: "dense", units: 3 }] }] },
  });
});

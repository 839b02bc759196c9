/**
 * What the experiments' configurations share: the optimiser, tracking and evaluation settings of
 * each scale ("cpu": finishes on a 2-core machine: data subsets, few epochs; "full": meant for a
 * GPU: whole datasets, paper defaults; "micro": tests only), the model families, and how a
 * configuration and a seed become a run (lib/experiments/types.ts RunSpec): one training job per
 * configuration and seed, whose methods share the seed's initial weights and batch order.
 *
 * The settings are written out in docs/experiments.md; keep both in step.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import type { TrainingRequest } from "../train/mod.ts";
import type { MethodSpec } from "../train/mod.ts";
import type { RunOptions, SuiteDataset } from "./_experiment.ts";
import type { ExperimentName, ExperimentSettings, RunSpec, Scale } from "./types.ts";

/** Optimiser, tracking and evaluation settings shared by the experiments of a scale. */
export interface ScaleBase {
  lr: number;
  batch: number;
  probe_size: number;
  probe_batch: number;
  /** First n test images for accuracy and probes (undefined: the whole test split). */
  test_limit?: number;
  seeds: number[];
}

/**
 * CPU: Adam at lr 1e-3 with batches of 64 instead of the paper's 5e-4 and 128, so that a couple of
 * epochs on a few thousand images are enough steps for layer-wise training's separately trained
 * output classifier to converge (at 5e-4 and 128 it stays near chance after 2 epochs on 4000
 * images, which would decide claim 1 by an artefact). Long and full scales use the paper's
 * defaults on the whole training split; long tracks nHSIC on 512 probe samples (so that the
 * estimator sweep's batches of 512 are one batch) and tests on the whole test split.
 */
export const BASE: Record<Scale, ScaleBase> = {
  micro: { lr: 1e-3, batch: 32, probe_size: 64, probe_batch: 32, test_limit: 64, seeds: [0, 1, 2] },
  cpu: {
    lr: 1e-3,
    batch: 64,
    probe_size: 512,
    probe_batch: 128,
    test_limit: 1000,
    seeds: [0, 1, 2],
  },
  long: { lr: 5e-4, batch: 128, probe_size: 512, probe_batch: 128, seeds: [0, 1, 2] },
  full: { lr: 5e-4, batch: 128, probe_size: 1024, probe_batch: 128, seeds: [0, 1, 2, 3, 4] },
};

/** A model family at a depth. */
export interface ModelChoice {
  family: "mlp" | "conv";
  depth: number;
  /** MLP units per block. */
  width?: number;
  /** Conv channels of the first block and of every later block. */
  channels?: [number, number];
}

/** The model definition of a choice (a preset or a block list for lib/train/model_def.ts). */
export function modelOf(m: ModelChoice): unknown {
  if (m.family === "mlp") return { preset: "mlp", depth: m.depth, width: m.width ?? 256 };
  return convNet(m.depth, m.channels ?? [16, 32]);
}

/**
 * A plain conv net of `depth` blocks (3x3 "same" convolutions with ReLU): block 1 has c1 channels
 * and halves the image (max-pool 2), block 2 has c2 and halves it again, blocks 3.. keep c2 and
 * the 7 x 7 size of MNIST. Depth is the only thing that changes along a series.
 */
export function convNet(depth: number, [c1, c2]: [number, number]): unknown {
  const blocks = [];
  for (let i = 1; i <= depth; i++) {
    const layers: unknown[] = [
      { type: "conv2d", filters: i === 1 ? c1 : c2, kernel: 3 },
      { type: "relu" },
    ];
    if (i <= 2) layers.push({ type: "maxPool2d", size: 2 });
    blocks.push({ name: `conv${i}`, layers });
  }
  return { blocks };
}

/** "mlp w128", "conv c8/16". */
export function modelName(m: ModelChoice): string {
  return m.family === "mlp" ? `mlp w${m.width}` : `conv c${(m.channels ?? []).join("/")}`;
}

/** E2E against layer-wise training with local cross-entropy. */
export const E2E_VS_LAYERWISE: MethodSpec[] = [{ name: "e2e" }, {
  name: "layerwise",
  loss: "cross_entropy",
}];

/** One training configuration (without the seed). */
export interface Config {
  dataset: SuiteDataset;
  train: number | undefined;
  model: ModelChoice;
  epochs: number;
  firstEpochPoints: number;
  methods: MethodSpec[];
}

/** The seeds of a scale (or the test-only override), at least three outside "micro". */
export function seedsOf(scale: Scale, opts: RunOptions): number[] {
  const seeds = opts.seeds ?? BASE[scale].seeds;
  if (seeds.length === 0) throw new InputError("invalid-request", "at least one seed is needed");
  if (seeds.length < 3 && scale !== "micro") {
    throw new InputError(
      "invalid-request",
      `every experiment reports a spread over at least 3 seeds; got ${seeds.length} at scale ` +
        `"${scale}"`,
      "seeds",
    );
  }
  return seeds;
}

/** The training request of a configuration and seed. */
export function requestOf(
  c: Config,
  scale: Scale,
  seed: number,
  opts: RunOptions,
): TrainingRequest {
  const b = BASE[scale];
  const dir = opts.datasetDirs?.[c.dataset];
  return {
    model: modelOf(c.model) as TrainingRequest["model"],
    dataset: {
      name: c.dataset,
      ...(c.train === undefined ? {} : { train_limit: c.train }),
      ...(b.test_limit === undefined ? {} : { test_limit: b.test_limit }),
      ...(dir ? { dir } : {}),
    },
    methods: c.methods,
    optimizer: { lr: b.lr, batch_size: b.batch, epochs: c.epochs, weight_decay: 0 },
    tracking: {
      probe_size: b.probe_size,
      probe_batch: b.probe_batch,
      first_epoch_points: c.firstEpochPoints,
      linear_probe: false,
    },
    seed,
    backend: opts.backend ?? "auto",
  };
}

/** The runs of configurations over the scale's seeds; group "<dataset>/<family>/d<depth>". */
export function configRuns(
  name: ExperimentName,
  configs: Config[],
  scale: Scale,
  opts: RunOptions,
  probe?: RunSpec["probe"],
): RunSpec[] {
  const out: RunSpec[] = [];
  for (const c of configs) {
    const group = `${c.dataset}/${c.model.family}/d${c.model.depth}`;
    for (const seed of seedsOf(scale, opts)) {
      out.push({
        key: `${name}/${group}/seed${seed}`,
        experiment: name,
        group,
        tags: {
          dataset: c.dataset,
          model: c.model.family,
          model_name: modelName(c.model),
          depth: c.model.depth,
          ...(c.train === undefined ? {} : { train_limit: c.train }),
          epochs: c.epochs,
        },
        seed,
        request: requestOf(c, scale, seed, opts),
        ...(probe ? { probe } : {}),
      });
    }
  }
  return out;
}

function trainWords(train: number | undefined): string {
  return train === undefined ? "all training images" : `the first ${train} training images`;
}

/** The optimiser and evaluation settings of a scale, in words. */
export function baseWords(scale: Scale): string[] {
  const b = BASE[scale];
  const test = b.test_limit === undefined
    ? "the whole test split"
    : `the first ${b.test_limit} test images`;
  return [
    `Adam, lr ${b.lr}, weight decay 0, batches of ${b.batch}; same initial weights and batch ` +
    "order for every method of a seed.",
    `Test accuracy on ${test}; nHSIC tracked on the first ${b.probe_size} test images in ` +
    `batches of ${b.probe_batch} (Gaussian kernel, sigma 5 scaled by sqrt(d), eps 1e-5, linear ` +
    "label kernel).",
  ];
}

function configWords(c: Config): string {
  const m = c.model;
  const model = m.family === "mlp"
    ? `MLP, ${m.depth} block${m.depth > 1 ? "s" : ""} of ${m.width} ReLU units`
    : `conv net, ${m.depth} block${m.depth > 1 ? "s" : ""} (3x3 convs, ${m.channels?.[0]} then ` +
      `${m.channels?.[1]} channels, max-pool after blocks 1-2)`;
  return `${c.dataset}: ${trainWords(c.train)}, ${c.epochs} epoch${c.epochs > 1 ? "s" : ""}, ` +
    `${model}; tracking points: step 0, ${c.firstEpochPoints} inside epoch 1, every epoch end.`;
}

/** "Methods: e2e, layerwise(cross_entropy)." */
export function methodWords(methods: MethodSpec[]): string {
  return "Methods: " +
    methods.map((m) =>
      m.name === "e2e"
        ? "e2e"
        : `${m.name}(${m.loss ?? "cross_entropy"}${
          m.nhsic_lambda
            ? `, nHSIC lambda ${m.nhsic_lambda} ${m.nhsic_target}` +
              (m.nhsic_on === "head" ? " on the head's output" : "")
            : ""
        })`
    ).join(", ") + ".";
}

/** The settings of configurations: descriptions, seeds and one seed's requests. */
export function settingsOf(
  configs: Config[],
  scale: Scale,
  opts: RunOptions,
  extra: string[] = [],
): ExperimentSettings {
  const seeds = seedsOf(scale, opts);
  const methods = [...new Map(configs.flatMap((c) => c.methods).map((m) => [JSON.stringify(m), m]))
    .values()];
  return {
    description: [
      ...configs.map(configWords),
      methodWords(methods),
      ...baseWords(scale),
      ...extra,
    ],
    seeds,
    requests: configs.map((c) => requestOf(c, scale, seeds[0], opts)),
  };
}

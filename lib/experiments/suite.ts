/**
 * The named experiments that reproduce the paper (PAPER.md, "Claims the service must be able to
 * show"), each at three scales: "cpu" (finishes on a 2-core machine: data subsets, few epochs),
 * "full" (meant for a GPU: whole datasets, paper defaults) and "micro" (tests only). Every
 * experiment expands into runs (lib/experiments/types.ts RunSpec): one training job per
 * configuration and seed, whose methods share the seed's initial weights and batch order.
 *
 * The settings are written out in docs/experiments.md; keep both in step.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import type { TrainingRequest } from "../train/request.ts";
import type { BackendName, MethodSpec } from "../train/types.ts";
import { toyModel } from "./toy.ts";
import {
  EXPERIMENT_NAMES,
  type ExperimentName,
  type ExperimentSettings,
  type RunSpec,
  type Scale,
} from "./types.ts";

/** Datasets the suite trains on besides the toy. */
export type SuiteDataset = "mnist" | "fashion-mnist";

/** Options that shape the runs of an experiment. */
export interface RunOptions {
  /** Directories holding a dataset's canonical files (else: embedded MNIST, downloads). */
  datasetDirs?: Partial<Record<SuiteDataset, string>>;
  backend?: BackendName | "auto";
  /**
   * Test-only: other seeds than the scale's (fewer than 3 only at scale "micro").
   */
  seeds?: number[];
}

/** An experiment: what it asks, which claims it informs, and its runs at each scale. */
export interface ExperimentDef {
  name: ExperimentName;
  title: string;
  question: string;
  claims: number[];
  /** The runs of every configuration and seed. */
  runs(scale: Scale, opts?: RunOptions): RunSpec[];
  /** What the runs are, in words, with the requests of one seed. */
  settings(scale: Scale, opts?: RunOptions): ExperimentSettings;
}

/** Optimiser, tracking and evaluation settings shared by the experiments of a scale. */
interface ScaleBase {
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
 * images, which would decide claim 1 by an artefact). Full scale uses the paper's defaults.
 */
const BASE: Record<Scale, ScaleBase> = {
  micro: { lr: 1e-3, batch: 32, probe_size: 64, probe_batch: 32, test_limit: 64, seeds: [0, 1, 2] },
  cpu: {
    lr: 1e-3,
    batch: 64,
    probe_size: 512,
    probe_batch: 128,
    test_limit: 1000,
    seeds: [0, 1, 2],
  },
  full: { lr: 5e-4, batch: 128, probe_size: 1024, probe_batch: 128, seeds: [0, 1, 2, 3, 4] },
};

/** A model family at a depth. */
interface ModelChoice {
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

function modelName(m: ModelChoice): string {
  return m.family === "mlp" ? `mlp w${m.width}` : `conv c${(m.channels ?? []).join("/")}`;
}

/** The five method variants of the accuracy comparison. */
const ALL_METHODS: MethodSpec[] = [
  { name: "e2e" },
  { name: "layerwise", loss: "cross_entropy" },
  { name: "layerwise", loss: "similarity" },
  { name: "layerwise", loss: "supervised_contrastive" },
  { name: "sequential", loss: "cross_entropy" },
];

const E2E_VS_LAYERWISE: MethodSpec[] = [{ name: "e2e" }, {
  name: "layerwise",
  loss: "cross_entropy",
}];

/** One training configuration (without the seed). */
interface Config {
  dataset: SuiteDataset;
  train: number | undefined;
  model: ModelChoice;
  epochs: number;
  firstEpochPoints: number;
  methods: MethodSpec[];
}

function seedsOf(scale: Scale, opts: RunOptions): number[] {
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

function requestOf(c: Config, scale: Scale, seed: number, opts: RunOptions): TrainingRequest {
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

function configRuns(
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

function baseWords(scale: Scale): string[] {
  const b = BASE[scale];
  const test = b.test_limit === undefined ? "the whole test split" : `the first ${b.test_limit}`;
  return [
    `Adam, lr ${b.lr}, weight decay 0, batches of ${b.batch}; same initial weights and batch ` +
    "order for every method of a seed.",
    `Test accuracy on ${test} test images; nHSIC tracked on the first ${b.probe_size} of them in ` +
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

function methodWords(methods: MethodSpec[]): string {
  return "Methods: " +
    methods.map((m) =>
      m.name === "e2e"
        ? "e2e"
        : `${m.name}(${m.loss ?? "cross_entropy"}${
          m.nhsic_lambda ? `, nHSIC lambda ${m.nhsic_lambda} ${m.nhsic_target}` : ""
        })`
    ).join(", ") + ".";
}

function settingsOf(
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

// ---------------------------------------------------------------------------------------------
// accuracy-vs-depth

const DEPTH_SCALES: Record<Scale, {
  datasets: SuiteDataset[];
  mlp: { depths: number[]; width: number; train?: number };
  conv: { depths: number[]; channels: [number, number]; train?: number };
  epochs: number;
  firstEpochPoints: number;
}> = {
  micro: {
    datasets: ["mnist", "fashion-mnist"],
    mlp: { depths: [1, 2], width: 16, train: 128 },
    conv: { depths: [1, 2], channels: [2, 4], train: 128 },
    epochs: 1,
    firstEpochPoints: 1,
  },
  cpu: {
    datasets: ["mnist", "fashion-mnist"],
    mlp: { depths: [1, 2, 4, 6], width: 128, train: 6000 },
    conv: { depths: [1, 2, 4], channels: [8, 16], train: 4000 },
    epochs: 3,
    firstEpochPoints: 1,
  },
  full: {
    datasets: ["mnist", "fashion-mnist"],
    mlp: { depths: [1, 2, 3, 4, 6, 8], width: 256 },
    conv: { depths: [1, 2, 3, 4, 6], channels: [16, 32] },
    epochs: 20,
    firstEpochPoints: 4,
  },
};

function depthConfigs(scale: Scale): Config[] {
  const s = DEPTH_SCALES[scale];
  const out: Config[] = [];
  for (const dataset of s.datasets) {
    for (const depth of s.mlp.depths) {
      out.push({
        dataset,
        train: s.mlp.train,
        model: { family: "mlp", depth, width: s.mlp.width },
        epochs: s.epochs,
        firstEpochPoints: s.firstEpochPoints,
        methods: ALL_METHODS,
      });
    }
    for (const depth of s.conv.depths) {
      out.push({
        dataset,
        train: s.conv.train,
        model: { family: "conv", depth, channels: s.conv.channels },
        epochs: s.epochs,
        firstEpochPoints: s.firstEpochPoints,
        methods: ALL_METHODS,
      });
    }
  }
  return out;
}

const accuracyVsDepth: ExperimentDef = {
  name: "accuracy-vs-depth",
  title: "Accuracy against depth",
  question: "Does layer-wise accuracy saturate with depth while E2E keeps improving?",
  claims: [1, 2],
  runs: (scale, opts = {}) => configRuns("accuracy-vs-depth", depthConfigs(scale), scale, opts),
  settings: (scale, opts = {}) =>
    settingsOf(depthConfigs(scale), scale, opts, [
      "Sequential training trains each block for the given number of epochs, one block after " +
      "another (depth x the epochs of the other methods).",
    ]),
};

// ---------------------------------------------------------------------------------------------
// information-dynamics

const DYNAMICS: Record<Scale, Config[]> = {
  micro: [{
    dataset: "mnist",
    train: 128,
    model: { family: "mlp", depth: 3, width: 16 },
    epochs: 2,
    firstEpochPoints: 1,
    methods: E2E_VS_LAYERWISE,
  }],
  cpu: [
    {
      dataset: "mnist",
      train: 10000,
      model: { family: "mlp", depth: 5, width: 128 },
      epochs: 20,
      firstEpochPoints: 4,
      methods: E2E_VS_LAYERWISE,
    },
    {
      dataset: "fashion-mnist",
      train: 4000,
      model: { family: "conv", depth: 4, channels: [8, 16] },
      epochs: 10,
      firstEpochPoints: 4,
      methods: E2E_VS_LAYERWISE,
    },
  ],
  full: [
    {
      dataset: "mnist",
      train: undefined,
      model: { family: "mlp", depth: 5, width: 256 },
      epochs: 50,
      firstEpochPoints: 4,
      methods: E2E_VS_LAYERWISE,
    },
    {
      dataset: "fashion-mnist",
      train: undefined,
      model: { family: "conv", depth: 4, channels: [16, 32] },
      epochs: 30,
      firstEpochPoints: 4,
      methods: E2E_VS_LAYERWISE,
    },
  ],
};

const informationDynamics: ExperimentDef = {
  name: "information-dynamics",
  title: "Information dynamics per layer",
  question: "How do nHSIC(X;T_l) and nHSIC(Y;T_l) of each layer evolve during E2E and layer-wise " +
    "training: early label propagation, late compression of middle layers, an information " +
    "bottleneck at the output?",
  claims: [2, 3, 4],
  runs: (scale, opts = {}) => configRuns("information-dynamics", DYNAMICS[scale], scale, opts),
  settings: (scale, opts = {}) => settingsOf(DYNAMICS[scale], scale, opts),
};

// ---------------------------------------------------------------------------------------------
// toy

const TOY: Record<Scale, { train: number; test: number; width: number; epochs: number }> = {
  micro: { train: 256, test: 64, width: 8, epochs: 2 },
  cpu: { train: 4000, test: 1000, width: 32, epochs: 20 },
  full: { train: 20000, test: 5000, width: 64, epochs: 40 },
};

const TOY_METHODS: MethodSpec[] = [
  { name: "e2e" },
  { name: "layerwise", loss: "cross_entropy" },
  { name: "sequential", loss: "cross_entropy" },
];

/** Seed of a toy run's data: fixed offset from the training seed, so seeds also resample data. */
export function toyDataSeed(seed: number): number {
  return 1000 + seed;
}

function toyRequest(scale: Scale, seed: number, opts: RunOptions): TrainingRequest {
  const t = TOY[scale], b = BASE[scale];
  return {
    model: toyModel(t.width) as TrainingRequest["model"],
    dataset: { name: "upload", path: "(in-memory toy data)" },
    methods: TOY_METHODS,
    optimizer: { lr: b.lr, batch_size: b.batch, epochs: t.epochs, weight_decay: 0 },
    tracking: {
      probe_size: Math.min(b.probe_size, t.test),
      probe_batch: b.probe_batch,
      first_epoch_points: 2,
      linear_probe: false,
    },
    seed,
    backend: opts.backend ?? "auto",
  };
}

const toy: ExperimentDef = {
  name: "toy",
  title: "Toy: greedy training discards what a later layer needs",
  question:
    "When the label is the XOR of two input signs and a noisy shortcut is available, does " +
    "greedy layer-wise training drop the XOR features at the bottleneck while E2E keeps them?",
  claims: [2],
  runs: (scale, opts = {}) =>
    seedsOf(scale, opts).map((seed) => ({
      key: `toy/xor-shortcut/seed${seed}`,
      experiment: "toy" as const,
      group: "xor-shortcut",
      tags: { dataset: "toy", model: "bottleneck-3", train: TOY[scale].train },
      seed,
      request: toyRequest(scale, seed, opts),
      toy: { train: TOY[scale].train, test: TOY[scale].test, seed: toyDataSeed(seed) },
      probe: { toy_features: true },
    })),
  settings: (scale, opts = {}) => {
    const t = TOY[scale];
    const seeds = seedsOf(scale, opts);
    return {
      description: [
        `Data (lib/experiments/toy.ts): x = (e, u, v), u, v ~ N(0, 1), y = [u v > 0]; shortcut ` +
        `e = s (2y - 1) + 0.3 n with s = -1 w.p. 0.2. ${t.train} training and ${t.test} test ` +
        "samples, drawn with data seed 1000 + seed.",
        `Model: fc1 = dense(3) + tanh (bottleneck), fc2, fc3 = dense(${t.width}) + ReLU; ` +
        `${t.epochs} epochs.`,
        methodWords(TOY_METHODS),
        ...baseWords(scale).slice(0, 1),
        "Probes at every tracking point: nHSIC(U;T_l) with U = (u, v) and nHSIC(E;T_l) with " +
        "E = e, same estimator as nHSIC(X;T_l), normalised by nHSIC(U;U) and nHSIC(E;E).",
      ],
      seeds,
      requests: [toyRequest(scale, seeds[0], opts)],
    };
  },
};

// ---------------------------------------------------------------------------------------------
// nhsic-regularised

const REGULARISED: Record<Scale, { configs: Omit<Config, "methods">[]; lambdas: number[] }> = {
  micro: {
    configs: [{
      dataset: "mnist",
      train: 128,
      model: { family: "mlp", depth: 2, width: 16 },
      epochs: 1,
      firstEpochPoints: 1,
    }],
    lambdas: [0.01],
  },
  cpu: {
    configs: [{
      dataset: "mnist",
      train: 5000,
      model: { family: "mlp", depth: 4, width: 128 },
      epochs: 4,
      firstEpochPoints: 2,
    }],
    lambdas: [0.001, 0.01, 0.1],
  },
  full: {
    configs: [
      {
        dataset: "mnist",
        train: undefined,
        model: { family: "mlp", depth: 4, width: 256 },
        epochs: 20,
        firstEpochPoints: 4,
      },
      {
        dataset: "fashion-mnist",
        train: undefined,
        model: { family: "mlp", depth: 4, width: 256 },
        epochs: 20,
        firstEpochPoints: 4,
      },
    ],
    lambdas: [0.001, 0.01, 0.1, 1],
  },
};

function regularisedConfigs(scale: Scale): Config[] {
  const r = REGULARISED[scale];
  const methods: MethodSpec[] = [...E2E_VS_LAYERWISE];
  for (const target of ["global", "local"] as const) {
    for (const lambda of r.lambdas) {
      methods.push({
        name: "layerwise",
        loss: "cross_entropy",
        nhsic_lambda: lambda,
        nhsic_target: target,
      });
    }
  }
  return r.configs.map((c) => ({ ...c, methods }));
}

const nhsicRegularised: ExperimentDef = {
  name: "nhsic-regularised",
  title: "Layer-wise training with an nHSIC term",
  question:
    "Does adding lambda * nHSIC (against the input, or the block's own input) to the local " +
    "losses move the layers' nHSIC, and does accuracy still lag E2E?",
  claims: [6],
  runs: (scale, opts = {}) =>
    configRuns("nhsic-regularised", regularisedConfigs(scale), scale, opts),
  settings: (scale, opts = {}) =>
    settingsOf(regularisedConfigs(scale), scale, opts, [
      "Local loss of block l: cross-entropy of its linear head minus lambda * nHSIC(X; T_l) " +
      '("global") or minus lambda * nHSIC(T_{l-1}; T_l) ("local"), on the mini-batch ' +
      "(raw nHSIC, not normalised).",
    ]),
};

// ---------------------------------------------------------------------------------------------
// entanglement

const ENTANGLEMENT: Record<Scale, Config[]> = {
  micro: [{
    dataset: "mnist",
    train: 128,
    model: { family: "mlp", depth: 3, width: 16 },
    epochs: 1,
    firstEpochPoints: 1,
    methods: E2E_VS_LAYERWISE,
  }],
  cpu: [
    {
      dataset: "mnist",
      train: 6000,
      model: { family: "mlp", depth: 5, width: 128 },
      epochs: 8,
      firstEpochPoints: 2,
      methods: E2E_VS_LAYERWISE,
    },
    {
      dataset: "fashion-mnist",
      train: 4000,
      model: { family: "conv", depth: 4, channels: [8, 16] },
      epochs: 6,
      firstEpochPoints: 2,
      methods: E2E_VS_LAYERWISE,
    },
  ],
  full: [
    {
      dataset: "mnist",
      train: undefined,
      model: { family: "mlp", depth: 5, width: 256 },
      epochs: 20,
      firstEpochPoints: 4,
      methods: E2E_VS_LAYERWISE,
    },
    {
      dataset: "fashion-mnist",
      train: undefined,
      model: { family: "conv", depth: 4, channels: [16, 32] },
      epochs: 20,
      firstEpochPoints: 4,
      methods: E2E_VS_LAYERWISE,
    },
  ],
};

const entanglement: ExperimentDef = {
  name: "entanglement",
  title: "Class entanglement (soft nearest-neighbour loss) and compression",
  question:
    "Are E2E's middle layers more class-entangled (higher SNNL) than layer-wise ones, and " +
    "does a layer's entanglement go with its compression?",
  claims: [5],
  runs: (scale, opts = {}) =>
    configRuns("entanglement", ENTANGLEMENT[scale], scale, opts, { snnl: true }),
  settings: (scale, opts = {}) =>
    settingsOf(ENTANGLEMENT[scale], scale, opts, [
      "SNNL (Frosst et al. 2019) of every layer on the nHSIC probe samples at every tracking " +
      "point, in the probe batches, at the temperature minimising it over T = 2^k x median " +
      "squared distance, k = -6..4 (lib/metrics/snnl.ts).",
    ]),
};

// ---------------------------------------------------------------------------------------------

/** The experiments by name. */
export const EXPERIMENTS: Readonly<Record<ExperimentName, ExperimentDef>> = Object.freeze({
  "accuracy-vs-depth": accuracyVsDepth,
  "information-dynamics": informationDynamics,
  toy,
  "nhsic-regularised": nhsicRegularised,
  entanglement,
});

/** Whether a string names an experiment. */
export function isExperimentName(s: string): s is ExperimentName {
  return (EXPERIMENT_NAMES as readonly string[]).includes(s);
}

/**
 * Experiment names from a list (e.g. `--only a,b`), in suite order; all when empty.
 *
 * @throws {InputError} naming an unknown experiment.
 */
export function selectExperiments(names: readonly string[] | undefined): ExperimentName[] {
  if (!names || names.length === 0) return [...EXPERIMENT_NAMES];
  for (const n of names) {
    if (!isExperimentName(n)) {
      throw new InputError(
        "invalid-request",
        `unknown experiment "${n}"; known: ${EXPERIMENT_NAMES.join(", ")}`,
        "names",
      );
    }
  }
  return EXPERIMENT_NAMES.filter((n) => names.includes(n));
}

/** Every run of the named experiments at a scale, in suite order. */
export function suiteRuns(names: ExperimentName[], scale: Scale, opts: RunOptions = {}): RunSpec[] {
  return names.flatMap((n) => EXPERIMENTS[n].runs(scale, opts));
}

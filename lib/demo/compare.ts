/**
 * The demo's science (scripts/demo.ts): the same small network trained end to end and
 * layer-wise through lib/train with one seed (same initial weights, same batches), the
 * activations of every layer on a fixed probe set recorded at every tracking point as one dump
 * per method (the .npz layout the service reads), and the comparison of the two analyses the
 * service returns, layer by layer and as a few plain conclusions.
 *
 * @module
 */
import type { Dataset } from "../data/mod.ts";
import { loadDataset } from "../data/mod.ts";
import type { NdArray } from "../dump/mod.ts";
import { probeActivations } from "../experiments/mod.ts";
import { resolveTrainingRequest } from "../train/mod.ts";
import { runTrainingOn } from "../train/mod.ts";
import type { TrainingEvent } from "../train/mod.ts";

/** What the demo trains. */
export interface DemoSettings {
  /** First n MNIST training images. */
  trainLimit: number;
  /** Blocks of `width` ReLU units (lib/train's mlp preset), then a linear output. */
  depth: number;
  width: number;
  epochs: number;
  lr: number;
  batch: number;
  /** Tracking points inside the first epoch (besides step 0 and every epoch's end). */
  firstEpochPoints: number;
  /** First n test images: the probe set whose activations are dumped. */
  probeSize: number;
  seed: number;
}

/**
 * About a minute on a bare 2-core machine, service start and analyses included: 10000 MNIST
 * images, 6 epochs of a 4-block MLP; Adam at lr 1e-3 with batches of 64 (as the CPU-scale suite,
 * docs/experiments.md: enough steps on a subset for layer-wise training's output classifier).
 */
export const DEMO_SETTINGS: Readonly<DemoSettings> = Object.freeze({
  trainLimit: 10000,
  depth: 4,
  width: 128,
  epochs: 6,
  lr: 1e-3,
  batch: 64,
  firstEpochPoints: 4,
  probeSize: 512,
  seed: 1,
});

/** One trained method and its dump. */
export interface MethodDump {
  /** "e2e" or "layerwise". */
  name: string;
  /** lib/train's label, e.g. "layerwise(cross_entropy)". */
  label: string;
  finalAccuracy: number;
  seconds: number;
  /** Tracking points, in order. */
  steps: number[];
  /** Dump arrays: x, y and "<step>/<layer>" (the .npz layout of POST /v1/analyses). */
  entries: Record<string, NdArray>;
}

/** What {@link trainBoth} returns. */
export interface DemoTraining {
  methods: MethodDump[];
  backend: string;
  trainImages: number;
  stepsPerEpoch: number;
  layers: string[];
}

/** The MNIST subset of the demo (embedded copy, no download). */
export function demoDataset(s: DemoSettings, dataDir: string): Promise<Dataset> {
  return loadDataset(
    { name: "mnist", train_limit: s.trainLimit, test_limit: Math.max(s.probeSize, 1000) },
    { dataDir },
  );
}

/**
 * Trains e2e and layer-wise (local cross-entropy) through lib/train on the same seed and records
 * every tracked layer's activations on the probe set at every tracking point.
 */
export async function trainBoth(
  s: DemoSettings,
  ds: Dataset,
  onEvent?: (e: TrainingEvent) => void,
): Promise<DemoTraining> {
  const job = resolveTrainingRequest({
    model: { preset: "mlp", depth: s.depth, width: s.width },
    dataset: { name: "mnist", train_limit: s.trainLimit },
    methods: [{ name: "e2e" }, { name: "layerwise", loss: "cross_entropy" }],
    optimizer: { lr: s.lr, batch_size: s.batch, epochs: s.epochs },
    tracking: {
      probe_size: s.probeSize,
      probe_batch: Math.min(128, s.probeSize),
      first_epoch_points: s.firstEpochPoints,
    },
    seed: s.seed,
  });
  const n = Math.min(s.probeSize, ds.test.n);
  const d = ds.shape.reduce((a, b) => a * b, 1);
  const base = (): Record<string, NdArray> => ({
    x: { shape: [n, d], dtype: "float32", data: ds.test.x.slice(0, n * d) },
    y: { shape: [n], dtype: "int32", data: ds.test.y.slice(0, n) },
  });
  const byMethod = new Map<string, { entries: Record<string, NdArray>; steps: number[] }>();
  let layers: string[] = [];
  const result = await runTrainingOn(
    job,
    ds,
    { onEvent },
    undefined,
    async (net, step, method) => {
      const acts = await probeActivations(net, ds.test.x, ds.shape, n);
      layers = acts.map((a) => a.name);
      let m = byMethod.get(method.label);
      if (!m) byMethod.set(method.label, m = { entries: base(), steps: [] });
      m.steps.push(step);
      for (const a of acts) {
        m.entries[`${step}/${a.name}`] = { shape: [n, a.cols], dtype: "float32", data: a.data };
      }
    },
  );
  return {
    methods: result.methods.map((m) => ({
      name: m.method.name,
      label: m.method.label,
      finalAccuracy: m.final_test_accuracy,
      seconds: m.seconds,
      steps: byMethod.get(m.method.label)!.steps,
      entries: byMethod.get(m.method.label)!.entries,
    })),
    backend: `${result.backend.name} (${result.backend.device})`,
    trainImages: result.dataset.train,
    stepsPerEpoch: Math.ceil(result.dataset.train / s.batch),
    layers,
  };
}

// ---------------------------------------------------------------------------------------------
// Comparing two analyses (the JSON of GET /v1/analyses/{id})

/** The parts of an analysis the comparison reads. */
export interface AnalysisLike {
  checkpoints: Array<{
    step: number;
    layers: Array<{ name: string; nhsic_x_norm: number; nhsic_y_norm: number }>;
  }>;
  summary: {
    layers: Array<{
      name: string;
      final_x: number;
      final_y: number;
      compression: number | null;
      label_retention: number | null;
    }>;
    differentiation: { score: number } | null;
    last_layer: { follows_ib: boolean | null };
  };
}

/** One layer under both methods: [e2e, layer-wise]. */
export interface LayerPair {
  name: string;
  /** Normalised nHSIC(Y;T) at the first tracking point after step 0. */
  earlyY: [number, number];
  finalX: [number, number];
  finalY: [number, number];
  compression: [number, number];
  retention: [number, number];
}

/** The two analyses side by side. */
export interface Comparison {
  /** The step of "early": the first tracking point after step 0. */
  earlyStep: number;
  layers: LayerPair[];
  differentiation: [number, number];
  outputFollowsIb: [boolean, boolean];
}

function earlyPoint(a: AnalysisLike) {
  return [...a.checkpoints].sort((p, q) => p.step - q.step)[1] ?? a.checkpoints[0];
}

/** The e2e and layer-wise analyses of the same network, layer by layer. */
export function compareAnalyses(e2e: AnalysisLike, lw: AnalysisLike): Comparison {
  const early = [earlyPoint(e2e), earlyPoint(lw)];
  return {
    earlyStep: early[0].step,
    layers: e2e.summary.layers.map((l, i) => {
      const o = lw.summary.layers[i];
      return {
        name: l.name,
        earlyY: [early[0].layers[i].nhsic_y_norm, early[1].layers[i].nhsic_y_norm],
        finalX: [l.final_x, o.final_x],
        finalY: [l.final_y, o.final_y],
        compression: [l.compression ?? NaN, o.compression ?? NaN],
        retention: [l.label_retention ?? NaN, o.label_retention ?? NaN],
      };
    }),
    differentiation: [
      e2e.summary.differentiation?.score ?? NaN,
      lw.summary.differentiation?.score ?? NaN,
    ],
    outputFollowsIb: [
      e2e.summary.last_layer.follows_ib === true,
      lw.summary.last_layer.follows_ib === true,
    ],
  };
}

/** A conclusion a newcomer can check in the numbers, and whether this run supports it. */
export interface Conclusion {
  /** Which of the paper's claims it echoes (PAPER.md numbering). */
  claim: number;
  statement: string;
  holds: boolean;
  /** The numbers behind it. */
  detail: string;
}

/** Smallest differences that count (those of the experiment report's rules). */
const MIN_NHSIC = 0.01, MIN_DIFFERENTIATION = 0.005, COMPRESSION = 0.05;

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
const f3 = (v: number) => Number.isFinite(v) ? v.toFixed(3) : "n/a";

/**
 * The paper's expectations, tested on one seed's comparison (no error bars: a single run shows
 * what the tool measures, not a verdict; the experiment report decides with three seeds).
 */
export function conclusions(c: Comparison): Conclusion[] {
  const blocks = c.layers.slice(0, -1); // every layer but the output
  const deep = blocks.slice(1); // blocks after the first
  const avg = (ls: LayerPair[], f: (l: LayerPair) => [number, number], k: 0 | 1) =>
    mean(ls.map((l) => f(l)[k]));
  const earlyE = avg(deep, (l) => l.earlyY, 0), earlyL = avg(deep, (l) => l.earlyY, 1);
  const xE = avg(blocks, (l) => l.finalX, 0), xL = avg(blocks, (l) => l.finalX, 1);
  const compE = avg(deep, (l) => l.compression, 0), compL = avg(deep, (l) => l.compression, 1);
  const [dE, dL] = c.differentiation;
  const [ibE, ibL] = c.outputFollowsIb;
  return [
    {
      claim: 2,
      statement: `early in training (step ${c.earlyStep}), e2e's deeper layers carry more label ` +
        "information",
      holds: earlyE - earlyL >= MIN_NHSIC,
      detail: `mean Y of ${deep.map((l) => l.name).join(", ")}: e2e ${f3(earlyE)}, ` +
        `layer-wise ${f3(earlyL)}`,
    },
    {
      claim: 3,
      statement: "at the end, e2e's layers keep less of the input than layer-wise ones",
      holds: xL - xE >= MIN_NHSIC,
      detail: `mean final X over the blocks: e2e ${f3(xE)}, layer-wise ${f3(xL)}`,
    },
    {
      claim: 3,
      statement: "e2e's middle layers compress (X falls after a peak by at least 0.05)",
      holds: compE >= COMPRESSION,
      detail: `mean compression of ${deep.map((l) => l.name).join(", ")}: e2e ${f3(compE)}, ` +
        `layer-wise ${f3(compL)}`,
    },
    {
      claim: 3,
      statement: "e2e's layers differ more from each other than layer-wise ones",
      holds: dE - dL >= MIN_DIFFERENTIATION,
      detail: `differentiation: e2e ${f3(dE)}, layer-wise ${f3(dL)}`,
    },
    {
      claim: 4,
      statement: "only e2e's output reaches an information bottleneck",
      holds: ibE && !ibL,
      detail: `output follows the bottleneck: e2e ${ibE ? "yes" : "no"}, layer-wise ` +
        (ibL ? "yes" : "no"),
    },
  ];
}

/**
 * What is measured while a method trains: at step 0, at `first_epoch_points` evenly spaced
 * steps inside the first epoch and after every epoch, the test accuracy of the network's output
 * and nHSIC(X;T_l), nHSIC(Y;T_l) of every tracked layer on a fixed probe set (the first
 * `probe_size` test samples, the same for every method), estimated by the service's own
 * estimator (lib/analysis.ts analyseDump) with batch_size = probe_batch. The per-checkpoint
 * analyses are merged into one AnalysisOutput whose summary is computed exactly as for an
 * uploaded dump.
 *
 * @module
 */
import { tf } from "./tf.ts";
import { analyseDump, type AnalysisOutput, type LayerResult } from "../analysis.ts";
import type { Dataset } from "../data/mod.ts";
import type { Dump, LayerActivations } from "../dump/mod.ts";
import type { Linalg } from "../linalg/mod.ts";
import { summarise } from "../summary.ts";
import { sampleSize } from "./data.ts";
import type { ForwardContext } from "./layers/layer.ts";
import type { Network } from "./network.ts";
import { createOptimizer } from "./optimizer.ts";
import type { CurvePoint, TrackingSpec } from "./types.ts";
import { makeYielder } from "./yielder.ts";

/** Steps of the tracking points of a run of `epochs` epochs of `stepsPerEpoch` steps. */
export function checkpointSteps(
  stepsPerEpoch: number,
  epochs: number,
  firstEpochPoints: number,
): number[] {
  const steps = new Set<number>([0]);
  for (let k = 1; k <= firstEpochPoints; k++) {
    const s = Math.round((k * stepsPerEpoch) / (firstEpochPoints + 1));
    if (s > 0 && s < stepsPerEpoch) steps.add(s);
  }
  for (let e = 1; e <= epochs; e++) steps.add(e * stepsPerEpoch);
  return [...steps].sort((a, b) => a - b);
}

/** Samples per forward pass when evaluating. */
const EVAL_BATCH = 256;

/** One tracking point: the curve values and the per-layer nHSIC. */
export interface Measurement {
  point: CurvePoint;
  layers: Array<{ name: string; nhsic_x: number; nhsic_y: number }>;
}

/** Tracks one method's network on the dataset's probe set. */
export class Tracker {
  readonly probeSize: number;
  readonly #analyses: AnalysisOutput[] = [];
  readonly #probeX: Float32Array;
  readonly #probeY: Int32Array;

  constructor(
    readonly net: Network,
    readonly dataset: Dataset,
    readonly spec: TrackingSpec,
    readonly linalg: Linalg,
    readonly signal?: AbortSignal,
  ) {
    this.probeSize = Math.min(spec.probe_size, dataset.test.n);
    const d = sampleSize(dataset.shape);
    this.#probeX = dataset.test.x.subarray(0, this.probeSize * d);
    this.#probeY = dataset.test.y.subarray(0, this.probeSize);
  }

  /**
   * Measures the network now. Test accuracy comes from one pass over the test split, which also
   * records the tracked layers' activations on the probe samples (its first rows).
   */
  async measure(
    step: number,
    epoch: number,
    train: { loss: number; accuracy: number; objective?: number },
  ): Promise<Measurement> {
    const { accuracy, acts } = await this.#evaluate();
    const dump: Dump = {
      x: { rows: this.probeSize, cols: sampleSize(this.dataset.shape), data: this.#probeX },
      labels: this.#probeY,
      classes: this.dataset.numClasses,
      numClasses: this.dataset.numClasses,
      checkpoints: [{ step, layers: acts }],
    };
    this.signal?.throwIfAborted();
    const a = analyseDump(dump, this.spec.estimator, { linalg: this.linalg });
    this.#analyses.push(a);
    const point: CurvePoint = {
      epoch,
      step,
      train_loss: train.loss,
      train_accuracy: train.accuracy,
      test_accuracy: accuracy,
    };
    if (train.objective !== undefined) point.objective = train.objective;
    if (this.spec.linear_probe) {
      point.probe_accuracy = await linearProbeAll(acts, this.#probeY, this.dataset.numClasses);
    }
    return {
      point,
      layers: a.checkpoints[0].layers.map((l) => ({
        name: l.name,
        nhsic_x: l.nhsic_x,
        nhsic_y: l.nhsic_y,
      })),
    };
  }

  /** All measurements so far as one analysis (summaries as analyseDump computes them). */
  analysis(): AnalysisOutput {
    const all = this.#analyses;
    if (all.length === 0) throw new Error("no checkpoints were measured");
    const first = all[0];
    const checkpoints: Array<{ step: number; layers: LayerResult[] }> = all.map((a) =>
      a.checkpoints[0]
    );
    return {
      ...first,
      checkpoints,
      summary: summarise({ reference: first.reference, checkpoints }),
      compute: {
        linalg: first.compute.linalg,
        seconds: all.reduce((s, a) => s + a.compute.seconds, 0),
      },
    };
  }

  /** Test accuracy of the output and the probe activations of every tracked layer. */
  async #evaluate(): Promise<{ accuracy: number; acts: LayerActivations[] }> {
    const ds = this.dataset, net = this.net;
    const d = sampleSize(ds.shape), n = ds.test.n, p = this.probeSize;
    const names = net.trackedNames;
    const store: Float32Array[] = [];
    const widths: number[] = [];
    const ctx: ForwardContext = { training: false, nextSeed: () => 0 };
    let correct = 0;
    const yieldNow = makeYielder();
    for (let s = 0; s < n; s += EVAL_BATCH) {
      // Let an abort (a message or timer) in between batches of a long evaluation.
      if (s > 0) await yieldNow();
      this.signal?.throwIfAborted();
      const e = Math.min(n, s + EVAL_BATCH);
      const rows = e - s;
      const wantActs = s < p;
      const outs = tf.tidy(() => {
        const x = tf.tensor(ds.test.x.subarray(s * d, e * d), [rows, ...ds.shape]);
        const r = net.forward(x, ctx);
        const pred = tf.argMax(r.logits, 1);
        return wantActs ? [pred, ...r.outputs, r.logits] : [pred];
      });
      const pred = await outs[0].data();
      for (let i = 0; i < rows; i++) if (pred[i] === ds.test.y[s + i]) correct++;
      if (wantActs) {
        const keep = Math.min(rows, p - s);
        const layers = outs.slice(1);
        for (let li = 0; li < layers.length; li++) {
          const t = layers[li], w = t.size / rows;
          if (!store[li]) {
            store[li] = new Float32Array(p * w);
            widths[li] = w;
          }
          store[li].set((await t.data() as Float32Array).subarray(0, keep * w), s * w);
        }
      }
      tf.dispose(outs);
    }
    const acts = names.map((name, li) => ({
      name,
      values: { rows: p, cols: widths[li], data: store[li] },
    }));
    return { accuracy: correct / n, acts };
  }
}

/** Steps of the linear probe's optimiser. */
const PROBE_STEPS = 100;

/**
 * Linear-probe accuracy of every layer: softmax regression on standardised features, trained
 * (Adam, lr 0.01, 100 full-batch steps, from zeros) on the first half of the probe set and scored
 * on the second half.
 */
export async function linearProbeAll(
  acts: LayerActivations[],
  labels: Int32Array,
  numClasses: number,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const a of acts) {
    out[a.name] = await linearProbe(
      a.values.data,
      a.values.rows,
      a.values.cols,
      labels,
      numClasses,
    );
  }
  return out;
}

async function linearProbe(
  data: Float32Array | Float64Array,
  n: number,
  d: number,
  labels: Int32Array,
  c: number,
): Promise<number> {
  const nTrain = Math.floor(n / 2);
  if (nTrain < 2 || n - nTrain < 1) return NaN;
  const w = tf.variable(tf.zeros([d, c])), b = tf.variable(tf.zeros([c]));
  const opt = createOptimizer({ lr: 0.01, weightDecay: 0 });
  try {
    const pred = tf.tidy(() => {
      const x = tf.tensor2d(Float32Array.from(data.subarray(0, n * d)), [n, d]);
      const xTrain = tf.slice(x, [0, 0], [nTrain, d]);
      const mean = tf.mean(xTrain, 0);
      const std = tf.add(tf.sqrt(tf.mean(tf.square(tf.sub(xTrain, mean)), 0)), 1e-6);
      const z = tf.div(tf.sub(x, mean), std);
      const zTrain = tf.slice(z, [0, 0], [nTrain, d]);
      const zTest = tf.slice(z, [nTrain, 0], [n - nTrain, d]);
      const y = tf.oneHot(tf.tensor1d(labels.subarray(0, nTrain), "int32"), c);
      for (let i = 0; i < PROBE_STEPS; i++) {
        tf.tidy(() => {
          const { grads } = tf.variableGrads(
            () =>
              tf.neg(
                tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(tf.add(tf.matMul(zTrain, w), b))), 1)),
              ) as tf.Scalar,
            [w, b],
          );
          opt.step([[w, grads[w.name]], [b, grads[b.name]]]);
        });
      }
      return tf.argMax(tf.add(tf.matMul(zTest, w), b), 1);
    });
    const p = await pred.data();
    pred.dispose();
    let correct = 0;
    for (let i = 0; i < p.length; i++) if (p[i] === labels[nTrain + i]) correct++;
    return correct / p.length;
  } finally {
    opt.dispose();
    w.dispose();
    b.dispose();
  }
}

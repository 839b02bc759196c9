/**
 * A tiny MLP (784-128-64-32-10, ReLU, softmax cross-entropy) trained with Adam in plain
 * TypeScript, for the demo: it produces real per-layer activations at chosen training steps
 * without any ML framework.
 *
 * @module
 */

import type { NdArray } from "../dump/types.ts";
import { mulberry32 } from "../random.ts";

/** Layer widths from input to logits. */
export const TINY_MLP_WIDTHS: readonly number[] = [784, 128, 64, 32, 10];
/** Names of the recorded layers: the three hidden ReLU outputs and the logits. */
export const TINY_MLP_LAYERS: readonly string[] = ["fc1", "fc2", "fc3", "logits"];
/** Mini-batch size used for training. */
export const TINY_MLP_BATCH = 64;

export { mulberry32 };

/** A set of samples: row-major n x 784 images and their labels. */
export interface Samples {
  images: Float32Array;
  labels: Int32Array;
  n: number;
}

/** One recorded layer: probe-set activations, n_probe x width, row-major. */
export interface LayerSnapshot {
  name: string;
  width: number;
  values: Float32Array;
}

/** The network's state at one training step. */
export interface MlpCheckpoint {
  /** Number of optimiser updates done (0 = initial weights). */
  step: number;
  /**
   * Mean mini-batch loss over the steps since the previous checkpoint, each measured before its
   * update; at step 0 the loss of the first mini-batch under the initial weights.
   */
  trainLoss: number;
  probeLoss: number;
  probeAccuracy: number;
  /** fc1, fc2, fc3 (after ReLU) and logits, on the probe set. */
  layers: LayerSnapshot[];
}

/** Progress report passed to `onProgress`. */
export interface MlpProgress {
  step: number;
  steps: number;
  /** Loss of the latest mini-batch. */
  loss: number;
  /** Set when this step is a checkpoint. */
  checkpoint?: MlpCheckpoint;
}

/** Options for {@linkcode trainTinyMlp}. */
export interface TrainTinyMlpOptions extends Samples {
  /** Number of Adam updates (mini-batches of 64). */
  steps: number;
  /** Steps (0..steps) at which to record probe activations. */
  checkpointsAt: number[];
  /** Samples whose activations are recorded; typically a held-out set. */
  probe: Samples;
  seed: number;
  /** Adam learning rate; default 1e-3. */
  learningRate?: number;
  /**
   * The input value most pixels share, which the first layer skips (results are the same up to
   * float rounding, only speed changes). Detected from the data when left out; 0 disables.
   */
  inputBackground?: number;
  /** Called every `progressEvery` steps (default 50) and at every checkpoint. */
  onProgress?: (p: MlpProgress) => void;
  progressEvery?: number;
}

/** Result of {@linkcode trainTinyMlp}. */
export interface TinyMlpResult {
  /** Sorted by step. */
  checkpoints: MlpCheckpoint[];
  /** Wall-clock training time including checkpoint evaluation. */
  elapsedMs: number;
}

interface Layer {
  fanIn: number;
  fanOut: number;
  /** fanIn x fanOut, row-major, so the inner loops of all matmuls run over contiguous rows. */
  w: Float32Array;
  b: Float32Array;
  gw: Float32Array;
  gb: Float32Array;
  /** Scratch: bias plus base·(1ᵀW) for the current forward pass. */
  bias: Float32Array;
  mw: Float32Array;
  vw: Float32Array;
  mb: Float32Array;
  vb: Float32Array;
}

/**
 * Train the tiny MLP from scratch with Adam (β = 0.9, 0.999) on shuffled mini-batches of 64 and
 * record, at each step in `checkpointsAt`, the activations of every layer on the probe set.
 *
 * Deterministic for a given seed and data.
 *
 * @example
 * ```ts ignore
 * const r = trainTinyMlp({ ...train, steps: 600, checkpointsAt: [0, 600], probe, seed: 1 });
 * r.checkpoints[1].probeAccuracy; // about 0.93
 * ```
 */
export function trainTinyMlp(opts: TrainTinyMlpOptions): TinyMlpResult {
  const start = performance.now();
  const { images, labels, n, steps, probe } = opts;
  const dIn = TINY_MLP_WIDTHS[0];
  if (images.length !== n * dIn || labels.length !== n || n < 1) {
    throw new RangeError(`training set must be n x ${dIn} images with n labels (n >= 1)`);
  }
  if (probe.images.length !== probe.n * dIn || probe.labels.length !== probe.n) {
    throw new RangeError(`probe set must be n x ${dIn} images with n labels`);
  }
  const wanted = [...new Set(opts.checkpointsAt)].sort((a, b) => a - b);
  for (const s of wanted) {
    if (!Number.isInteger(s) || s < 0 || s > steps) {
      throw new RangeError(`checkpoint step ${s} is not an integer in 0..${steps}`);
    }
  }
  const lr = opts.learningRate ?? 1e-3;
  const every = opts.progressEvery ?? 50;
  const rand = mulberry32(opts.seed);
  const layers = initLayers(rand);
  const bs = TINY_MLP_BATCH;
  const base = opts.inputBackground ?? backgroundValue(images, dIn, n);
  const acts = TINY_MLP_WIDTHS.map((w) => new Float32Array(bs * w));
  const grads = TINY_MLP_WIDTHS.map((w) => new Float32Array(bs * w));
  const batchLabels = new Int32Array(bs);

  // Sample without replacement within an epoch, reshuffling at each epoch boundary.
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let cursor = n;
  const nextBatch = () => {
    const x = acts[0];
    for (let r = 0; r < bs; r++) {
      if (cursor === n) {
        shuffle(order, rand);
        cursor = 0;
      }
      const idx = order[cursor++];
      x.set(images.subarray(idx * dIn, (idx + 1) * dIn), r * dIn);
      batchLabels[r] = labels[idx];
    }
  };

  const checkpoints: MlpCheckpoint[] = [];
  let lossSum = 0;
  let lossCount = 0;
  let ci = 0;
  const record = (step: number, trainLoss: number) => {
    const ev = evaluate(layers, probe, base);
    const cp: MlpCheckpoint = { step, trainLoss, ...ev };
    checkpoints.push(cp);
    return cp;
  };

  // The step-0 train loss is measured on the batch the first update then trains on.
  let batchReady = false;
  if (ci < wanted.length && wanted[ci] === 0) {
    nextBatch();
    batchReady = true;
    forward(layers, acts, bs, base);
    const loss0 = softmaxXent(acts[4], batchLabels, bs);
    const cp = record(0, loss0);
    opts.onProgress?.({ step: 0, steps, loss: loss0, checkpoint: cp });
    ci++;
  }

  for (let step = 1; step <= steps; step++) {
    if (!batchReady) nextBatch();
    batchReady = false;
    forward(layers, acts, bs, base);
    const loss = softmaxXent(acts[4], batchLabels, bs, grads[4]);
    backward(layers, acts, grads, bs, base);
    adamUpdate(layers, lr, step);
    lossSum += loss;
    lossCount++;
    let cp: MlpCheckpoint | undefined;
    if (ci < wanted.length && wanted[ci] === step) {
      cp = record(step, lossSum / lossCount);
      lossSum = 0;
      lossCount = 0;
      ci++;
    }
    if (cp || step % every === 0 || step === steps) {
      opts.onProgress?.({ step, steps, loss, checkpoint: cp });
    }
  }
  return { checkpoints, elapsedMs: performance.now() - start };
}

/**
 * The input value shared by most entries (the background pixel), from the first 100 rows; 0
 * when no value covers a tenth of them. Only speed depends on it, never the results.
 */
function backgroundValue(images: Float32Array, d: number, n: number): number {
  const sample = images.subarray(0, Math.min(n, 100) * d);
  const counts = new Map<number, number>();
  let best = 0;
  let bestCount = 0;
  for (const v of sample) {
    const c = (counts.get(v) ?? 0) + 1;
    counts.set(v, c);
    if (c > bestCount) {
      best = v;
      bestCount = c;
    }
  }
  return bestCount * 10 >= sample.length ? best : 0;
}

function shuffle(a: Int32Array, rand: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

function initLayers(rand: () => number): Layer[] {
  const out: Layer[] = [];
  for (let l = 0; l + 1 < TINY_MLP_WIDTHS.length; l++) {
    const fanIn = TINY_MLP_WIDTHS[l];
    const fanOut = TINY_MLP_WIDTHS[l + 1];
    const w = new Float32Array(fanIn * fanOut);
    // He initialisation suits ReLU; Box-Muller for the Gaussian draws.
    const scale = Math.sqrt(2 / fanIn);
    for (let i = 0; i < w.length; i++) {
      const u = 1 - rand();
      const v = rand();
      w[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
    const size = fanIn * fanOut;
    out.push({
      fanIn,
      fanOut,
      w,
      b: new Float32Array(fanOut),
      gw: new Float32Array(size),
      gb: new Float32Array(fanOut),
      bias: new Float32Array(fanOut),
      mw: new Float32Array(size),
      vw: new Float32Array(size),
      mb: new Float32Array(fanOut),
      vb: new Float32Array(fanOut),
    });
  }
  return out;
}

/**
 * out[rows x fanOut] = x[rows x fanIn] · W + b, ReLU unless `linear`. i-k-j order.
 *
 * `base` is a value most inputs equal (the background pixel for images, 0 after a ReLU):
 * x·W = base·(1ᵀW) + (x - base)·W, and the second product skips every entry equal to `base`.
 * MNIST is about 80% background, so this removes most of the first layer's work, exactly.
 */
function dense(
  x: Float32Array,
  layer: Layer,
  out: Float32Array,
  rows: number,
  linear: boolean,
  base: number,
): void {
  const { fanIn, fanOut, w, b } = layer;
  const bias = layer.bias;
  if (base === 0) {
    bias.set(b);
  } else {
    for (let j = 0; j < fanOut; j++) bias[j] = b[j];
    for (let k = 0; k < fanIn; k++) {
      const wo = k * fanOut;
      for (let j = 0; j < fanOut; j++) bias[j] += base * w[wo + j];
    }
  }
  for (let i = 0; i < rows; i++) {
    const o = i * fanOut;
    for (let j = 0; j < fanOut; j++) out[o + j] = bias[j];
    const xo = i * fanIn;
    for (let k = 0; k < fanIn; k++) {
      const a = x[xo + k] - base;
      if (a === 0) continue;
      const wo = k * fanOut;
      for (let j = 0; j < fanOut; j++) out[o + j] += a * w[wo + j];
    }
    if (!linear) {
      for (let j = 0; j < fanOut; j++) if (out[o + j] < 0) out[o + j] = 0;
    }
  }
}

/** Forward pass; acts[0] holds the input, acts[l] the output of layer l. */
function forward(layers: Layer[], acts: Float32Array[], rows: number, base: number): void {
  for (let l = 0; l < layers.length; l++) {
    dense(acts[l], layers[l], acts[l + 1], rows, l === layers.length - 1, l === 0 ? base : 0);
  }
}

/**
 * Mean softmax cross-entropy of `logits`; writes d(loss)/d(logits) into `grad` when given.
 */
function softmaxXent(
  logits: Float32Array,
  y: Int32Array,
  rows: number,
  grad?: Float32Array,
): number {
  const c = TINY_MLP_WIDTHS[TINY_MLP_WIDTHS.length - 1];
  let loss = 0;
  for (let i = 0; i < rows; i++) {
    const o = i * c;
    let max = -Infinity;
    for (let j = 0; j < c; j++) if (logits[o + j] > max) max = logits[o + j];
    let sum = 0;
    for (let j = 0; j < c; j++) sum += Math.exp(logits[o + j] - max);
    const logZ = max + Math.log(sum);
    loss += logZ - logits[o + y[i]];
    if (grad) {
      for (let j = 0; j < c; j++) {
        grad[o + j] = (Math.exp(logits[o + j] - logZ) - (j === y[i] ? 1 : 0)) / rows;
      }
    }
  }
  return loss / rows;
}

/** Backward pass from grads[last] (dLoss/dlogits); fills each layer's gw, gb. */
function backward(
  layers: Layer[],
  acts: Float32Array[],
  grads: Float32Array[],
  rows: number,
  base: number,
): void {
  for (let l = layers.length - 1; l >= 0; l--) {
    const { fanIn, fanOut, w, gw, gb } = layers[l];
    const x = acts[l];
    const shift = l === 0 ? base : 0;
    const g = grads[l + 1];
    gw.fill(0);
    gb.fill(0);
    for (let i = 0; i < rows; i++) {
      const go = i * fanOut;
      for (let j = 0; j < fanOut; j++) gb[j] += g[go + j];
      const xo = i * fanIn;
      for (let k = 0; k < fanIn; k++) {
        const a = x[xo + k] - shift;
        if (a === 0) continue;
        const wo = k * fanOut;
        for (let j = 0; j < fanOut; j++) gw[wo + j] += a * g[go + j];
      }
    }
    if (shift !== 0) {
      // Xᵀ·G = (X - base)ᵀ·G + base·1·(1ᵀG), and 1ᵀG is the bias gradient.
      for (let k = 0; k < fanIn; k++) {
        const wo = k * fanOut;
        for (let j = 0; j < fanOut; j++) gw[wo + j] += shift * gb[j];
      }
    }
    if (l === 0) break; // no gradient needed for the input
    // dX = dH · Wᵀ, masked by the ReLU that produced x (x > 0 iff the unit was active).
    const gx = grads[l];
    for (let i = 0; i < rows; i++) {
      const go = i * fanOut;
      const xo = i * fanIn;
      for (let k = 0; k < fanIn; k++) {
        if (x[xo + k] <= 0) {
          gx[xo + k] = 0;
          continue;
        }
        const wo = k * fanOut;
        let s = 0;
        for (let j = 0; j < fanOut; j++) s += g[go + j] * w[wo + j];
        gx[xo + k] = s;
      }
    }
  }
}

function adamUpdate(layers: Layer[], lr: number, t: number): void {
  const b1 = 0.9;
  const b2 = 0.999;
  const eps = 1e-8;
  const c1 = 1 - Math.pow(b1, t);
  const c2 = 1 - Math.pow(b2, t);
  const step = lr * Math.sqrt(c2) / c1;
  const epsHat = eps * Math.sqrt(c2);
  const upd = (p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array) => {
    for (let i = 0; i < p.length; i++) {
      const gi = g[i];
      const mi = b1 * m[i] + (1 - b1) * gi;
      const vi = b2 * v[i] + (1 - b2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] -= step * mi / (Math.sqrt(vi) + epsHat);
    }
  };
  for (const L of layers) {
    upd(L.w, L.gw, L.mw, L.vw);
    upd(L.b, L.gb, L.mb, L.vb);
  }
}

/** Probe-set activations of every layer, loss and accuracy, computed in chunks of 256 rows. */
function evaluate(
  layers: Layer[],
  probe: Samples,
  base: number,
): { probeLoss: number; probeAccuracy: number; layers: LayerSnapshot[] } {
  const n = probe.n;
  const widths = TINY_MLP_WIDTHS;
  const out = TINY_MLP_LAYERS.map((name, l) => ({
    name,
    width: widths[l + 1],
    values: new Float32Array(n * widths[l + 1]),
  }));
  const chunk = 256;
  const bufs = widths.map((w) => new Float32Array(chunk * w));
  let lossSum = 0;
  let correct = 0;
  for (let s = 0; s < n; s += chunk) {
    const rows = Math.min(chunk, n - s);
    bufs[0].set(probe.images.subarray(s * widths[0], (s + rows) * widths[0]));
    forward(layers, bufs, rows, base);
    for (let l = 0; l < out.length; l++) {
      const w = out[l].width;
      out[l].values.set(bufs[l + 1].subarray(0, rows * w), s * w);
    }
    const y = probe.labels.subarray(s, s + rows);
    lossSum += softmaxXent(bufs[4], y, rows) * rows;
    const c = widths[widths.length - 1];
    for (let i = 0; i < rows; i++) {
      let best = 0;
      for (let j = 1; j < c; j++) if (bufs[4][i * c + j] > bufs[4][i * c + best]) best = j;
      if (best === y[i]) correct++;
    }
  }
  return { probeLoss: n ? lossSum / n : NaN, probeAccuracy: n ? correct / n : NaN, layers: out };
}

/**
 * The dump entries the service expects for a training run: `x` (probe images, n x 784 float32),
 * `y` (int32 labels) and `"<step>/<layer>"` (n x width float32) for every checkpoint and layer.
 * Feed the result to `encodeNpz` to get an .npz upload.
 */
export function dumpEntries(probe: Samples, result: TinyMlpResult): Record<string, NdArray> {
  const entries: Record<string, NdArray> = {
    x: { shape: [probe.n, TINY_MLP_WIDTHS[0]], dtype: "float32", data: probe.images },
    y: { shape: [probe.n], dtype: "int32", data: probe.labels },
  };
  for (const cp of result.checkpoints) {
    for (const layer of cp.layers) {
      entries[`${cp.step}/${layer.name}`] = {
        shape: [probe.n, layer.width],
        dtype: "float32",
        data: layer.values,
      };
    }
  }
  return entries;
}

/**
 * Mini-batches from an in-memory dataset: seeded epoch order, batch assembly, the dataset's
 * training augmentation (horizontal flips for CIFAR) and the two augmented views of the
 * supervised contrastive loss.
 */
import { tf } from "./tf.ts";
import type { Dataset, Split } from "../data/mod.ts";
import { permutation, stream } from "./random.ts";

/** Samples of one mini-batch, row-major per-sample features. */
export interface Batch {
  x: Float32Array;
  labels: Int32Array;
  n: number;
}

/** Per-sample size of a dataset. */
export function sampleSize(shape: number[]): number {
  return shape.reduce((a, d) => a * d, 1);
}

/** The sample order of an epoch: the same for every method of a job (seeded by seed and epoch). */
export function epochOrder(n: number, seed: number, epoch: number): Int32Array {
  return permutation(n, stream(seed, `order/${epoch}`));
}

/**
 * [start, end) ranges of the batches of an epoch. A trailing batch of a single sample is dropped
 * (batch statistics need two).
 */
export function batchRanges(n: number, batchSize: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    if (e - s >= 2 || out.length === 0) out.push([s, e]);
  }
  return out;
}

/** Copies samples order[start..end) of a split into a batch. */
export function gatherBatch(
  split: Split,
  d: number,
  order: Int32Array | null,
  start: number,
  end: number,
): Batch {
  const n = end - start;
  const x = new Float32Array(n * d), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const j = order ? order[start + i] : start + i;
    x.set(split.x.subarray(j * d, (j + 1) * d), i * d);
    labels[i] = split.y[j];
  }
  return { x, labels, n };
}

/** Flips each image of a batch left-right with probability 1/2 (in place). */
export function randomHflip(x: Float32Array, n: number, shape: number[], rng: () => number): void {
  if (shape.length !== 3) return;
  const [h, w, c] = shape;
  const d = h * w * c;
  for (let s = 0; s < n; s++) {
    if (rng() >= 0.5) continue;
    const base = s * d;
    for (let r = 0; r < h; r++) {
      const row = base + r * w * c;
      for (let a = 0, b = w - 1; a < b; a++, b--) {
        for (let k = 0; k < c; k++) {
          const t = x[row + a * c + k];
          x[row + a * c + k] = x[row + b * c + k];
          x[row + b * c + k] = t;
        }
      }
    }
  }
}

/** Padding of the random crops of the contrastive views: 1/8 of the image side, at least 1. */
export function cropPadding(shape: number[]): number {
  return Math.max(1, Math.round(Math.min(shape[0], shape[1]) / 8));
}

/** Standard deviation of the noise added to flat samples for the contrastive views. */
export const VIEW_NOISE_STD = 0.1;

/**
 * One augmented view of a batch for the supervised contrastive loss: images are shifted by a
 * random crop of the zero-padded image (padding = side / 8) and, when the dataset uses flips,
 * flipped; flat samples get Gaussian noise (std 0.1, in normalised units).
 */
export function augmentedView(
  batch: Batch,
  shape: number[],
  hflip: boolean,
  rng: () => number,
): Float32Array {
  const d = sampleSize(shape);
  const out = new Float32Array(batch.n * d);
  if (shape.length !== 3) {
    for (let i = 0; i < out.length; i += 2) {
      const u = 1 - rng(), v = rng();
      const r = Math.sqrt(-2 * Math.log(u)) * VIEW_NOISE_STD;
      out[i] = batch.x[i] + r * Math.cos(2 * Math.PI * v);
      if (i + 1 < out.length) out[i + 1] = batch.x[i + 1] + r * Math.sin(2 * Math.PI * v);
    }
    return out;
  }
  const [h, w, c] = shape;
  const p = cropPadding(shape);
  for (let s = 0; s < batch.n; s++) {
    // Shift by (dy, dx) in [-p, p]: out(r, q) = in(r + dy, q + dx), zero outside.
    const dy = Math.floor(rng() * (2 * p + 1)) - p, dx = Math.floor(rng() * (2 * p + 1)) - p;
    const base = s * d;
    for (let r = 0; r < h; r++) {
      const sr = r + dy;
      if (sr < 0 || sr >= h) continue;
      for (let q = 0; q < w; q++) {
        const sq = q + dx;
        if (sq < 0 || sq >= w) continue;
        const o = base + (r * w + q) * c, i = base + (sr * w + sq) * c;
        for (let k = 0; k < c; k++) out[o + k] = batch.x[i + k];
      }
    }
  }
  if (hflip) randomHflip(out, batch.n, shape, rng);
  return out;
}

/** A batch as tensors: inputs [n, ...shape] and one-hot labels [n, classes]. */
export function batchTensors(
  x: Float32Array,
  labels: Int32Array,
  shape: number[],
  numClasses: number,
): { x: tf.Tensor; onehot: tf.Tensor2D } {
  const n = labels.length;
  const oh = new Float32Array(n * numClasses);
  for (let i = 0; i < n; i++) oh[i * numClasses + labels[i]] = 1;
  return { x: tf.tensor(x, [n, ...shape]), onehot: tf.tensor2d(oh, [n, numClasses]) };
}

/** The dataset's augmentation applies flips. */
export function usesHflip(ds: Dataset): boolean {
  return ds.augment === "hflip" && ds.shape.length === 3;
}

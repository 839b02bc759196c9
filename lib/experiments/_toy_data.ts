/**
 * The toy of the `toy` experiment: a two-class problem in which a greedy local objective throws
 * away input information that a later layer needs (PAPER.md, claim 2; docs/experiments.md,
 * "toy").
 *
 * Each sample has three features x = (e, u, v):
 *
 * - u, v ~ N(0, 1) independently, and the label is their sign agreement, y = [u v > 0] (an XOR
 *   of two signs): u alone and v alone carry no information about y, together they determine it;
 * - e = s (2y - 1) + 0.3 n, n ~ N(0, 1), where s = -1 with probability 0.2 and +1 otherwise: a
 *   shortcut that a linear read-out can use at once, right for about 80% of the samples.
 *
 * The network's first block is a bottleneck of three tanh units; two wide ReLU blocks follow. At
 * initialisation the bottleneck is a random, nearly invertible map of (e, u, v), so everything is
 * still there. Trained greedily (its own linear head and cross-entropy), the block gains most by
 * encoding the shortcut e, plus what a linear read-out of three tanh units can use of (u, v) now
 * (the XOR of two signs needs four such units); it has no local incentive to keep u and v as such,
 * and the later blocks can never recover them. Trained end to end, the final loss rewards relaying
 * u and v through the bottleneck, and the later blocks compute the XOR. (With two bottleneck units
 * end-to-end training itself settles on the shortcut: the relay then costs the shortcut's unit.) Measured: test accuracy, and per layer nHSIC(U; T_l) with U = (u, v) (what later layers
 * need) and nHSIC(E; T_l) (the shortcut), next to the usual nHSIC(X; T_l) and nHSIC(Y; T_l).
 *
 * @module
 */
import type { Dataset, Split } from "../data/mod.ts";
import { mulberry32 } from "../random.ts";

/** Probability that the shortcut feature points to the wrong class. */
export const TOY_SHORTCUT_FLIP = 0.2;
/** Noise added to the shortcut feature. */
export const TOY_SHORTCUT_NOISE = 0.3;
/** Columns of x: the shortcut, then the two XOR features. */
export const TOY_FEATURES = ["e", "u", "v"] as const;

/** Sizes and seed of a toy dataset. */
export interface ToySpec {
  train: number;
  test: number;
  /** Seed of the data (independent of the training seed). */
  seed: number;
}

function normal(rand: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u = 1 - rand(), v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

function split(n: number, rand: () => number): Split {
  const g = normal(rand);
  const x = new Float32Array(n * 3), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const u = g(), v = g();
    const label = u * v > 0 ? 1 : 0;
    const sign = rand() < TOY_SHORTCUT_FLIP ? -1 : 1;
    x[i * 3] = sign * (2 * label - 1) + TOY_SHORTCUT_NOISE * g();
    x[i * 3 + 1] = u;
    x[i * 3 + 2] = v;
    y[i] = label;
  }
  return { x, y, n };
}

/** The toy dataset (shape [3], 2 classes); the same spec always gives the same samples. */
export function toyDataset(spec: ToySpec): Dataset {
  const rand = mulberry32((spec.seed ^ 0x70e1) >>> 0);
  const train = split(spec.train, rand);
  const test = split(spec.test, rand);
  return { name: "toy-xor-shortcut", shape: [3], numClasses: 2, train, test, augment: "none" };
}

/** Columns `cols` of the first `n` rows of a split's x (n x cols.length, row-major). */
export function toyColumns(s: Split, n: number, cols: number[]): Float32Array {
  const out = new Float32Array(n * cols.length);
  for (let i = 0; i < n; i++) {
    cols.forEach((c, k) => out[i * cols.length + k] = s.x[i * 3 + c]);
  }
  return out;
}

/** The toy network: a three-unit tanh bottleneck, then two ReLU blocks of `width` units. */
export function toyModel(width: number): unknown {
  return {
    blocks: [
      { name: "fc1", layers: [{ type: "dense", units: 3 }, { type: "tanh" }] },
      { name: "fc2", layers: [{ type: "dense", units: width }, { type: "relu" }] },
      { name: "fc3", layers: [{ type: "dense", units: width }, { type: "relu" }] },
    ],
  };
}

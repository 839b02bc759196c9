/**
 * User-supplied datasets: an `.npz` with arrays `x` (samples) and `y` (class indices), and
 * optionally `x_test` and `y_test`.
 *
 * Conventions (what a user must know when saving the file):
 * - `x` is N x ... in C order; the per-sample shape is `x.shape.slice(1)` (images NHWC, i.e.
 *   [h, w, c], or [d] for flat features). Any dtype the npz reader supports (float32, float64,
 *   int32, int64, uint8).
 * - Values become float32 without standardisation, except that uint8 arrays are taken to be
 *   8-bit pixels and scaled to [0, 1] (v / 255). Normalise floats yourself if you want that.
 * - `y` holds class indices 0..K-1, shape [N] or [N, 1], any numeric dtype as long as the values
 *   are whole numbers; K is the largest label (of train and test) plus one.
 * - Without `x_test`/`y_test` the last 10% of the samples (at least one) are held out as the
 *   test split, deterministically, so the file should be shuffled beforehand.
 * - Other arrays in the archive are ignored.
 *
 * @module
 */

import { InputError } from "../errors.ts";
import { MAX_CLASSES } from "../dump/mod.ts";
import { formatShape } from "../dump/mod.ts";
import { parseNpz } from "../dump/mod.ts";
import type { NdArray } from "../dump/mod.ts";
import type { Dataset, Split } from "./dataset.ts";

/** Fraction of the samples held out as the test split when the archive has no `x_test`. */
export const UPLOAD_TEST_FRACTION = 0.1;

/** Options for {@linkcode datasetFromNpz} and {@linkcode loadUploadDataset}. */
export interface UploadOptions {
  /** Keep only the first n training samples. */
  trainLimit?: number;
  /** Keep only the first n test samples. */
  testLimit?: number;
  /** Refuse archives whose arrays exceed this many bytes uncompressed (`too-large`). */
  maxBytes?: number;
  /** How messages name the file. Default "upload". */
  source?: string;
}

/**
 * Read an uploaded `.npz` dataset from disk.
 *
 * @throws {InputError} as {@linkcode datasetFromNpz}; file-system errors propagate unchanged.
 */
export async function loadUploadDataset(path: string, opts: UploadOptions = {}): Promise<Dataset> {
  const bytes = await Deno.readFile(path);
  return datasetFromNpz(bytes, { ...opts, source: opts.source ?? path.split("/").pop() });
}

/**
 * Build a dataset from the bytes of an `.npz` (see the module documentation for the
 * conventions).
 *
 * @example
 * ```ts ignore
 * const ds = datasetFromNpz(bytes, { source: "faces.npz" });
 * ds.shape; // e.g. [48, 48, 1]
 * ```
 *
 * @throws {InputError} "missing-field" when `x` or `y` (or one of `x_test`/`y_test` without the
 *   other) is absent; "shape-mismatch" for an x that is not at least 2-D, lengths that disagree or
 *   a test shape unlike the training shape; "invalid-labels" for labels that are not
 *   non-negative whole numbers; "non-finite" for NaN/infinite inputs; "too-few-samples" for an
 *   empty x, or a single sample with no test split; plus whatever {@linkcode parseNpz} throws.
 */
export function datasetFromNpz(bytes: Uint8Array, opts: UploadOptions = {}): Dataset {
  const source = opts.source ?? "upload";
  const arrays = parseNpz(bytes, { source, maxBytes: opts.maxBytes, field: "path" });
  const keys = [...arrays.keys()];
  const get = (key: string): NdArray => {
    const a = arrays.get(key);
    if (a) return a;
    throw new InputError(
      "missing-field",
      `${source}: no array "${key}" in the archive (it has ${
        keys.length ? keys.map((k) => `"${k}"`).join(", ") : "no arrays"
      }); save it with np.savez(path, x=inputs, y=labels[, x_test=..., y_test=...])`,
      key,
    );
  };

  const x = get("x");
  const y = get("y");
  const hasTest = arrays.has("x_test") || arrays.has("y_test");
  const xTest = hasTest ? get("x_test") : undefined;
  const yTest = hasTest ? get("y_test") : undefined;

  if (x.shape.length < 2) {
    throw new InputError(
      "shape-mismatch",
      `${source}: x has shape ${formatShape(x.shape)}; expected N x features (at least 2-D)`,
      "x",
    );
  }
  const shape = x.shape.slice(1);
  const n = x.shape[0];
  if (n === 0) throw new InputError("too-few-samples", `${source}: x has no samples`, "x");
  const labels = toClassIndices(y, n, "y", "x", source);

  let train: { x: NdArray; y: Int32Array; start: number; n: number };
  let test: { x: NdArray; y: Int32Array; start: number; n: number };
  if (xTest && yTest) {
    const testShape = xTest.shape.slice(1);
    if (xTest.shape.length !== x.shape.length || testShape.some((d, i) => d !== shape[i])) {
      throw new InputError(
        "shape-mismatch",
        `${source}: x_test has shape ${formatShape(xTest.shape)} but x has ${
          formatShape(x.shape)
        }; samples must have the same shape`,
        "x_test",
      );
    }
    const testLabels = toClassIndices(yTest, xTest.shape[0], "y_test", "x_test", source);
    train = { x, y: labels, start: 0, n };
    test = { x: xTest, y: testLabels, start: 0, n: xTest.shape[0] };
  } else {
    if (n < 2) {
      throw new InputError(
        "too-few-samples",
        `${source}: 1 sample cannot be split into training and test sets; add samples or ` +
          `x_test/y_test`,
        "x",
      );
    }
    const nTest = Math.max(1, Math.floor(n * UPLOAD_TEST_FRACTION));
    const nTrain = n - nTest;
    train = { x, y: labels.subarray(0, nTrain), start: 0, n: nTrain };
    test = { x, y: labels.subarray(nTrain), start: nTrain, n: nTest };
  }

  let maxLabel = 0;
  for (const l of train.y) if (l > maxLabel) maxLabel = l;
  for (const l of test.y) if (l > maxLabel) maxLabel = l;

  const take = (part: typeof train, limit: number | undefined, field: string): Split => {
    const k = limit === undefined ? part.n : Math.max(0, Math.min(part.n, Math.floor(limit)));
    return {
      x: toFloat32(part.x, part.start, k, field, source),
      y: part.y.slice(0, k),
      n: k,
    };
  };
  return {
    name: "upload",
    shape,
    numClasses: maxLabel + 1,
    train: take(train, opts.trainLimit, "x"),
    test: take(test, opts.testLimit, xTest ? "x_test" : "x"),
    augment: "none",
  };
}

/** Class indices from an [m] or [m, 1] array of whole numbers. */
function toClassIndices(
  y: NdArray,
  m: number,
  field: string,
  xField: string,
  source: string,
): Int32Array {
  if (y.shape.length === 0 || y.shape.length > 2 || y.shape.length === 2 && y.shape[1] !== 1) {
    throw new InputError(
      "invalid-labels",
      `${source}: ${field} has shape ${formatShape(y.shape)}; expected ${m} class indices ` +
        `(shape [${m}])${
          y.shape.length === 2 ? "; for one-hot labels save y.argmax(axis=1) instead" : ""
        }`,
      field,
    );
  }
  if (y.shape[0] !== m) {
    throw new InputError(
      "shape-mismatch",
      `${source}: ${field} has ${y.shape[0]} labels but ${xField} has ${m} samples`,
      field,
    );
  }
  const out = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const v = Number(y.data[i]);
    if (!Number.isInteger(v) || v < 0 || v >= MAX_CLASSES) {
      throw new InputError(
        "invalid-labels",
        `${source}: ${field}[${i}] is ${v}; labels must be class indices 0..${MAX_CLASSES - 1}`,
        field,
      );
    }
    out[i] = v;
  }
  return out;
}

/** Rows [start, start + count) of `a` as float32; uint8 scaled to [0, 1]. */
function toFloat32(
  a: NdArray,
  start: number,
  count: number,
  field: string,
  source: string,
): Float32Array {
  const row = a.shape.slice(1).reduce((p, d) => p * d, 1);
  const lo = start * row, hi = (start + count) * row;
  if (a.dtype === "uint8") {
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = v / 255;
    const src = a.data as Uint8Array;
    const out = new Float32Array(hi - lo);
    for (let i = lo; i < hi; i++) out[i - lo] = table[src[i]];
    return out;
  }
  const out = new Float32Array(hi - lo);
  const src = a.data;
  for (let i = lo; i < hi; i++) {
    const v = Number(src[i]);
    out[i - lo] = v;
    // Checked after the cast: a finite float64 beyond float32's range becomes infinite too.
    if (!Number.isFinite(out[i - lo])) {
      throw new InputError(
        "non-finite",
        `${source}: ${field} has a value (${v}) that is not a finite float32, in sample ${
          Math.floor(i / row)
        }`,
        field,
      );
    }
  }
  return out;
}

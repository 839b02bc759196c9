/**
 * Validates parsed arrays and builds a {@linkcode Dump}: flattens samples to matrices, turns
 * labels into class indices and groups layers into checkpoints.
 *
 * @module
 */

import { InputError } from "../errors.ts";
import { formatShape } from "./npy.ts";
import type { Checkpoint, Dump, Matrix, NdArray } from "./types.ts";

/** One layer's activations as read, before validation. */
export interface LayerInput {
  /** Training step, or null when the dump has a single unnamed checkpoint (or names them). */
  step: number | null;
  /** The checkpoint's name when the key names it instead of numbering it (`epoch1/fc1`). */
  checkpoint?: string;
  name: string;
  array: NdArray;
  /** Where it came from (e.g. a file name), added to messages. */
  source?: string;
}

/** The arrays of a dump, before validation. */
export interface DumpArrays {
  x: NdArray;
  y: NdArray;
  layers: LayerInput[];
}

/** Fewest samples a dump may have; the estimators need a few to centre a kernel. */
export const MIN_SAMPLES = 4;

/** Most classes a dump may have: label kernels hold an m x C one-hot matrix. */
export const MAX_CLASSES = 100_000;

/**
 * Validates arrays and assembles a {@linkcode Dump}.
 *
 * `x` and each layer are flattened per sample to `m x d` (float32 and float64 data are kept
 * as they are, without a copy; integer data becomes float32). `y` may be `m` class indices
 * (or `m x 1`), or an `m x C` one-hot matrix. Layers with a null step form one checkpoint at
 * step 0; otherwise checkpoints are sorted by step and must all name the same layers. Layers
 * of named checkpoints (`epoch1/fc1`) form one checkpoint per name, in the order the names
 * first appear, numbered 0, 1, ... in `step` and keeping the name in `name`; a dump cannot mix
 * named checkpoints with numbered ones or with plain layer names. Layer order is the order in
 * which names first appear.
 *
 * @example Usage
 * ```ts ignore
 * const dump = assembleDump({ x, y, layers: [{ step: null, name: "fc1", array: fc1 }] });
 * dump.checkpoints[0].layers[0].values.cols;
 * ```
 *
 * @param arrays The parsed arrays.
 * @returns The validated dump.
 * @throws {InputError} `shape-mismatch`, `too-few-samples`, `invalid-labels`, `non-finite`,
 * `missing-field` or `malformed-file`, naming the field at fault.
 */
export function assembleDump(arrays: DumpArrays): Dump {
  const x = toMatrix(arrays.x, "x", "x");
  const m = x.rows;
  if (m < MIN_SAMPLES) {
    throw new InputError(
      "too-few-samples",
      `x has ${m} sample${m === 1 ? "" : "s"}; at least ${MIN_SAMPLES} are needed`,
      "x",
    );
  }
  const { labels, numClasses } = toLabels(arrays.y, m);
  checkFinite(x, "x", "x");

  if (arrays.layers.length === 0) {
    throw new InputError("missing-field", "the dump has no layer activations", "layers");
  }
  const namedCheckpoints = namedCheckpointSteps(arrays.layers);
  const layerInputs = namedCheckpoints ? namedCheckpoints.layers : arrays.layers;
  const numbered = layerInputs.filter((l) => l.step !== null);
  if (numbered.length > 0 && numbered.length < layerInputs.length) {
    const plain = layerInputs.find((l) => l.step === null)!;
    const n = numbered[0];
    throw new InputError(
      "malformed-file",
      `layer keys mix plain names ("${plain.name}") with step/name keys ("${n.step}/${n.name}"); ` +
        `use "<step>/<layer>" for every layer of a multi-checkpoint dump, or plain names for one`,
      plain.name,
    );
  }

  const order: string[] = [];
  const byStep = new Map<number, Map<string, Matrix>>();
  const keyOf = (step: number | null, name: string) =>
    step === null ? name : `${namedCheckpoints?.names[step] ?? step}/${name}`;
  for (const layer of layerInputs) {
    const step = layer.step ?? 0;
    const field = keyOf(layer.step, layer.name);
    const what = `layer "${field}"${layer.source ? ` (${layer.source})` : ""}`;
    if (!Number.isSafeInteger(step) || step < 0) {
      throw new InputError(
        "malformed-file",
        `${what}: step must be a non-negative integer, got ${step}`,
        field,
      );
    }
    const values = toMatrix(layer.array, field, what);
    if (values.rows !== m) {
      throw new InputError(
        "shape-mismatch",
        `${what} has ${values.rows} rows but x has ${m}; every layer needs one row per sample`,
        field,
      );
    }
    checkFinite(values, field, what);
    let layers = byStep.get(step);
    if (!layers) byStep.set(step, layers = new Map());
    if (layers.has(layer.name)) {
      throw new InputError("malformed-file", `${what} is given twice`, field);
    }
    layers.set(layer.name, values);
    if (!order.includes(layer.name)) order.push(layer.name);
  }

  const checkpoints: Checkpoint[] = [];
  for (const step of [...byStep.keys()].sort((a, b) => a - b)) {
    const layers = byStep.get(step)!;
    for (const name of order) {
      if (!layers.has(name)) {
        const other = [...byStep].find(([, ls]) => ls.has(name))![0];
        if (namedCheckpoints) {
          const names = namedCheckpoints.names;
          throw new InputError(
            "missing-field",
            `layer "${name}" is recorded at checkpoint "${names[other]}" but not at ` +
              `"${names[step]}"; keys "<checkpoint>/<layer>" name one checkpoint per prefix and ` +
              `every checkpoint must have the same layers. If "${names[other]}/${name}" is a ` +
              `layer name, not a checkpoint, write it without "/" (e.g. "${
                names[other]
              }.${name}") ` +
              `or give it a step ("0/${names[other]}/${name}")`,
            `${names[step]}/${name}`,
          );
        }
        throw new InputError(
          "missing-field",
          `layer "${name}" is recorded at step ${other} but not at step ${step}; every ` +
            `checkpoint must have the same layers`,
          `${step}/${name}`,
        );
      }
    }
    const named = namedCheckpoints ? { name: namedCheckpoints.names[step] } : {};
    checkpoints.push({
      step,
      ...named,
      layers: order.map((name) => ({ name, values: layers.get(name)! })),
    });
  }
  return { x, ...compactLabels(labels), numClasses, checkpoints };
}

/**
 * Splits an archive key into checkpoint and layer name at the first `/`: `"100/fc1"` is step
 * 100, layer `fc1` (`"0/enc/fc1"`: step 0, layer `enc/fc1`); `"-1/fc1"` is step -1 (rejected
 * later); a prefix that is not an integer names the checkpoint (`"epoch1/fc1"`: checkpoint
 * `epoch1`, layer `fc1`); a key without `/` (`"fc1"`) is a layer of the only checkpoint.
 */
export function parseLayerKey(
  key: string,
): { step: number | null; name: string; checkpoint?: string } {
  const m = /^([^/]+)\/(.+)$/.exec(key);
  if (!m) return { step: null, name: key };
  if (/^[+-]?\d+$/.test(m[1])) return { step: Number(m[1]), name: m[2] };
  return { step: null, checkpoint: m[1], name: m[2] };
}

/**
 * Numbers named checkpoints in the order their names first appear. Returns null when no layer
 * names a checkpoint; throws when named checkpoints are mixed with numbered ones or plain names.
 */
function namedCheckpointSteps(
  layers: LayerInput[],
): { names: string[]; layers: LayerInput[] } | null {
  const named = layers.filter((l) => l.checkpoint !== undefined);
  if (named.length === 0) return null;
  const other = layers.find((l) => l.checkpoint === undefined);
  if (other) {
    const n = named[0];
    const otherKey = other.step === null ? other.name : `${other.step}/${other.name}`;
    throw new InputError(
      "invalid-request",
      `layer keys mix a named checkpoint ("${n.checkpoint}/${n.name}") with ` +
        `${other.step === null ? "a plain layer name" : "a numbered step"} ("${otherKey}"); ` +
        `name every checkpoint ("epoch1/fc1", "epoch2/fc1": read in file order) or number ` +
        `every one with its training step ("100/fc1", "200/fc1")`,
      otherKey,
    );
  }
  const names: string[] = [];
  const index = new Map<string, number>();
  const out = layers.map((l) => {
    let step = index.get(l.checkpoint!);
    if (step === undefined) {
      step = names.length;
      index.set(l.checkpoint!, step);
      names.push(l.checkpoint!);
    }
    return { ...l, step, checkpoint: undefined };
  });
  return { names, layers: out };
}

/**
 * Flattens an array to `rows x cols` with one row per entry of its first axis. float32 and
 * float64 data are used as is; integer data is converted to float32.
 *
 * @param a The array.
 * @param field Field name for {@linkcode InputError.field}.
 * @param what How messages name it, e.g. `layer "3/fc1"`.
 */
export function toMatrix(a: NdArray, field: string, what: string = field): Matrix {
  checkLength(a, field, what);
  if (a.shape.length === 0) {
    throw new InputError(
      "shape-mismatch",
      `${what} is a scalar; it needs one row per sample`,
      field,
    );
  }
  const rows = a.shape[0];
  const cols = a.shape.slice(1).reduce((p, n) => p * n, 1);
  if (cols === 0 && rows > 0) {
    throw new InputError(
      "shape-mismatch",
      `${what} has shape ${formatShape(a.shape)}: no values per sample`,
      field,
    );
  }
  let data: Float32Array | Float64Array;
  if (a.data instanceof Float32Array || a.data instanceof Float64Array) {
    data = a.data;
  } else if (a.data instanceof BigInt64Array) {
    data = new Float32Array(a.data.length);
    for (let i = 0; i < data.length; i++) data[i] = Number(a.data[i]);
  } else {
    data = Float32Array.from(a.data);
  }
  return { rows, cols, data };
}

/**
 * Converts labels to class indices: a vector (or `m x 1`) of non-negative integers, or an
 * `m x C` one-hot matrix with exactly one 1 per row.
 *
 * @param y The labels.
 * @param m Expected number of samples.
 * @returns Class index per sample and the number of classes (max + 1, or C for one-hot).
 */
export function toLabels(y: NdArray, m: number): { labels: Int32Array; numClasses: number } {
  checkLength(y, "y", "y");
  if (y.shape.length === 0 || y.shape.length > 2) {
    throw new InputError(
      "invalid-labels",
      `y has shape ${formatShape(y.shape)}; expected ${m} class indices or an ${m} x C one-hot ` +
        `matrix`,
      "y",
    );
  }
  if (y.shape[0] !== m) {
    throw new InputError(
      "shape-mismatch",
      `y has ${y.shape[0]} rows but x has ${m}; labels need one row per sample`,
      "y",
    );
  }
  const cols = y.shape.length === 2 ? y.shape[1] : 1;
  const value = (i: number) => Number(y.data[i]);
  const labels = new Int32Array(m);

  if (cols === 1) {
    let max = -1;
    for (let r = 0; r < m; r++) {
      const v = value(r);
      if (!Number.isFinite(v)) {
        throw new InputError("non-finite", `y has a non-finite value (${v}) at row ${r}`, "y");
      }
      if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
        throw new InputError(
          "invalid-labels",
          `y[${r}] is ${v}; class labels must be non-negative integers`,
          "y",
        );
      }
      labels[r] = v;
      if (v > max) max = v;
    }
    if (max >= MAX_CLASSES) {
      throw new InputError(
        "invalid-labels",
        `y has class index ${max}; at most ${MAX_CLASSES} classes are supported`,
        "y",
      );
    }
    return { labels, numClasses: max + 1 };
  }

  if (cols === 0) {
    throw new InputError("invalid-labels", `y has shape ${formatShape(y.shape)}: no classes`, "y");
  }
  for (let r = 0; r < m; r++) {
    let hot = -1;
    for (let c = 0; c < cols; c++) {
      const v = value(r * cols + c);
      if (v === 0) continue;
      if (!Number.isFinite(v)) {
        throw new InputError("non-finite", `y has a non-finite value (${v}) at row ${r}`, "y");
      }
      if (v !== 1 || hot >= 0) {
        throw new InputError(
          "invalid-labels",
          `row ${r} of the one-hot y is not one-hot (${describeRow(y, r, cols)}); each row ` +
            `needs exactly one 1 and zeros elsewhere`,
          "y",
        );
      }
      hot = c;
    }
    if (hot < 0) {
      throw new InputError(
        "invalid-labels",
        `row ${r} of the one-hot y has no 1; each row needs exactly one 1 and zeros elsewhere`,
        "y",
      );
    }
    labels[r] = hot;
  }
  return { labels, numClasses: cols };
}

/**
 * Renumbers class indices over the classes that occur, keeping their order.
 *
 * @param labels class index per sample
 * @returns the renumbered labels and the number of classes that occur
 */
export function compactLabels(labels: Int32Array): { labels: Int32Array; classes: number } {
  const present = [...new Set(labels)].sort((a, b) => a - b);
  if (present.length === 0 || present[present.length - 1] === present.length - 1) {
    return { labels, classes: present.length };
  }
  const index = new Map(present.map((c, i) => [c, i]));
  return { labels: labels.map((c) => index.get(c)!), classes: present.length };
}

function describeRow(y: NdArray, r: number, cols: number): string {
  const shown = Math.min(cols, 12);
  const vals = Array.from({ length: shown }, (_, c) => String(y.data[r * cols + c]));
  return `[${vals.join(", ")}${cols > shown ? ", ..." : ""}]`;
}

function checkLength(a: NdArray, field: string, what: string): void {
  const count = a.shape.reduce((p, n) => p * n, 1);
  if (a.data.length !== count) {
    throw new InputError(
      "shape-mismatch",
      `${what} has shape ${formatShape(a.shape)} (${count} values) but holds ${a.data.length}`,
      field,
    );
  }
}

/** Throws `non-finite` at the first NaN or infinity, naming its row and column. */
/**
 * Largest magnitude accepted: the estimator's squared distances sum d squares of differences,
 * which overflow float64 (1.8e308) for values near 1e154 / sqrt(d); 1e150 leaves room for
 * d up to 10^7.
 */
export const MAX_MAGNITUDE = 1e150;

/**
 * Refuses arrays the estimator cannot use: non-finite values, values so large that squared
 * distances overflow, and arrays whose rows are all the same (their kernel carries no
 * information, every nHSIC against them is 0 or undefined).
 */
function checkFinite(mat: Matrix, field: string, what: string): void {
  const d = mat.data;
  let big = 0;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    // v - v is 0 for every finite number and NaN for NaN and ±Infinity.
    if (v - v !== 0) {
      const row = Math.floor(i / mat.cols);
      const col = i % mat.cols;
      throw new InputError(
        "non-finite",
        `${what} has a non-finite value (${v}) at row ${row}, column ${col} (0-based)`,
        field,
      );
    }
    if (v > big) big = v;
    else if (-v > big) big = -v;
  }
  if (big > MAX_MAGNITUDE) {
    throw new InputError(
      "degenerate-input",
      `${what} has values up to ${big.toExponential(1)}: its squared distances overflow ` +
        `float64; rescale it (values below ${MAX_MAGNITUDE.toExponential(0)})`,
      field,
    );
  }
  const row0 = d.subarray(0, mat.cols);
  for (let r = 1; r < mat.rows; r++) {
    const row = d.subarray(r * mat.cols, (r + 1) * mat.cols);
    if (row.some((v, c) => v !== row0[c])) return;
  }
  throw new InputError(
    "degenerate-input",
    `${what} is the same for every sample (a constant layer, e.g. dead units): its kernel ` +
      "carries no information about X or Y; leave it out of the dump",
    field,
  );
}

/** Shapes of an activation dump once parsed, independent of the file format it came in. */

/** Typed arrays a dump may hold, as read from .npy, CSV or JSON. */
export type NumericArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Uint8Array;

/** An n-dimensional array in C order, as read from a file (no copy where avoidable). */
export interface NdArray {
  shape: number[];
  /** numpy dtype string after normalising byte order: "float32", "float64", "int32", "int64", "uint8". */
  dtype: "float32" | "float64" | "int32" | "int64" | "uint8";
  data: NumericArray;
  /**
   * Set when the file held 16-bit floats (numpy float16 `<f2`, or bfloat16 as ml_dtypes/JAX
   * save it, `<V2`), which are read exactly as float32 (`dtype` is then "float32").
   */
  converted_from?: "float16" | "bfloat16";
}

/** A 2-D matrix of samples (rows) by flattened features (cols), row-major. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float32Array | Float64Array;
}

/** One layer's activations at one checkpoint. */
export interface LayerActivations {
  name: string;
  values: Matrix;
}

/** All tracked layers at one training step. */
export interface Checkpoint {
  /**
   * Training step; for checkpoints named in the file (`epoch1/fc1`), their index in file order
   * (0, 1, ...), with the name kept in `name`.
   */
  step: number;
  /** The checkpoint's name when the file named it instead of numbering it (e.g. "epoch1"). */
  name?: string;
  layers: LayerActivations[];
}

/** A validated dump: m samples, their labels and per-layer activations at one or more checkpoints. */
export interface Dump {
  x: Matrix;
  /**
   * Class per sample, 0..classes-1. Uploaded dumps are renumbered over the classes that occur,
   * in class order: the label kernels depend only on which samples share a class, so absent
   * classes change no estimate, and a stray label (class 15999 among 16 samples) cannot make
   * the estimator's C x C work explode.
   */
  labels: Int32Array;
  /** Width of the one-hot label matrix the estimator builds (classes that occur, for uploads). */
  classes: number;
  /** Classes the labels declare (largest index + 1, or the one-hot width): reported as is. */
  numClasses: number;
  /** Sorted by step; every checkpoint names the same layers in the same order. */
  checkpoints: Checkpoint[];
}

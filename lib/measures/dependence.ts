/**
 * Kernel dependence measures between two representations of the same n samples: biased HSIC,
 * CKA with linear and Gaussian kernels and debiased CKA. Pure functions on float64 that check
 * shapes, in the style of anatome: each says what it computes and where it comes from; exact
 * definitions in docs/metrics.md ("Other dependence measures").
 *
 * @module
 */
import type { Matrix } from "../dump/mod.ts";
import type { Linalg } from "../linalg/mod.ts";
import { portableLinalg } from "../linalg/mod.ts";
import { gaussianFromGram } from "../nhsic/mod.ts";
import {
  _centred,
  _debiased,
  _debiasedCka,
  _dot,
  _hsicUnbiasedParts,
  _safeRatio,
} from "./_stats.ts";

/** A kernel on representations: linear (A A^T) or Gaussian as the nHSIC estimator builds it. */
export interface KernelSpec {
  /** Linear (A A^T) or Gaussian. */
  kernel: "linear" | "gaussian";
  /** Gaussian width: s^2 = sigma^2 d, or the median pairwise distance ("median"). Default 5. */
  sigma?: number | "median";
  /** Distance inside the Gaussian: squared Euclidean (default) or plain. */
  distance?: "squared" | "plain";
}

/** Shape problems are programming errors here (user input is validated earlier): RangeError. */
function checkMatrix(a: Matrix, what: string): void {
  if (!Number.isSafeInteger(a.rows) || !Number.isSafeInteger(a.cols) || a.rows < 1 || a.cols < 1) {
    throw new RangeError(`${what}: needs at least one row and one column, got ${a.rows}x${a.cols}`);
  }
  if (a.data.length !== a.rows * a.cols) {
    throw new RangeError(
      `${what}: ${a.rows}x${a.cols} needs ${a.rows * a.cols} values, got ${a.data.length}`,
    );
  }
}

function checkPair(a: Matrix, b: Matrix, minRows: number): number {
  checkMatrix(a, "first representation");
  checkMatrix(b, "second representation");
  if (a.rows !== b.rows) {
    throw new RangeError(`representations have ${a.rows} and ${b.rows} rows; they must match`);
  }
  if (a.rows < minRows) {
    throw new RangeError(`at least ${minRows} samples are needed, got ${a.rows}`);
  }
  return a.rows;
}

function checkKernel(k: Float64Array, n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 1 || k.length !== n * n) {
    throw new RangeError(`${what}: expected an n x n kernel with n = ${n}, got ${k.length} values`);
  }
}

/**
 * The n x n kernel matrix of a representation (rows are samples), in float64.
 *
 * @example Usage
 * ```ts
 * import { kernelMatrix } from "./mod.ts";
 * const k = kernelMatrix({ rows: 2, cols: 1, data: new Float64Array([0, 1]) }, { kernel: "linear" });
 * k; // Float64Array [0, 0, 0, 1]
 * ```
 *
 * @param a Representation, n x d.
 * @param spec Kernel and its settings.
 * @param linalg Backend for the Gram matrix (portable TypeScript by default).
 * @returns K, row-major n x n.
 */
export function kernelMatrix(
  a: Matrix,
  spec: KernelSpec,
  linalg: Linalg = portableLinalg,
): Float64Array {
  checkMatrix(a, "representation");
  const f = a.data instanceof Float64Array ? a.data : Float64Array.from(a.data);
  const g = linalg.gram(f, a.rows, a.cols);
  if (spec.kernel === "gaussian") {
    gaussianFromGram(g, a.rows, a.cols, spec.sigma ?? 5, spec.distance ?? "squared");
  }
  return g;
}

/**
 * Biased HSIC of two kernel matrices (Gretton et al. 2005): Tr(K H L H) / (n-1)^2.
 *
 * @example Usage
 * ```ts
 * import { hsicFromKernels } from "./mod.ts";
 * const k = new Float64Array([1, 0, 0, 1]);
 * hsicFromKernels(k, k, 2); // 0.5
 * ```
 *
 * @param k Symmetric n x n kernel.
 * @param l Symmetric n x n kernel.
 * @param n Samples.
 * @returns HSIC_b(K, L).
 */
export function hsicFromKernels(k: Float64Array, l: Float64Array, n: number): number {
  checkKernel(k, n, "K");
  checkKernel(l, n, "L");
  if (n < 2) throw new RangeError("HSIC needs at least 2 samples");
  // Tr(HKH L) = <HKH, L>_F for symmetric L.
  return _dot(_centred(k, n).kc, l) / ((n - 1) * (n - 1));
}

/**
 * Centred kernel alignment of two kernel matrices (Cortes et al. 2012; Kornblith et al. 2019):
 * HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)); 0 when a kernel is constant after centring.
 *
 * @example Usage
 * ```ts
 * import { ckaFromKernels } from "./mod.ts";
 * const k = new Float64Array([1, 0, 0, 1]);
 * ckaFromKernels(k, k, 2); // 1
 * ```
 *
 * @param k Symmetric n x n kernel.
 * @param l Symmetric n x n kernel.
 * @param n Samples.
 * @returns CKA in [0, 1] for positive semi-definite kernels.
 */
export function ckaFromKernels(k: Float64Array, l: Float64Array, n: number): number {
  checkKernel(k, n, "K");
  checkKernel(l, n, "L");
  const a = _centred(k, n), b = _centred(l, n);
  return _safeRatio(_dot(a.kc, b.kc), Math.sqrt(a.self * b.self));
}

/**
 * Unbiased HSIC of Song et al. (2012, "Feature selection via dependence maximization", eq. 5):
 * with K~, L~ the kernels with zeroed diagonals,
 * [Tr(K~L~) + (1'K~1)(1'L~1)/((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n(n-3)).
 *
 * @example Usage
 * ```ts
 * import { hsicUnbiasedFromKernels } from "./mod.ts";
 * const k = new Float64Array(16).map((_, i) => (i % 5 === 0 ? 1 : 0));
 * hsicUnbiasedFromKernels(k, k, 4); // 0: an identity kernel has a zero K~
 * ```
 *
 * @param k Symmetric n x n kernel.
 * @param l Symmetric n x n kernel.
 * @param n Samples (at least 4).
 * @returns HSIC_u(K, L), which can be negative.
 */
export function hsicUnbiasedFromKernels(k: Float64Array, l: Float64Array, n: number): number {
  checkKernel(k, n, "K");
  checkKernel(l, n, "L");
  if (n < 4) throw new RangeError("unbiased HSIC needs at least 4 samples");
  return _hsicUnbiasedParts(_debiased(k, n), _debiased(l, n), n);
}

/**
 * Biased HSIC between two representations under one kernel (Gretton et al. 2005), the
 * unnormalised measure nHSIC normalises: Tr(K H L H) / (n-1)^2 with K, L the kernels of A and B.
 *
 * @example Usage
 * ```ts
 * import { hsic } from "./mod.ts";
 * const a = { rows: 4, cols: 1, data: new Float64Array([0, 1, 2, 3]) };
 * hsic(a, a, { kernel: "linear" }); // 25 / 9: ||centred a||^4 / (n-1)^2
 * ```
 *
 * @param a Representation, n x d_a.
 * @param b Representation, n x d_b.
 * @param spec Kernel (the same on both sides).
 * @param linalg Backend for the Gram matrices.
 * @returns HSIC_b.
 */
export function hsic(
  a: Matrix,
  b: Matrix,
  spec: KernelSpec = { kernel: "gaussian" },
  linalg: Linalg = portableLinalg,
): number {
  const n = checkPair(a, b, 2);
  return hsicFromKernels(kernelMatrix(a, spec, linalg), kernelMatrix(b, spec, linalg), n);
}

/**
 * Linear CKA (Kornblith et al. 2019, "Similarity of neural network representations
 * revisited", eq. 4 with linear kernels): ||A_c^T B_c||_F^2 / (||A_c^T A_c||_F ||B_c^T B_c||_F),
 * computed as the alignment of the centred Gram matrices.
 *
 * @example Usage
 * ```ts
 * import { ckaLinear } from "./mod.ts";
 * const a = { rows: 4, cols: 1, data: new Float64Array([0, 1, 2, 3]) };
 * const b = { rows: 4, cols: 1, data: new Float64Array([3, 5, 7, 9]) };
 * ckaLinear(a, b); // 1 (invariant to scaling and shifts)
 * ```
 *
 * @param a Representation, n x d_a.
 * @param b Representation, n x d_b.
 * @param linalg Backend for the Gram matrices.
 * @returns Linear CKA in [0, 1].
 */
export function ckaLinear(a: Matrix, b: Matrix, linalg: Linalg = portableLinalg): number {
  const n = checkPair(a, b, 2);
  return ckaFromKernels(
    kernelMatrix(a, { kernel: "linear" }, linalg),
    kernelMatrix(b, { kernel: "linear" }, linalg),
    n,
  );
}

/**
 * CKA with Gaussian (RBF) kernels (Kornblith et al. 2019), each kernel built as the nHSIC
 * estimator builds it: k = exp(-D / (2 s^2)) with s^2 = sigma^2 d (d the representation's width)
 * or the median pairwise distance.
 *
 * @example Usage
 * ```ts
 * import { ckaGaussian } from "./mod.ts";
 * const a = { rows: 4, cols: 1, data: new Float64Array([0, 1, 2, 3]) };
 * ckaGaussian(a, a, { sigma: "median" }); // 1
 * ```
 *
 * @param a Representation, n x d_a.
 * @param b Representation, n x d_b.
 * @param opts Width and distance form (default sigma 5, squared distance).
 * @param linalg Backend for the Gram matrices.
 * @returns Gaussian CKA in [0, 1].
 */
export function ckaGaussian(
  a: Matrix,
  b: Matrix,
  opts: { sigma?: number | "median"; distance?: "squared" | "plain" } = {},
  linalg: Linalg = portableLinalg,
): number {
  const n = checkPair(a, b, 2);
  const spec: KernelSpec = { kernel: "gaussian", ...opts };
  return ckaFromKernels(kernelMatrix(a, spec, linalg), kernelMatrix(b, spec, linalg), n);
}

/**
 * Debiased linear CKA (Nguyen, Raghu & Kornblith 2021, "Do wide and deep networks learn the same
 * things?", section 3): CKA with the unbiased HSIC of Song et al. (2012) in place of the biased
 * one, so that unrelated representations score about 0 even when n is small against d. Returns
 * 0 when a self-term is not positive (the ratio is undefined).
 *
 * @example Usage
 * ```ts
 * import { ckaDebiased } from "./mod.ts";
 * const a = { rows: 5, cols: 1, data: new Float64Array([0, 1, 2, 3, 5]) };
 * ckaDebiased(a, a); // 1
 * ```
 *
 * @param a Representation, n x d_a (n >= 4).
 * @param b Representation, n x d_b.
 * @param linalg Backend for the Gram matrices.
 * @returns Debiased CKA (can be slightly negative).
 */
export function ckaDebiased(a: Matrix, b: Matrix, linalg: Linalg = portableLinalg): number {
  const n = checkPair(a, b, 4);
  const ka = _debiased(kernelMatrix(a, { kernel: "linear" }, linalg), n);
  const kb = _debiased(kernelMatrix(b, { kernel: "linear" }, linalg), n);
  return _debiasedCka(_hsicUnbiasedParts(ka, kb, n), ka.self, kb.self);
}

/**
 * One-hot rows (n x c, float64) of class indices, for measures against the labels.
 *
 * @example Usage
 * ```ts
 * import { oneHotMatrix } from "./mod.ts";
 * oneHotMatrix(new Int32Array([1, 0]), 2).data; // Float64Array [0, 1, 1, 0]
 * ```
 *
 * @param labels Class index per sample, 0..c-1.
 * @param c Number of classes.
 * @returns The one-hot matrix.
 */
export function oneHotMatrix(labels: Int32Array, c: number): Matrix {
  const n = labels.length;
  const data = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    const k = labels[i];
    if (!(k >= 0 && k < c)) throw new RangeError(`label ${k} at row ${i} is outside 0..${c - 1}`);
    data[i * c + k] = 1;
  }
  return { rows: n, cols: c, data };
}

/** The dense float64 kernels the estimators need; implemented natively (OpenBLAS) and portably. */
export interface Linalg {
  /** "openblas" (FFI) or "portable" (plain TypeScript). */
  readonly name: string;
  /**
   * Inner-product Gram matrix G = A A^T of a row-major m x d matrix, returned as a full
   * (both triangles filled) row-major m x m Float64Array: `out` when given (its first m * m
   * entries; lets callers reuse one buffer across layers), else a new array.
   */
  gram(a: Float64Array, m: number, d: number, out?: Float64Array): Float64Array;
  /**
   * Inverts a symmetric positive definite row-major m x m matrix in place (both triangles
   * are written). Throws an Error if the matrix is not numerically positive definite.
   */
  spdInverse(a: Float64Array, m: number): void;
}

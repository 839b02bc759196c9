/**
 * BatchMatMul and _FusedMatMul through the C kernels' AVX-512 GEMM (bias and ReLU applied in
 * its epilogue) where the CPU has AVX-512, else cblas_sgemm. Transposed operands cost nothing
 * extra (both read them in place), so the gradients' A^T B and A B^T run as fast as A B.
 * Batch dimensions broadcast as in NumPy; a batched A times an unbatched, untransposed B is
 * one tall sgemm.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import type { NativeBackend } from "../backend.ts";
import { kernelThreads } from "../../linalg/mod.ts";
import { BINARY_LOOPS, binaryF32 } from "./elementwise.ts";
import {
  addRowBiasInPlace,
  applyActivationInPlace,
  f32,
  type NativeArgs,
  out,
  sizeOf,
  withFallback,
} from "./util.ts";

/** Activations the fused kernels apply themselves (prelu goes to the cpu kernel). */
export const NATIVE_ACTIVATIONS: ReadonlySet<string> = new Set([
  "linear",
  "relu",
  "relu6",
  "leakyrelu",
  "elu",
  "sigmoid",
]);

/** A bias row (one value per output column) and a ReLU, applied while C is written. */
export interface GemmEpilogue {
  bias: Float32Array | null;
  relu: boolean;
}

/**
 * c = op(a) op(b) (row-major, leading dimensions lda, ldb, ldc): the C kernels' GEMM where it
 * runs (then `epilogue` is applied too and true is returned), else cblas_sgemm (false: the
 * caller applies the epilogue).
 */
export function gemm(
  backend: NativeBackend,
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  c: Float32Array,
  ldc: number,
  epilogue: GemmEpilogue | null = null,
): boolean {
  const ck = backend.ck;
  if (ck?.gemmAvailable()) {
    const threads = kernelThreads(backend.blas.openblas.threads());
    const scratch = backend.alloc(ck.gemmScratch(transB, n, k));
    const bias = epilogue?.bias ?? null, relu = epilogue?.relu ?? false;
    ck.gemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, bias, relu, threads, scratch);
    backend.release(scratch);
    return true;
  }
  backend.blas.sgemm(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc);
  return false;
}

/**
 * op(A) op(B) for float32 tensors with broadcast batch dims, into a pooled array, plus the
 * epilogue when given (`fused` says whether the GEMM applied it; if not, the caller must).
 * Returns null for other dtypes.
 */
export function matMulF32(
  backend: NativeBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transA: boolean,
  transB: boolean,
  epilogue: GemmEpilogue | null = null,
): { values: Float32Array; shape: number[]; fused: boolean } | null {
  const av = f32(backend, a), bv = f32(backend, b);
  if (!av || !bv) return null;
  const ra = a.shape.length, rb = b.shape.length;
  if (ra < 2 || rb < 2) return null;
  const m = transA ? a.shape[ra - 1] : a.shape[ra - 2];
  const ka = transA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (ka !== kb) {
    throw new Error(
      `Error in matMul: inner shapes (${ka}) and (${kb}) of Tensors with shapes ${a.shape} and ` +
        `${b.shape} and transposeA=${transA} and transposeB=${transB} must match.`,
    );
  }
  const k = ka;
  const aOuter = a.shape.slice(0, -2), bOuter = b.shape.slice(0, -2);
  const outOuter = tf.backend_util.assertAndGetBroadcastShape(aOuter, bOuter);
  const shape = [...outOuter, m, n];
  const batch = sizeOf(outOuter);
  const c = backend.alloc(batch * m * n);
  if (c.length === 0) return { values: c, shape, fused: true };
  if (k === 0) {
    c.fill(0);
    return { values: c, shape, fused: false };
  }
  const lda = transA ? m : k, ldb = transB ? k : n;
  const aBatch = sizeOf(aOuter), bBatch = sizeOf(bOuter);
  const sa = m * k, sb = k * n, sc = m * n;
  let fused = true;
  const mm = (
    ta: boolean,
    rows: number,
    aa: Float32Array,
    bb: Float32Array,
    cc: Float32Array,
  ) => {
    fused = gemm(backend, ta, transB, rows, n, k, aa, lda, bb, ldb, cc, n, epilogue) && fused;
  };
  if (bBatch === 1 && !transA) {
    // Stack A's batches into one (batch*m) x k matrix: one call, better blocking.
    if (aBatch === batch) {
      mm(false, batch * m, av, bv, c);
    } else {
      for (let i = 0; i < batch; i++) mm(false, m, av, bv, c.subarray(i * sc));
    }
    return { values: c, shape, fused };
  }
  // Offsets of each output batch into A and B (NumPy broadcasting of the outer dims).
  const rank = outOuter.length;
  const aStr = broadcastStrides(aOuter, outOuter, sa);
  const bStr = broadcastStrides(bOuter, outOuter, sb);
  const idx = new Array<number>(rank).fill(0);
  let ao = 0, bo = 0;
  for (let i = 0; i < batch; i++) {
    mm(transA, m, av.subarray(ao), bv.subarray(bo), c.subarray(i * sc));
    // advance the multi-index (last dim fastest)
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      ao += aStr[d];
      bo += bStr[d];
      if (idx[d] < outOuter[d]) break;
      ao -= aStr[d] * idx[d];
      bo -= bStr[d] * idx[d];
      idx[d] = 0;
    }
  }
  return { values: c, shape, fused };
}

/** Element strides of `shape` (right-aligned to `outShape`, 0 where broadcast), times `unit`. */
function broadcastStrides(shape: number[], outShape: number[], unit: number): number[] {
  const r = outShape.length, pad = r - shape.length;
  const strides = new Array<number>(r).fill(0);
  let s = unit;
  for (let d = r - 1; d >= pad; d--) {
    const dim = shape[d - pad];
    strides[d] = dim === 1 ? 0 : s;
    s *= dim;
  }
  return strides;
}

const batchMatMulConfig: tf.KernelConfig = {
  kernelName: tf.BatchMatMul,
  backendName: "native",
  kernelFunc: withFallback(tf.BatchMatMul, ({ inputs, backend, attrs }: NativeArgs) => {
    const r = matMulF32(
      backend,
      inputs.a!,
      inputs.b!,
      attrs!.transposeA as boolean,
      attrs!.transposeB as boolean,
    );
    return r && out(backend, r.shape, r.values); // no epilogue: nothing left to apply
  }),
};

/**
 * Adds `bias` to `y` (shape `shape`) and applies the activation, in place where it can; returns
 * the (possibly new) values, or null if the bias broadcast needs the generic path and that
 * failed too.
 */
export function biasAndActivation(
  backend: NativeBackend,
  y: Float32Array,
  shape: number[],
  bias: tf.TensorInfo | undefined,
  activation: string | undefined,
  leakyAlpha: number,
): Float32Array | null {
  let v = y;
  if (bias) {
    const bv = f32(backend, bias);
    if (!bv) return null;
    if (!addRowBiasInPlace(v, shape[shape.length - 1], bv, bias.shape)) {
      const r = binaryF32(BINARY_LOOPS[tf.Add], v, shape, bv, bias.shape, (n) => backend.alloc(n));
      if (!r || sizeOf(r.shape) !== v.length) return null;
      backend.release(v);
      v = r.values;
    }
  }
  applyActivationInPlace(v, activation, leakyAlpha);
  return v;
}

const fusedMatMulConfig: tf.KernelConfig = {
  kernelName: tf._FusedMatMul,
  backendName: "native",
  kernelFunc: withFallback(tf._FusedMatMul, ({ inputs, backend, attrs }: NativeArgs) => {
    const { a, b, bias } = inputs;
    const activation = (attrs!.activation as string | undefined) ?? "linear";
    if (!NATIVE_ACTIVATIONS.has(activation)) return null;
    if (bias && bias.dtype !== "float32") return null;
    const transA = attrs!.transposeA as boolean, transB = attrs!.transposeB as boolean;
    // bias (a row of n) and ReLU in the GEMM's epilogue when it can; the same operations in
    // the same order as adding and clamping afterwards
    const bv = bias ? f32(backend, bias) : null;
    const n = transB ? b!.shape[b!.shape.length - 2] : b!.shape[b!.shape.length - 1];
    const rowBias = !bias ||
      (bv !== null && bv.length === n && bias.shape[bias.shape.length - 1] === n);
    const epilogue = rowBias && (activation === "linear" || activation === "relu")
      ? { bias: bv, relu: activation === "relu" }
      : null;
    const r = matMulF32(backend, a!, b!, transA, transB, epilogue);
    if (!r) return null;
    if (epilogue && r.fused) return out(backend, r.shape, r.values);
    const alpha = (attrs!.leakyreluAlpha as number | undefined) ?? 0.2;
    const v = biasAndActivation(backend, r.values, r.shape, bias, activation, alpha);
    if (!v) {
      backend.release(r.values);
      return null;
    }
    return out(backend, r.shape, v);
  }),
};

/** Kernel configs of this module. */
export const matMulKernels: tf.KernelConfig[] = [batchMatMulConfig, fusedMatMulConfig];

/**
 * The "native" tfjs backend: tfjs-backend-cpu with its hot training kernels replaced by
 * OpenBLAS sgemm (through Deno FFI) and tight float32 loops. Opt-in: register it, then
 * `await tf.setBackend("native")`. Its priority is below "cpu", so tfjs never picks it on its
 * own, and nothing changes for the portable (cpu/wasm) path.
 *
 * ```ts ignore
 * const r = registerNativeBackend();
 * if (r.ok) await tf.setBackend("native");
 * else console.warn(`native backend unavailable: ${r.reason}`);
 * ```
 *
 * Overridden kernels (float32; other dtypes and unsupported layouts run the cpu kernel):
 * BatchMatMul, _FusedMatMul, Conv2D, FusedConv2D, Conv2DBackpropInput, Conv2DBackpropFilter,
 * MaxPool(Grad), AvgPool(Grad), Transpose, Sum, Mean, Max, Min, Softmax, the broadcasting
 * binary ops (Add, Sub, Multiply, RealDiv, Maximum, Minimum, SquaredDifference), comparisons
 * (Equal, NotEqual, Greater(Equal), Less(Equal)), Cast to float32, and the unary
 * activations/maths (Relu, Relu6, LeakyRelu, Step, Sigmoid, Tanh, Elu, Exp, Log, Sqrt, Rsqrt,
 * Reciprocal, Neg, Square, Abs). {@link nativeFallbacks} counts calls they passed on to the cpu
 * kernel. Adam's update is fused too: {@link FusedAdam} has the step(pairs) interface and
 * torch semantics of lib/train's Adam, {@link FusedAdamOptimizer} replaces tf.train.adam.
 *
 * Needs --allow-ffi (plus --allow-env/--allow-read, or FFI alone, for OpenBLAS discovery; see
 * lib/linalg/openblas.ts: INFOPLANE_OPENBLAS, INFOPLANE_OPENBLAS_CORETYPE, OPENBLAS_CORETYPE).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { NativeBackend } from "./backend.ts";
import { loadSblas, sblasUnavailableReason } from "./blas.ts";
import { loadCKernels } from "./ckernels.ts";
import { convKernels, convPoolKernels } from "./kernels/conv.ts";
import { convReluPoolGradConfig } from "./conv_pool_grad.ts";
import { elementwiseKernels } from "./kernels/elementwise.ts";
import { matMulKernels } from "./kernels/matmul.ts";
import { poolKernels } from "./kernels/pool.ts";
import { reduceKernels } from "./kernels/reduce.ts";
import { reluGradKernels } from "./kernels/relu_grad.ts";
import { softmaxCeKernels } from "./kernels/softmax_ce.ts";
import { transposeKernels } from "./kernels/transpose.ts";

export { NativeBackend } from "./backend.ts";
export { ckernelsUnavailableReason, loadCKernels } from "./ckernels.ts";
export { fallbackCounts as nativeFallbacks } from "./kernels/util.ts";
export { RELU_GRAD } from "./kernels/relu_grad.ts";
export { CONV_RELU_POOL, RELU_POOL_GRAD } from "./kernels/conv.ts";
export { SOFTMAX_CE, SOFTMAX_CE_GRAD } from "./kernels/softmax_ce.ts";
export { FusedAdam, type FusedAdamConfig, FusedAdamOptimizer } from "./adam.ts";

const CONV_RELU_POOL_NAME = convReluPoolGradConfig.kernelName;

/** The tfjs backend name. */
export const NATIVE_BACKEND = "native";

/** Priority given to tfjs: below cpu (1) and wasm (2), so it is only used when asked for. */
export const NATIVE_PRIORITY = 0;

/** Outcome of {@link registerNativeBackend}. */
export interface NativeRegistration {
  ok: boolean;
  /** Why the backend is unavailable (missing OpenBLAS, no FFI permission, ...). */
  reason?: string;
  /** One line for logs, e.g. "tfjs native (openblas 0.3.21 (SkylakeX, 2 threads))". */
  describe?: string;
}

/** Kernels the native backend implements itself (the rest are the cpu backend's). */
export const NATIVE_KERNELS: readonly tf.KernelConfig[] = [
  ...matMulKernels,
  ...convKernels,
  ...convPoolKernels,
  ...poolKernels,
  ...elementwiseKernels,
  ...reduceKernels,
  ...transposeKernels,
  ...reluGradKernels,
  ...softmaxCeKernels,
];

let registration: NativeRegistration | undefined;

/**
 * Registers the "native" backend with tfjs (idempotent; never throws). Loads OpenBLAS through
 * lib/linalg (same search path and environment overrides), copies every cpu kernel config to
 * "native" and overrides the ones in {@link NATIVE_KERNELS}. Returns ok: false with a reason
 * when OpenBLAS cannot be loaded; tfjs is then left untouched.
 */
export function registerNativeBackend(): NativeRegistration {
  if (registration?.ok) return registration;
  const blas = loadSblas();
  if (!blas) {
    registration = { ok: false, reason: sblasUnavailableReason() };
    return registration;
  }
  const own = new Set(NATIVE_KERNELS.map((k) => k.kernelName));
  for (const k of tf.getKernelsForBackend("cpu")) {
    if (own.has(k.kernelName) || tf.getKernel(k.kernelName, NATIVE_BACKEND)) continue;
    tf.registerKernel({ ...k, backendName: NATIVE_BACKEND });
  }
  for (const k of NATIVE_KERNELS) {
    if (!tf.getKernel(k.kernelName, NATIVE_BACKEND)) tf.registerKernel(k);
  }
  if (!tf.getGradient(CONV_RELU_POOL_NAME)) tf.registerGradient(convReluPoolGradConfig);
  if (!tf.findBackendFactory(NATIVE_BACKEND)) {
    tf.registerBackend(
      NATIVE_BACKEND,
      () => new NativeBackend(blas, loadCKernels()),
      NATIVE_PRIORITY,
    );
  }
  registration = {
    ok: true,
    // A getter: the thread count in it is process-wide and may change after registration.
    get describe() {
      const ck = loadCKernels() ? "C kernels" : "no C kernels";
      return `tfjs native (${blas.openblas.describe()}, ${ck})`;
    },
  };
  return registration;
}

/** Whether tfjs is currently running on the native backend. */
export function nativeBackendActive(): boolean {
  return tf.getBackend() === NATIVE_BACKEND;
}
export { loadSblas } from "./blas.ts";
export { CKERNELS_FILE } from "./ckernels.ts";

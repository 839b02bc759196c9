/**
 * Adam with the update fused into one pass per parameter tensor (WebAssembly SIMD, see
 * ./adam_simd.ts), the parameter updated in place by cblas_saxpy on the "native" backend.
 *
 * Why: tfjs's AdamOptimizer runs ~13 elementwise kernels per parameter per step, each
 * allocating a tensor; for a 335k-parameter MLP that is ~4.4M element-ops and ~100 kernel
 * dispatches a step, more than its matrix products cost once those run on OpenBLAS.
 *
 * The formula is PyTorch's (torch.optim.Adam): m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2,
 * p -= lr/(1-b1^t) m / (sqrt(v)/sqrt(1-b2^t) + eps), in float32; tf.train.adam computes the
 * same quantity with a different operation order, so the two agree to float32 rounding.
 * `weightDecay` is torch's L2 term (g += wd p). Works on every backend: elsewhere than "native"
 * the gradient and parameter are read with dataSync() and the parameter is re-assigned.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import { NativeBackend } from "./backend.ts";
import { AdamMoments } from "./adam_simd.ts";

/** A tensor with its variable name, as tfjs optimizers take and return them. */
type NamedTensor = { name: string; tensor: tf.Tensor };

/** Settings of {@link FusedAdamOptimizer}; defaults as in tf.train.adam / torch.optim.Adam. */
export interface FusedAdamConfig {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  /** Default: the backend's epsilon (1e-7 for float32 backends, like tf.train.adam). */
  epsilon?: number;
  /** L2 penalty added to the gradient (torch.optim.Adam's weight_decay). Default 0. */
  weightDecay?: number;
}

/** Drop-in replacement for tf.train.adam (see the module doc). */
export class FusedAdamOptimizer extends tf.Optimizer {
  /** Name under which the class would be serialised. */
  static get className(): string {
    return "FusedAdam";
  }
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  #moments = new AdamMoments();
  #shapes = new Map<string, number[]>();

  constructor(config: FusedAdamConfig) {
    super();
    this.learningRate = config.learningRate;
    this.beta1 = config.beta1 ?? 0.9;
    this.beta2 = config.beta2 ?? 0.999;
    this.epsilon = config.epsilon ?? tf.backend().epsilon();
    this.weightDecay = config.weightDecay ?? 0;
  }

  /** Whether the update runs as WebAssembly SIMD (else a plain JS loop). */
  get simd(): boolean {
    return this.#moments.simd;
  }

  /** Applies one Adam step to the named variables. */
  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const pairs: [string, tf.Tensor | undefined][] = Array.isArray(variableGradients)
      ? variableGradients.map((v) => [v.name, v.tensor])
      : Object.entries(variableGradients);
    const t = this.iterations + 1;
    const step = {
      beta1: this.beta1,
      beta2: this.beta2,
      stepSize: this.learningRate / (1 - Math.pow(this.beta1, t)),
      k: 1 / Math.sqrt(1 - Math.pow(this.beta2, t)),
      epsilon: this.epsilon,
    };
    const b = tf.backend();
    const native = b instanceof NativeBackend ? b : null;
    for (const [name, grad] of pairs) {
      if (grad == null) continue;
      const param = tf.engine().registeredVariables[name];
      if (!param) throw new Error(`FusedAdam: no variable named ${name}`);
      if (param.dtype !== "float32" || grad.dtype !== "float32") {
        throw new Error(`FusedAdam: ${name} is ${param.dtype} with a ${grad.dtype} gradient`);
      }
      if (!this.#shapes.has(name)) this.#shapes.set(name, [...param.shape]);
      const p = read(native, param), g = read(native, grad);
      const n = p.length;
      const area = this.#moments.gradient(name, n);
      area.set(g);
      if (this.weightDecay !== 0) axpy(native, n, this.weightDecay, p, area);
      const d = this.#moments.step(name, step);
      if (native && native.writableInPlace(p) && native.refCount(param.dataId) === 1) {
        native.blas.axpy(n, -1, d, p);
        continue;
      }
      const np = native ? native.alloc(n) : new Float32Array(n);
      np.set(p);
      axpy(native, n, -1, d, np);
      const fresh = native
        ? tf.engine().makeTensorFromTensorInfo(native.makeTensorInfo(param.shape, "float32", np))
        : tf.tensor(np, param.shape, "float32");
      param.assign(fresh);
      fresh.dispose();
    }
    this.incrementIterations();
  }

  /** Nothing to free: the moments live in this object's WebAssembly memory. */
  override dispose(): void {}

  /** [iterations, first moments..., second moments...], in the order tf.train.adam uses. */
  override async getWeights(): Promise<NamedTensor[]> {
    const keys = this.#moments.keys();
    const ms = keys.map((k) => [k, this.#moments.moments(k)!] as const);
    return [
      await this.saveIterations(),
      ...ms.map(([k, mv]) => ({ name: `${k}/m`, tensor: tf.tensor(mv.m, this.#shapes.get(k)) })),
      ...ms.map(([k, mv]) => ({ name: `${k}/v`, tensor: tf.tensor(mv.v, this.#shapes.get(k)) })),
    ];
  }

  /** Restores what {@link getWeights} returned. */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    const half = rest.length / 2;
    for (let i = 0; i < half; i++) {
      const key = rest[i].name.replace(/\/m$/, "");
      this.#shapes.set(key, [...rest[i].tensor.shape]);
      this.#moments.setMoments(
        key,
        rest[i].tensor.dataSync() as Float32Array,
        rest[half + i].tensor.dataSync() as Float32Array,
      );
    }
  }

  /** Hyper-parameters, for serialisation. */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      weightDecay: this.weightDecay,
    };
  }
}

/** A float32 tensor's values: the storage itself on the native backend, else dataSync(). */
function read(native: NativeBackend | null, t: tf.Tensor): Float32Array {
  if (native && native.data.has(t.dataId)) {
    const v = native.data.get(t.dataId).values;
    if (v instanceof Float32Array) return v;
  }
  return t.dataSync() as Float32Array;
}

/** y += alpha x: OpenBLAS on the native backend, a loop elsewhere. */
function axpy(
  native: NativeBackend | null,
  n: number,
  alpha: number,
  x: Float32Array,
  y: Float32Array,
): void {
  if (native) return native.blas.axpy(n, alpha, x, y);
  for (let i = 0; i < n; i++) y[i] += alpha * x[i];
}

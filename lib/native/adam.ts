/**
 * Adam with the update fused into one pass per parameter tensor (WebAssembly SIMD, see
 * ./adam_simd.ts), the parameter updated in place by cblas_saxpy on the "native" backend.
 *
 * Why: an Adam written with tfjs ops runs ~13 elementwise kernels per parameter per step, each
 * allocating a tensor; for a 335k-parameter MLP that is ~4.4M element-ops and ~100 kernel
 * dispatches a step, more than its matrix products cost once those run on OpenBLAS.
 *
 * The formula is PyTorch's (torch.optim.Adam): m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2,
 * p -= lr/(1-b1^t) m / (sqrt(v)/sqrt(1-b2^t) + eps), in float32, with each parameter counting
 * its own steps; `weightDecay` is torch's L2 term (g += wd p). tf.train.adam computes the same
 * quantity in another operation order, so the two agree to float32 rounding. Works on every
 * backend: elsewhere than "native" the gradient and parameter are read with dataSync() and the
 * parameter is re-assigned.
 *
 * Two faces: {@link FusedAdam} takes explicit (variable, gradient) pairs like lib/train's
 * optimizer; {@link FusedAdamOptimizer} is a tf.Optimizer (minimize, applyGradients).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import { NativeBackend } from "./backend.ts";
import { AdamMoments } from "./adam_simd.ts";

/** A tensor with its variable name, as tfjs optimizers take and return them. */
type NamedTensor = { name: string; tensor: tf.Tensor };

/** Adam settings; defaults as torch.optim.Adam. */
export interface FusedAdamConfig {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  /** Default 1e-8 (torch); FusedAdamOptimizer defaults to the backend's (1e-7, as tfjs). */
  epsilon?: number;
  /** L2 penalty added to the gradient (torch.optim.Adam's weight_decay). Default 0. */
  weightDecay?: number;
}

interface Slot {
  key: string;
  shape: number[];
  /** Steps this parameter has taken. */
  t: number;
}

/** Adam over explicit (variable, gradient) pairs (see the module doc). */
export class FusedAdam {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  #moments = new AdamMoments();
  #slots = new Map<tf.Variable, Slot>();

  constructor(config: FusedAdamConfig) {
    this.learningRate = config.learningRate;
    this.beta1 = config.beta1 ?? 0.9;
    this.beta2 = config.beta2 ?? 0.999;
    this.epsilon = config.epsilon ?? 1e-8;
    this.weightDecay = config.weightDecay ?? 0;
  }

  /** Whether the update runs as WebAssembly SIMD (else a plain JS loop). */
  get simd(): boolean {
    return this.#moments.simd;
  }

  /** Parameters with state, in first-seen order. */
  get variables(): tf.Variable[] {
    return [...this.#slots.keys()];
  }

  /** One update of every variable in `grads`. */
  step(grads: ReadonlyArray<readonly [tf.Variable, tf.Tensor]>): void {
    const b = tf.backend();
    const native = b instanceof NativeBackend ? b : null;
    for (const [param, grad] of grads) this.#update(native, param, grad);
  }

  #slot(param: tf.Variable): Slot {
    let s = this.#slots.get(param);
    if (!s) {
      s = { key: String(this.#slots.size), shape: [...param.shape], t: 0 };
      this.#slots.set(param, s);
    }
    return s;
  }

  #update(native: NativeBackend | null, param: tf.Variable, grad: tf.Tensor): void {
    if (param.dtype !== "float32" || grad.dtype !== "float32") {
      throw new Error(`FusedAdam: ${param.name} is ${param.dtype} with a ${grad.dtype} gradient`);
    }
    const slot = this.#slot(param);
    const t = ++slot.t;
    const p = read(native, param), g = read(native, grad);
    const n = p.length;
    const area = this.#moments.gradient(slot.key, n);
    area.set(g);
    if (this.weightDecay !== 0) axpy(native, n, this.weightDecay, p, area);
    const d = this.#moments.step(slot.key, {
      beta1: this.beta1,
      beta2: this.beta2,
      stepSize: this.learningRate / (1 - Math.pow(this.beta1, t)),
      k: 1 / Math.sqrt(1 - Math.pow(this.beta2, t)),
      epsilon: this.epsilon,
    });
    if (native && native.writableInPlace(p) && native.refCount(param.dataId) === 1) {
      native.blas.axpy(n, -1, d, p);
      return;
    }
    // Someone else can see the storage (a clone, a read array, the initial tensor): new values.
    const np = native ? native.alloc(n) : new Float32Array(n);
    np.set(p);
    axpy(native, n, -1, d, np);
    const fresh = native
      ? tf.engine().makeTensorFromTensorInfo(native.makeTensorInfo(param.shape, "float32", np))
      : tf.tensor(np, param.shape, "float32");
    param.assign(fresh);
    fresh.dispose();
  }

  /** Copies of the moments of `param` and its step count, or null if it has no state. */
  state(param: tf.Variable): { m: Float32Array; v: Float32Array; t: number } | null {
    const s = this.#slots.get(param);
    const mv = s && this.#moments.moments(s.key);
    return s && mv ? { ...mv, t: s.t } : null;
  }

  /** Replaces the state of `param` (moments of its size, step count). */
  setState(param: tf.Variable, m: Float32Array, v: Float32Array, t: number): void {
    const s = this.#slot(param);
    this.#moments.setMoments(s.key, m, v);
    s.t = t;
  }

  /** Frees the moments (a later step starts from zero). */
  dispose(): void {
    this.#moments = new AdamMoments();
    this.#slots.clear();
  }
}

/** Drop-in replacement for tf.train.adam (see the module doc). */
export class FusedAdamOptimizer extends tf.Optimizer {
  /** Name under which the class would be serialised. */
  static get className(): string {
    return "FusedAdam";
  }
  #adam: FusedAdam;

  constructor(config: FusedAdamConfig) {
    super();
    this.#adam = new FusedAdam({ ...config, epsilon: config.epsilon ?? tf.backend().epsilon() });
  }

  /** The underlying update (settings, simd, state). */
  get adam(): FusedAdam {
    return this.#adam;
  }

  /** Applies one Adam step to the named variables. */
  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const named: [string, tf.Tensor | undefined][] = Array.isArray(variableGradients)
      ? variableGradients.map((v) => [v.name, v.tensor])
      : Object.entries(variableGradients);
    const pairs: [tf.Variable, tf.Tensor][] = [];
    for (const [name, grad] of named) {
      if (grad == null) continue;
      const param = tf.engine().registeredVariables[name];
      if (!param) throw new Error(`FusedAdam: no variable named ${name}`);
      pairs.push([param, grad]);
    }
    this.#adam.step(pairs);
    this.incrementIterations();
  }

  /** Frees the moments. */
  override dispose(): void {
    this.#adam.dispose();
  }

  /** [iterations, first moments..., second moments...], in the order tf.train.adam uses. */
  override async getWeights(): Promise<NamedTensor[]> {
    const states = this.#adam.variables.map((p) => [p, this.#adam.state(p)!] as const);
    return [
      await this.saveIterations(),
      ...states.map(([p, s]) => ({ name: `${p.name}/m`, tensor: tf.tensor(s.m, p.shape) })),
      ...states.map(([p, s]) => ({ name: `${p.name}/v`, tensor: tf.tensor(s.v, p.shape) })),
    ];
  }

  /** Restores what {@link getWeights} returned (variables are found by name). */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    this.#adam.dispose();
    const half = rest.length / 2;
    for (let i = 0; i < half; i++) {
      const name = rest[i].name.replace(/\/m$/, "");
      const param = tf.engine().registeredVariables[name];
      if (!param) throw new Error(`FusedAdam.setWeights: no variable named ${name}`);
      this.#adam.setState(
        param,
        rest[i].tensor.dataSync() as Float32Array,
        rest[half + i].tensor.dataSync() as Float32Array,
        this.iterations,
      );
    }
  }

  /** Hyper-parameters, for serialisation. */
  override getConfig(): tf.serialization.ConfigDict {
    const a = this.#adam;
    return {
      learningRate: a.learningRate,
      beta1: a.beta1,
      beta2: a.beta2,
      epsilon: a.epsilon,
      weightDecay: a.weightDecay,
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

/**
 * Adam (Kingma & Ba) with PyTorch's semantics: bias-corrected moments, eps added to the
 * corrected second-moment root, and weight decay as an L2 term added to the gradient
 * (torch.optim.Adam's weight_decay, what the paper's code lineage uses), not AdamW's decoupled
 * decay. Each parameter counts its own steps, so parameters frozen for a while (sequential
 * training) resume with correct bias correction.
 *
 * {@link createOptimizer} picks the implementation for the active backend: on "native",
 * lib/native's FusedAdam (same formula and per-parameter steps, one fused SIMD pass per parameter
 * and an in-place OpenBLAS axpy instead of ~13 tfjs kernels); elsewhere {@link Adam}, built from
 * tfjs ops (which run on any backend, including those that read only asynchronously).
 */
import { FusedAdam, NATIVE_BACKEND } from "../native/mod.ts";
import { tf } from "./tf.ts";

/** Optimiser settings. */
export interface AdamOptions {
  lr: number;
  weightDecay: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/** What the training methods need of an optimiser. */
export interface Optimizer {
  /** One update of every variable that has a gradient. */
  step(grads: ReadonlyArray<readonly [tf.Variable, tf.Tensor]>): void;
  /** Frees the optimiser's state. */
  dispose(): void;
}

/**
 * Adam for the active tfjs backend: FusedAdam on "native" (see the module doc), {@link Adam}
 * elsewhere. Both have torch.optim.Adam's semantics and agree to float32 rounding
 * (tests/train_native_test.ts).
 */
export function createOptimizer(opts: AdamOptions): Optimizer {
  if (tf.getBackend() === NATIVE_BACKEND) {
    return new FusedAdam({
      learningRate: opts.lr,
      weightDecay: opts.weightDecay,
      beta1: opts.beta1,
      beta2: opts.beta2,
      epsilon: opts.eps,
    });
  }
  return new Adam(opts);
}

interface Moments {
  m: tf.Tensor;
  v: tf.Tensor;
  t: number;
}

/** Adam over any set of variables, updated from explicit gradients. */
export class Adam implements Optimizer {
  readonly #state = new Map<tf.Variable, Moments>();
  readonly #lr: number;
  readonly #wd: number;
  readonly #b1: number;
  readonly #b2: number;
  readonly #eps: number;

  constructor(opts: AdamOptions) {
    this.#lr = opts.lr;
    this.#wd = opts.weightDecay;
    this.#b1 = opts.beta1 ?? 0.9;
    this.#b2 = opts.beta2 ?? 0.999;
    this.#eps = opts.eps ?? 1e-8;
  }

  /** One update of every variable that has a gradient. */
  step(grads: ReadonlyArray<readonly [tf.Variable, tf.Tensor]>): void {
    const b1 = this.#b1, b2 = this.#b2;
    for (const [p, grad] of grads) {
      const prev = this.#state.get(p);
      const t = (prev?.t ?? 0) + 1;
      const [m, v] = tf.tidy(() => {
        const g = this.#wd > 0 ? tf.add(grad, tf.mul(p, this.#wd)) : grad;
        const m = prev ? tf.add(tf.mul(prev.m, b1), tf.mul(g, 1 - b1)) : tf.mul(g, 1 - b1);
        const v = prev
          ? tf.add(tf.mul(prev.v, b2), tf.mul(tf.square(g), 1 - b2))
          : tf.mul(tf.square(g), 1 - b2);
        const stepSize = this.#lr / (1 - Math.pow(b1, t));
        const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(1 - Math.pow(b2, t))), this.#eps);
        p.assign(tf.sub(p, tf.mul(tf.div(m, denom), stepSize)));
        // Kept: the moments outlive any tidy() the caller may run this step in.
        return [tf.keep(m), tf.keep(v)];
      });
      prev?.m.dispose();
      prev?.v.dispose();
      this.#state.set(p, { m, v, t });
    }
  }

  /** Frees the moment estimates. */
  dispose(): void {
    for (const s of this.#state.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.#state.clear();
  }
}

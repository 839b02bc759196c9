/**
 * Batch normalisation over the last (channel) axis, as PyTorch's BatchNorm1d/2d: batch
 * statistics (biased variance) in training, running statistics (momentum 0.1, unbiased
 * variance) in evaluation; eps 1e-5. Built from primitive ops so autodiff covers it.
 */
import { tf } from "../tf.ts";
import type { ForwardContext, Layer, ParamStore } from "./layer.ts";

/** Variance floor. */
export const BN_EPS = 1e-5;
/** Weight of the current batch in the running averages. */
export const BN_MOMENTUM = 0.1;

/** batchNorm. */
export class BatchNorm implements Layer {
  readonly outShape: number[];
  readonly params: tf.Variable[];
  readonly state: tf.Variable[];
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;

  constructor(store: ParamStore, name: string, inShape: number[]) {
    const c = inShape[inShape.length - 1];
    this.gamma = store.param(`${name}/gamma`, [c], { kind: "ones" });
    this.beta = store.param(`${name}/beta`, [c], { kind: "zeros" });
    this.runningMean = store.state(`${name}/running_mean`, [c], 0);
    this.runningVar = store.state(`${name}/running_var`, [c], 1);
    this.params = [this.gamma, this.beta];
    this.state = [this.runningMean, this.runningVar];
    this.outShape = inShape;
  }

  apply(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    if (!ctx.training) {
      const scale = tf.mul(this.gamma, tf.rsqrt(tf.add(this.runningVar, BN_EPS)));
      return tf.add(tf.mul(tf.sub(x, this.runningMean), scale), this.beta);
    }
    const leading = [...Array(x.rank - 1).keys()]; // every axis but the channels
    const mean = tf.mean(x, leading);
    const centred = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centred), leading);
    if (ctx.updateStats !== false) {
      this.#updateRunning(mean, variance, x.size / x.shape[x.rank - 1]);
    }
    const scale = tf.mul(this.gamma, tf.rsqrt(tf.add(variance, BN_EPS)));
    return tf.add(tf.mul(centred, scale), this.beta);
  }

  #updateRunning(mean: tf.Tensor, variance: tf.Tensor, count: number): void {
    const m = BN_MOMENTUM, unbiased = count > 1 ? count / (count - 1) : 1;
    // Computed from copies so that the update is no part of the gradient tape's paths.
    tf.tidy(() => {
      const bm = tf.clone(mean), bv = tf.clone(variance);
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(bm, m)));
      this.runningVar.assign(
        tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(bv, m * unbiased)),
      );
    });
  }
}

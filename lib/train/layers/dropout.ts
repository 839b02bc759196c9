/** Inverted dropout: zeroes a fraction `rate` of activations in training and rescales the rest. */
import { tf } from "../tf.ts";
import type { ForwardContext, Layer } from "./layer.ts";

/** dropout{rate}. */
export class Dropout implements Layer {
  readonly params: tf.Variable[] = [];
  readonly state: tf.Variable[] = [];

  constructor(readonly outShape: number[], readonly rate: number) {}

  apply(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    if (!ctx.training || this.rate === 0) return x;
    const keep = 1 - this.rate;
    const mask = tf.tidy(() => {
      const u = tf.randomUniform(x.shape, 0, 1, "float32", ctx.nextSeed());
      return tf.div(tf.cast(tf.less(u, keep), "float32"), keep);
    });
    return tf.mul(x, mask);
  }
}

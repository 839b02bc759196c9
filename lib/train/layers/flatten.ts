/** Flattens each sample to a vector. */
import { tf } from "../tf.ts";
import type { Layer } from "./layer.ts";

/** flatten. */
export class Flatten implements Layer {
  readonly outShape: number[];
  readonly params: tf.Variable[] = [];
  readonly state: tf.Variable[] = [];

  constructor(inShape: number[]) {
    this.outShape = [inShape.reduce((a, d) => a * d, 1)];
  }

  apply(x: tf.Tensor): tf.Tensor {
    return x.rank === 2 ? x : tf.reshape(x, [x.shape[0], this.outShape[0]]);
  }
}

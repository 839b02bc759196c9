/** Average pooling with a square window and "valid" padding. */
import { tf } from "../tf.ts";
import { convOut } from "../model_def.ts";
import type { Layer } from "./layer.ts";

/** avgPool2d{size, stride}. */
export class AvgPool2d implements Layer {
  readonly outShape: number[];
  readonly params: tf.Variable[] = [];
  readonly state: tf.Variable[] = [];

  constructor(inShape: number[], readonly size: number, readonly stride: number) {
    const [h, w, c] = inShape;
    this.outShape = [convOut(h, size, stride, "valid"), convOut(w, size, stride, "valid"), c];
  }

  apply(x: tf.Tensor): tf.Tensor {
    return tf.avgPool(x as tf.Tensor4D, this.size, this.stride, "valid");
  }
}

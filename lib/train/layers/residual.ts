/**
 * Residual basic block (He et al. 2016): conv3x3(stride)-BN-ReLU-conv3x3-BN, plus the identity
 * or, when the shape changes, a 1x1 conv(stride)-BN projection; ReLU after the sum. The convs
 * have no bias (batchNorm follows each).
 */
import { tf } from "../tf.ts";
import { BatchNorm } from "./batch_norm.ts";
import { Conv2d } from "./conv2d.ts";
import type { ForwardContext, Layer, ParamStore } from "./layer.ts";

/** {type: "residual", filters, stride}. */
export class Residual implements Layer {
  readonly outShape: number[];
  readonly params: tf.Variable[];
  readonly state: tf.Variable[];
  readonly #conv1: Conv2d;
  readonly #bn1: BatchNorm;
  readonly #conv2: Conv2d;
  readonly #bn2: BatchNorm;
  readonly #proj: [Conv2d, BatchNorm] | null;

  constructor(store: ParamStore, name: string, inShape: number[], filters: number, stride: number) {
    const c = inShape[2];
    const he = (fanIn: number) => ({ kind: "he" as const, fanIn, gain: Math.SQRT2 });
    const conv = (n: string, shape: number[], k: number, s: number) =>
      new Conv2d(store, `${name}/${n}`, shape, {
        filters,
        kernel: k,
        stride: s,
        padding: "same",
        bias: false,
        init: k === 1 ? { kind: "glorot", fanIn: c, fanOut: filters } : he(k * k * shape[2]),
      });
    this.#conv1 = conv("conv1", inShape, 3, stride);
    this.#bn1 = new BatchNorm(store, `${name}/bn1`, this.#conv1.outShape);
    this.#conv2 = conv("conv2", this.#conv1.outShape, 3, 1);
    this.#bn2 = new BatchNorm(store, `${name}/bn2`, this.#conv2.outShape);
    this.#proj = stride !== 1 || c !== filters
      ? [
        conv("shortcut", inShape, 1, stride),
        new BatchNorm(store, `${name}/shortcut_bn`, this.#conv1.outShape),
      ]
      : null;
    this.outShape = this.#conv2.outShape;
    const parts: Layer[] = [this.#conv1, this.#bn1, this.#conv2, this.#bn2, ...(this.#proj ?? [])];
    this.params = parts.flatMap((p) => p.params);
    this.state = parts.flatMap((p) => p.state);
  }

  apply(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    let h = tf.relu(this.#bn1.apply(this.#conv1.apply(x), ctx));
    h = this.#bn2.apply(this.#conv2.apply(h), ctx);
    const shortcut = this.#proj ? this.#proj[1].apply(this.#proj[0].apply(x), ctx) : x;
    return tf.relu(tf.add(h, shortcut));
  }
}

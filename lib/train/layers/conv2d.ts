/** 2-D convolution (NHWC, square kernel) with optional bias. */
import { tf } from "../tf.ts";
import { convOut } from "../model_def.ts";
import { type Init, type Layer, type ParamStore } from "./layer.ts";
import { CONV_RELU_POOL } from "../../native/mod.ts";

/** conv2d{filters, kernel, stride, padding}. */
export class Conv2d implements Layer {
  readonly outShape: number[];
  readonly params: tf.Variable[];
  readonly state: tf.Variable[] = [];
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly #stride: number;
  readonly #padding: "same" | "valid";

  constructor(
    store: ParamStore,
    name: string,
    inShape: number[],
    opts: {
      filters: number;
      kernel: number;
      stride: number;
      padding: "same" | "valid";
      bias: boolean;
      init: Init;
    },
  ) {
    const [h, w, c] = inShape;
    const k = opts.kernel;
    this.kernel = store.param(`${name}/kernel`, [k, k, c, opts.filters], opts.init);
    this.bias = opts.bias ? store.param(`${name}/bias`, [opts.filters], { kind: "zeros" }) : null;
    this.params = this.bias ? [this.kernel, this.bias] : [this.kernel];
    this.outShape = [
      convOut(h, k, opts.stride, opts.padding),
      convOut(w, k, opts.stride, opts.padding),
      opts.filters,
    ];
    this.#stride = opts.stride;
    this.#padding = opts.padding;
  }

  apply(x: tf.Tensor): tf.Tensor {
    const y = tf.conv2d(x as tf.Tensor4D, this.kernel as tf.Tensor4D, this.#stride, this.#padding);
    return this.bias ? tf.add(y, this.bias) : y;
  }

  /**
   * activation(conv2d(x) + bias) as one FusedConv2D kernel (the "native" backend, layers with a
   * bias; see ./fuse.ts). Same values as apply() followed by the activation; gradient in
   * lib/train/autodiff/overrides.ts.
   */
  applyFused(x: tf.Tensor, activation: "linear" | "relu"): tf.Tensor {
    if (!this.bias) throw new Error("Conv2d.applyFused: the layer has no bias");
    return tf.engine().runKernel(
      tf.FusedConv2D,
      { x, filter: this.kernel, bias: this.bias },
      {
        strides: this.#stride,
        pad: this.#padding,
        dataFormat: "NHWC",
        dilations: [1, 1],
        activation,
      },
    ) as tf.Tensor;
  }

  /**
   * maxPool2x2(relu(conv2d(x) + bias)) as one kernel (lib/native's CONV_RELU_POOL: the
   * activations are pooled as they are computed, never written out; "native" backend, stride 1,
   * even output; see ./fuse.ts). Same values as applyFused(x, "relu") then a 2x2 max pooling;
   * gradient in lib/native/conv_pool_grad.ts.
   */
  applyFusedPool(x: tf.Tensor): tf.Tensor {
    if (!this.bias) throw new Error("Conv2d.applyFusedPool: the layer has no bias");
    return tf.engine().runKernel(
      CONV_RELU_POOL,
      { x, filter: this.kernel, bias: this.bias },
      { strides: this.#stride, pad: this.#padding, dataFormat: "NHWC", dilations: [1, 1] },
    ) as tf.Tensor;
  }

  /** Whether {@link applyFusedPool} takes this layer (stride 1, even output). */
  get poolFusable(): boolean {
    return this.bias !== null && this.#stride === 1 && this.outShape[0] % 2 === 0 &&
      this.outShape[1] % 2 === 0;
  }
}

/**
 * Gradient of lib/native's fused conv + bias + ReLU + 2x2 max-pool kernel
 * ({@link CONV_RELU_POOL}, ./kernels/conv.ts): the one of FusedConv2D (relu) followed by MaxPool,
 * computed the same way. One kernel ({@link RELU_POOL_GRAD}) turns the gradient of the pooled
 * output into dz, the gradient of the convolution's pre-activation (MaxPoolGrad then the ReLU
 * gradient, in one pass and from one byte per pooled element instead of the activations); the
 * convolution's gradients then run on the backend's Conv2DBackpropInput and
 * Conv2DBackpropFilter kernels and the bias gradient is dz summed over batch, height and width,
 * as for the unfused layers. Registered by ./mod.ts with the native backend.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import { CONV_RELU_POOL, RELU_POOL_GRAD } from "./kernels/conv.ts";

/** Gradient config of {@link CONV_RELU_POOL}. */
export const convReluPoolGradConfig: tf.GradConfig = {
  kernelName: CONV_RELU_POOL,
  inputsToSave: ["x", "filter", "bias"],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter, , p] = saved;
    // computed here, not in a thunk: every input's gradient needs it, and a tensor made here
    // belongs to the backward pass's scope (disposed when it ends)
    const dz = tf.engine().runKernel(RELU_POOL_GRAD, { dy: dy as tf.Tensor, p }) as tf.Tensor4D;
    const conv = {
      strides: attrs.strides,
      pad: attrs.pad,
      dataFormat: "NHWC",
      dimRoundingMode: attrs.dimRoundingMode,
    } as tf.NamedAttrMap;
    return {
      x: () =>
        tf.engine().runKernel(
          tf.Conv2DBackpropInput,
          { dy: dz, filter },
          { ...conv, inputShape: x.shape },
        ) as tf.Tensor,
      filter: () =>
        tf.engine().runKernel(
          tf.Conv2DBackpropFilter,
          { x, dy: dz },
          { ...conv, filterShape: filter.shape },
        ) as tf.Tensor,
      bias: () => tf.sum(dz, [0, 1, 2]),
    };
  },
};

/**
 * Gradients of Conv2D, MaxPool and AvgPool (NHWC, dilation 1). MaxPool's is built from
 * element-wise ops (ops/max_pool_grad.ts) except on the "native" backend, which has a correct
 * MaxPoolGrad kernel.
 */
import * as tf from "@tensorflow/tfjs-core";
import { conv2dGradFilter, conv2dGradInput, type ConvAttrs } from "../ops/conv2d_grad.ts";
import { maxPoolGrad } from "../ops/max_pool_grad.ts";
import { onNative } from "./util.ts";

/** Pool attributes the gradients support: square windows and strides, "valid" padding. */
function squareValidPool(attrs: tf.NamedAttrMap, op: string): { size: number; stride: number } {
  const pair = (v: unknown) => (typeof v === "number" ? [v, v] : v as number[]);
  const [kh, kw] = pair(attrs.filterSize), [sh, sw] = pair(attrs.strides);
  if (kh !== kw || sh !== sw || !(attrs.pad === "valid" || attrs.pad === 0)) {
    throw new Error(`${op} gradient: only square windows and strides with "valid" padding`);
  }
  return { size: kh, stride: sh };
}

/** Gradient configs of the convolution and pooling kernels. */
export const convGradients: tf.GradConfig[] = [
  {
    kernelName: tf.Conv2D,
    inputsToSave: ["x", "filter"],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const a = attrs as unknown as ConvAttrs & { dilations: number | [number, number] };
      const dil = typeof a.dilations === "number" ? [a.dilations] : a.dilations ?? [1];
      if (dil.some((d) => d !== 1)) throw new Error("conv2d gradient: dilations must be 1");
      const g = dy as tf.Tensor4D;
      return {
        x: () => conv2dGradInput(x.shape, g, filter, a),
        filter: () => conv2dGradFilter(x, g, filter.shape as [number, number, number, number], a),
      };
    },
  },
  {
    kernelName: tf.MaxPool,
    inputsToSave: ["x"],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, y] = saved as [tf.Tensor4D, tf.Tensor4D];
      const { size, stride } = squareValidPool(attrs, "maxPool");
      if (onNative()) {
        // lib/native's MaxPoolGrad kernel (one pass; the gradient goes to the first maximum of
        // each window, as in PyTorch). tfjs-wasm's kernel is wrong, hence the op formulation.
        const { filterSize, strides, pad, dimRoundingMode } = attrs;
        return {
          x: () =>
            tf.engine().runKernel(
              tf.MaxPoolGrad,
              { dy: dy as tf.Tensor, input: x, output: y },
              { filterSize, strides, pad, dimRoundingMode } as tf.NamedAttrMap,
            ) as tf.Tensor,
        };
      }
      return { x: () => maxPoolGrad(x, y, dy as tf.Tensor4D, size, stride) };
    },
  },
  {
    kernelName: tf.AvgPool,
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const { filterSize, strides, pad } = attrs;
      squareValidPool(attrs, "avgPool"); // tfjs' AvgPoolGrad divides by the full window, even at padded borders
      return {
        x: () =>
          tf.engine().runKernel(
            "AvgPoolGrad",
            { dy: dy as tf.Tensor, input: x },
            { filterSize, strides, pad } as tf.NamedAttrMap,
          ) as tf.Tensor,
      };
    },
  },
];

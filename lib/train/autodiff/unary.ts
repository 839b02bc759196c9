/** Gradients of element-wise unary kernels (activations and the math the losses use). */
import * as tf from "@tensorflow/tfjs-core";
import { reluGrad } from "../ops/relu_grad.ts";

type G = tf.Tensor;

/** Gradient configs of the unary kernels. */
export const unaryGradients: tf.GradConfig[] = [
  { kernelName: tf.Neg, gradFunc: (dy) => ({ x: () => tf.neg(dy as G) }) },
  { kernelName: tf.Identity, gradFunc: (dy) => ({ x: () => tf.clone(dy as G) }) },
  { kernelName: tf.Cast, gradFunc: (dy) => ({ x: () => tf.clone(dy as G) }) },
  {
    kernelName: tf.Exp,
    outputsToSave: [true],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as G, saved[0]) }),
  },
  {
    kernelName: tf.Log,
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => ({ x: () => tf.div(dy as G, saved[0]) }),
  },
  {
    kernelName: tf.Sqrt,
    outputsToSave: [true],
    gradFunc: (dy, saved) => ({ x: () => tf.div(dy as G, tf.mul(saved[0], 2)) }),
  },
  {
    kernelName: tf.Rsqrt,
    outputsToSave: [true],
    // d(x^-1/2) = -1/2 x^-3/2 = -1/2 y^3
    gradFunc: (dy, saved) => ({
      x: () => tf.mul(dy as G, tf.mul(tf.mul(saved[0], tf.square(saved[0])), -0.5)),
    }),
  },
  {
    kernelName: tf.Reciprocal,
    outputsToSave: [true],
    gradFunc: (dy, saved) => ({ x: () => tf.neg(tf.mul(dy as G, tf.square(saved[0]))) }),
  },
  {
    kernelName: tf.Square,
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as G, tf.mul(saved[0], 2)) }),
  },
  {
    kernelName: tf.Abs,
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as G, tf.sign(saved[0])) }),
  },
  {
    kernelName: tf.Relu,
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => ({ x: () => reluGrad(dy as G, saved[0]) }),
  },
  {
    kernelName: tf.LeakyRelu,
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs) => {
      const alpha = attrs.alpha as number;
      return {
        x: () => tf.mul(dy as G, tf.where(tf.greater(saved[0], 0), tf.onesLike(dy as G), alpha)),
      };
    },
  },
  {
    kernelName: tf.Tanh,
    outputsToSave: [true],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as G, tf.sub(1, tf.square(saved[0]))) }),
  },
  {
    kernelName: tf.Sigmoid,
    outputsToSave: [true],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as G, tf.mul(saved[0], tf.sub(1, saved[0]))) }),
  },
  {
    kernelName: tf.ClipByValue,
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs) => {
      const { clipValueMin: lo, clipValueMax: hi } = attrs as {
        clipValueMin: number;
        clipValueMax: number;
      };
      const inside = tf.logicalAnd(tf.greaterEqual(saved[0], lo), tf.lessEqual(saved[0], hi));
      return { x: () => tf.mul(dy as G, tf.cast(inside, "float32")) };
    },
  },
];

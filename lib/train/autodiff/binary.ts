/** Gradients of broadcasting binary kernels (Add, Sub, Multiply, RealDiv, Maximum, Minimum) and AddN. */
import * as tf from "@tensorflow/tfjs-core";
import { unbroadcast } from "./util.ts";

/** Gradient configs of the binary kernels. */
export const binaryGradients: tf.GradConfig[] = [
  {
    kernelName: tf.Add,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      const g = dy as tf.Tensor;
      return { a: () => unbroadcast(g, a.shape), b: () => unbroadcast(g, b.shape) };
    },
  },
  {
    kernelName: tf.Sub,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      const g = dy as tf.Tensor;
      return { a: () => unbroadcast(g, a.shape), b: () => unbroadcast(tf.neg(g), b.shape) };
    },
  },
  {
    kernelName: tf.Multiply,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      const g = dy as tf.Tensor;
      return {
        a: () => unbroadcast(tf.mul(g, tf.cast(b, "float32")), a.shape),
        b: () => unbroadcast(tf.mul(g, tf.cast(a, "float32")), b.shape),
      };
    },
  },
  {
    kernelName: tf.RealDiv,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      const g = dy as tf.Tensor;
      return {
        a: () => unbroadcast(tf.div(g, b), a.shape),
        // d(a/b)/db = -a / b^2
        b: () => unbroadcast(tf.neg(tf.div(tf.mul(g, a), tf.square(b))), b.shape),
      };
    },
  },
  {
    kernelName: tf.Maximum,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      const g = dy as tf.Tensor;
      // Ties go to a, as in tfjs.
      const toA = tf.cast(tf.greaterEqual(a, b), "float32");
      return {
        a: () => unbroadcast(tf.mul(g, toA), a.shape),
        b: () => unbroadcast(tf.mul(g, tf.sub(1, toA)), b.shape),
      };
    },
  },
  {
    kernelName: tf.Minimum,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      const g = dy as tf.Tensor;
      const toA = tf.cast(tf.lessEqual(a, b), "float32");
      return {
        a: () => unbroadcast(tf.mul(g, toA), a.shape),
        b: () => unbroadcast(tf.mul(g, tf.sub(1, toA)), b.shape),
      };
    },
  },
  {
    kernelName: tf.AddN,
    saveAllInputs: true,
    gradFunc: (dy, saved) => {
      const out: Record<string, () => tf.Tensor> = {};
      saved.forEach((_t, i) => (out[i] = () => tf.clone(dy as tf.Tensor)));
      return out;
    },
  },
];

/** Gradients of shape kernels: Reshape, ExpandDims, Transpose, Concat, Slice, PadV2, Pack. */
import * as tf from "@tensorflow/tfjs-core";

type G = tf.Tensor;

/** Gradient configs of the shape kernels. */
export const shapeGradients: tf.GradConfig[] = [
  {
    kernelName: tf.Reshape,
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => ({ x: () => tf.reshape(dy as G, saved[0].shape) }),
  },
  {
    kernelName: tf.ExpandDims,
    inputsToSave: ["input"],
    gradFunc: (dy, saved) => ({ input: () => tf.reshape(dy as G, saved[0].shape) }),
  },
  {
    kernelName: tf.Transpose,
    gradFunc: (dy, _saved, attrs) => {
      const perm = attrs.perm as number[];
      const inverse = new Array<number>(perm.length);
      perm.forEach((p, i) => (inverse[p] = i));
      return { x: () => tf.transpose(dy as G, inverse) };
    },
  },
  {
    kernelName: tf.Concat,
    saveAllInputs: true,
    gradFunc: (dy, saved, attrs) => {
      const shapes = saved.map((t) => t.shape);
      const axis = tf.util.parseAxisParam(attrs.axis as number, shapes[0])[0];
      const parts = tf.split(dy as G, shapes.map((s) => s[axis]), axis);
      const out: Record<string, () => tf.Tensor> = {};
      parts.forEach((p, i) => (out[i] = () => p));
      return out;
    },
  },
  {
    kernelName: tf.Slice,
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs) => {
      const x = saved[0];
      const begin = attrs.begin as number[];
      const size = (dy as G).shape;
      const pads = x.shape.map((d, i) => [begin[i], d - begin[i] - size[i]] as [number, number]);
      return { x: () => tf.pad(dy as G, pads) };
    },
  },
  {
    kernelName: tf.PadV2,
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs) => {
      const x = saved[0];
      const paddings = attrs.paddings as Array<[number, number]>;
      return { x: () => tf.slice(dy as G, paddings.map((p) => p[0]), x.shape) };
    },
  },
  {
    kernelName: tf.Pack,
    saveAllInputs: true,
    gradFunc: (dy, saved, attrs) => {
      const axis = attrs.axis as number;
      const parts = tf.unstack(dy as G, axis);
      const out: Record<string, () => tf.Tensor> = {};
      parts.forEach((p, i) => (out[i] = () => tf.reshape(p, saved[i].shape)));
      return out;
    },
  },
];

/**
 * Gradient of BatchMatMul with explicit transposes: tfjs-wasm multiplies a transposed operand
 * about ten times slower than a plain one, and a transpose costs only O(mn).
 */
import * as tf from "@tensorflow/tfjs-core";
import { transposeLast2 as T, unbroadcast } from "./util.ts";

const mm = (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b);

/** Gradient config of BatchMatMul (all four transpose combinations). */
export const matMulGradient: tf.GradConfig = {
  kernelName: tf.BatchMatMul,
  inputsToSave: ["a", "b"],
  gradFunc: (dyIn, saved, attrs) => {
    const [a, b] = saved;
    const dy = dyIn as tf.Tensor;
    const ta = attrs.transposeA as boolean, tb = attrs.transposeB as boolean;
    let da: () => tf.Tensor, db: () => tf.Tensor;
    if (!ta && !tb) {
      da = () => mm(dy, T(b));
      db = () => mm(T(a), dy);
    } else if (!ta && tb) {
      da = () => mm(dy, b);
      db = () => mm(T(dy), a);
    } else if (ta && !tb) {
      da = () => mm(b, T(dy));
      db = () => mm(a, dy);
    } else {
      da = () => T(mm(dy, b));
      db = () => T(mm(a, dy));
    }
    return { a: () => unbroadcast(da(), a.shape), b: () => unbroadcast(db(), b.shape) };
  },
};

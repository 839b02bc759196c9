/**
 * Gradient of BatchMatMul. On tfjs-backend-wasm (and the other tfjs backends) with explicit
 * transposes: tfjs-wasm multiplies a transposed operand about ten times slower than a plain
 * one, and a transpose costs only O(mn). On the "native" backend (lib/native) with transpose
 * flags instead: sgemm reads a transposed operand in place at full speed, so the explicit
 * transposes would only add two passes over the operands.
 */
import * as tf from "@tensorflow/tfjs-core";
import { onNative, transposeLast2 as T, unbroadcast } from "./util.ts";

const mm = (a: tf.Tensor, b: tf.Tensor, ta = false, tb = false) => tf.matMul(a, b, ta, tb);

/**
 * Thunks of dL/da and dL/db of y = op(a) op(b) given dL/dy (op = transpose where the flag is
 * set), summed back over broadcast batch dimensions.
 */
export function matMulGrads(
  a: tf.Tensor,
  b: tf.Tensor,
  dy: tf.Tensor,
  ta: boolean,
  tb: boolean,
): { a: () => tf.Tensor; b: () => tf.Tensor } {
  let da: () => tf.Tensor, db: () => tf.Tensor;
  if (onNative()) {
    if (!ta && !tb) {
      da = () => mm(dy, b, false, true);
      db = () => mm(a, dy, true, false);
    } else if (!ta && tb) {
      da = () => mm(dy, b);
      db = () => mm(dy, a, true, false);
    } else if (ta && !tb) {
      da = () => mm(b, dy, false, true);
      db = () => mm(a, dy);
    } else {
      da = () => mm(b, dy, true, true);
      db = () => mm(dy, a, true, true);
    }
  } else if (!ta && !tb) {
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
}

/** Gradient config of BatchMatMul (all four transpose combinations). */
export const matMulGradient: tf.GradConfig = {
  kernelName: tf.BatchMatMul,
  inputsToSave: ["a", "b"],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved;
    return matMulGrads(
      a,
      b,
      dy as tf.Tensor,
      attrs.transposeA as boolean,
      attrs.transposeB as boolean,
    );
  },
};

/**
 * Gradients of the fused kernels _FusedMatMul (matMul + bias + activation) and FusedConv2D
 * (conv2d + bias + activation), for the activations "linear" and "relu" with a bias. The layers
 * run these kernels on the "native" backend only (lib/train/layers/fuse.ts), where one kernel
 * adds the bias and applies the ReLU in place instead of three passes over the output. The rules
 * are those of the unfused ops: dz = dy * step(y) for relu (y > 0 exactly where the
 * pre-activation is), then the matMul / conv2d gradients of dz and the bias gradient sum(dz).
 *
 * tfjs' own tf.fused.* ops carry their gradients in the op (customGrad) and do not fuse a relu
 * while recording gradients; these registered rules keep one tape node per kernel, whose
 * per-input thunks are only called for inputs that lead to a variable (the first layer's input
 * gradient is never computed).
 */
import * as tf from "@tensorflow/tfjs-core";
import { conv2dGradFilter, conv2dGradInput, type ConvAttrs } from "../ops/conv2d_grad.ts";
import { reluGrad } from "../ops/relu_grad.ts";
import { matMulGrads } from "./matmul.ts";
import { unbroadcast } from "./util.ts";

/** dL/d(pre-activation) from dL/dy and the kernel's output y. */
function activationGrad(dy: tf.Tensor, y: tf.Tensor, attrs: tf.NamedAttrMap, op: string) {
  const act = (attrs.activation as string | undefined) ?? "linear";
  if (act === "linear") return dy;
  if (act === "relu") return reluGrad(dy, y);
  throw new Error(`${op} gradient: activation "${act}" is not supported (linear, relu)`);
}

/** Gradient configs of the fused kernels. */
export const fusedGradients: tf.GradConfig[] = [
  {
    kernelName: tf._FusedMatMul,
    inputsToSave: ["a", "b", "bias"],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [a, b, bias, y] = saved;
      if (!bias || !y) throw new Error("_FusedMatMul gradient: needs a bias");
      const dz = activationGrad(dy as tf.Tensor, y, attrs, "_FusedMatMul");
      const g = matMulGrads(a, b, dz, attrs.transposeA as boolean, attrs.transposeB as boolean);
      return { a: g.a, b: g.b, bias: () => unbroadcast(dz, bias.shape) };
    },
  },
  {
    kernelName: tf.FusedConv2D,
    inputsToSave: ["x", "filter", "bias"],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter, bias, y] = saved as tf.Tensor4D[];
      if (!bias || !y) throw new Error("FusedConv2D gradient: needs a bias");
      const a = attrs as unknown as ConvAttrs & {
        dilations?: number | [number, number];
        dataFormat?: string;
      };
      const dil = typeof a.dilations === "number" ? [a.dilations] : a.dilations ?? [1];
      if (dil.some((d) => d !== 1) || (a.dataFormat ?? "NHWC") !== "NHWC") {
        throw new Error("FusedConv2D gradient: NHWC with dilations 1 only");
      }
      const dz = activationGrad(dy as tf.Tensor, y, attrs, "FusedConv2D") as tf.Tensor4D;
      return {
        x: () => conv2dGradInput(x.shape, dz, filter, a),
        filter: () => conv2dGradFilter(x, dz, filter.shape as [number, number, number, number], a),
        bias: () => unbroadcast(dz, bias.shape),
      };
    },
  },
];

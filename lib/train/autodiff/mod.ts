/**
 * Reverse-mode rules for the tfjs kernels that training uses. tfjs-core's own gradient
 * definitions ship only as extension-less ES modules that Deno cannot load (and its Node bundle
 * leaves them out), so they are defined here, once per isolate, in the global tfjs registry.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { binaryGradients } from "./binary.ts";
import { convGradients } from "./conv.ts";
import { fusedGradients } from "./fused.ts";
import { lossGradients } from "./loss.ts";
import { matMulGradient } from "./matmul.ts";
import { reduceGradients } from "./reduce.ts";
import { shapeGradients } from "./shape.ts";
import { unaryGradients } from "./unary.ts";

/** Every gradient config this module provides. */
export const TRAINING_GRADIENTS: readonly tf.GradConfig[] = [
  ...binaryGradients,
  ...unaryGradients,
  ...reduceGradients,
  ...shapeGradients,
  matMulGradient,
  ...convGradients,
  ...fusedGradients,
  ...lossGradients,
];

/** Registers the gradients (idempotent; kernels that already have one are left alone). */
export function registerTrainingGradients(): void {
  for (const g of TRAINING_GRADIENTS) {
    if (tf.getGradient(g.kernelName) === undefined) tf.registerGradient(g);
  }
}

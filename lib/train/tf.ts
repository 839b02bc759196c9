/**
 * The tfjs-core instance of the training code, with the CPU and WebAssembly backends loaded and
 * the gradients of lib/train/autodiff registered. Import `tf` from here, never from the package
 * directly, so that gradients are always in place.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { registerTrainingGradients } from "./autodiff/mod.ts";

// PROD silences tfjs' console advice ("install tfjs-node") without changing any computation.
tf.env().set("PROD", true);
registerTrainingGradients();

export { tf };

/**
 * Whether the active backend can read tensors synchronously (dataSync). tfjs-backend-webgpu
 * reads synchronously through a canvas, which Deno does not have: there, reads must be async.
 */
export function syncReads(): boolean {
  return tf.getBackend() !== "webgpu";
}

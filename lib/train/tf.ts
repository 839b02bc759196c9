/**
 * The tfjs-core instance of the training code, with the CPU and WebAssembly backends loaded and
 * the gradients in place: tfjs' stock rules, which only its union package registers (tfjs-core's
 * own gradient modules are extension-less ES modules that Deno cannot load, and its Node bundle
 * leaves them out), and the overrides of lib/train/autodiff. Import `tf` from here, never from
 * the package directly, so that gradients are always in place.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import "@tensorflow/tfjs";
import { registerGradientOverrides } from "./autodiff/overrides.ts";

// PROD silences tfjs' console advice ("install tfjs-node") without changing any computation.
tf.env().set("PROD", true);
registerGradientOverrides();

export { tf };

/**
 * Whether the active backend can read tensors synchronously (dataSync). tfjs-backend-webgpu
 * reads synchronously through a canvas, which Deno does not have: there, reads must be async.
 */
export function syncReads(): boolean {
  return tf.getBackend() !== "webgpu";
}

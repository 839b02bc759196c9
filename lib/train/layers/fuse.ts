/**
 * Applies a list of layers, fusing dense / conv2d layers with their bias and a following ReLU
 * into one kernel on the "native" backend (lib/native): _FusedMatMul and FusedConv2D add the bias
 * and apply the activation in place on the product's output, where the separate ops make two
 * more passes over it (three tape nodes become one). The values are those of the unfused layers
 * (same float32 operations in the same order); the gradients come from
 * lib/train/autodiff/overrides.ts. A conv with bias and ReLU followed by a 2x2 max pooling (LeNet,
 * the suite's conv net) is one kernel, lib/native's CONV_RELU_POOL (gradient in
 * lib/native/conv_pool_grad.ts). Other backends run the layers one by one, as before.
 */
import { tf } from "../tf.ts";
import { Activation } from "./activation.ts";
import { Conv2d } from "./conv2d.ts";
import { Dense } from "./dense.ts";
import type { ForwardContext, Layer } from "./layer.ts";
import { MaxPool2d } from "./max_pool2d.ts";

/** Whether the layers are fused on the active backend (the "native" backend only). */
export function fusesLayers(): boolean {
  return tf.getBackend() === "native";
}

/** x through `layers` in order (fused where {@link fusesLayers}). */
export function applyLayers(
  layers: readonly Layer[],
  x: tf.Tensor,
  ctx: ForwardContext,
): tf.Tensor {
  let h = x;
  if (!fusesLayers()) {
    for (const l of layers) h = l.apply(h, ctx);
    return h;
  }
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i];
    if (l instanceof Dense || (l instanceof Conv2d && l.bias)) {
      const next = layers[i + 1];
      const relu = next instanceof Activation && next.fn === "relu";
      const pool = layers[i + 2];
      if (
        relu && l instanceof Conv2d && l.poolFusable && pool instanceof MaxPool2d &&
        pool.size === 2 && pool.stride === 2
      ) {
        // conv + bias + ReLU + 2x2 max pooling: one kernel, the activations never written out
        h = l.applyFusedPool(h);
        i += 2;
        continue;
      }
      h = (l as Dense | Conv2d).applyFused(h, relu ? "relu" : "linear");
      if (relu) i++;
    } else {
      h = l.apply(h, ctx);
    }
  }
  return h;
}

/**
 * Applies a list of layers, fusing dense / conv2d layers with their bias and a following ReLU
 * into one kernel on the "native" backend (lib/native): _FusedMatMul and FusedConv2D add the bias
 * and apply the activation in place on the product's output, where the separate ops make two
 * more passes over it (three tape nodes become one). The values are those of the unfused layers
 * (same float32 operations in the same order); the gradients are registered in
 * lib/train/autodiff/overrides.ts. Other backends run the layers one by one, as before.
 */
import { tf } from "../tf.ts";
import { Activation } from "./activation.ts";
import { Conv2d } from "./conv2d.ts";
import { Dense } from "./dense.ts";
import type { ForwardContext, Layer } from "./layer.ts";

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
      h = (l as Dense | Conv2d).applyFused(h, relu ? "relu" : "linear");
      if (relu) i++;
    } else {
      h = l.apply(h, ctx);
    }
  }
  return h;
}

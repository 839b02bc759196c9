/** Builds the layers of a block from its definition. */
import type { BlockDef, LayerDef } from "../model_def.ts";
import { Activation } from "./activation.ts";
import { AvgPool2d } from "./avg_pool2d.ts";
import { BatchNorm } from "./batch_norm.ts";
import { Conv2d } from "./conv2d.ts";
import { Dense } from "./dense.ts";
import { Dropout } from "./dropout.ts";
import { Flatten } from "./flatten.ts";
import { type Layer, type ParamStore, weightInit } from "./layer.ts";
import { MaxPool2d } from "./max_pool2d.ts";
import { Residual } from "./residual.ts";

/** The activation that follows layer i (skipping normalisation, dropout and pooling). */
function nextActivation(layers: LayerDef[], i: number): LayerDef | undefined {
  for (let j = i + 1; j < layers.length; j++) {
    const t = layers[j].type;
    if (t === "dense" || t === "conv2d" || t === "flatten") return undefined;
    if (t === "relu" || t === "leakyRelu" || t === "tanh" || t === "sigmoid") return layers[j];
  }
  return undefined;
}

/** One layer from its definition; `name` is its logical parameter prefix. */
export function buildLayer(
  def: LayerDef,
  inShape: number[],
  store: ParamStore,
  name: string,
  next: LayerDef | undefined,
): Layer {
  const alpha = next?.type === "leakyRelu" ? next.alpha : 0.01;
  switch (def.type) {
    case "dense":
      return new Dense(
        store,
        name,
        inShape[0],
        def.units,
        weightInit(inShape[0], def.units, next?.type, alpha),
      );
    case "conv2d": {
      const k2 = def.kernel * def.kernel;
      return new Conv2d(store, name, inShape, {
        filters: def.filters,
        kernel: def.kernel,
        stride: def.stride,
        padding: def.padding,
        bias: true,
        init: weightInit(k2 * inShape[2], k2 * def.filters, next?.type, alpha),
      });
    }
    case "maxPool2d":
      return new MaxPool2d(inShape, def.size, def.stride ?? def.size);
    case "avgPool2d":
      return new AvgPool2d(inShape, def.size, def.stride ?? def.size);
    case "flatten":
      return new Flatten(inShape);
    case "batchNorm":
      return new BatchNorm(store, name, inShape);
    case "dropout":
      return new Dropout(inShape, def.rate);
    case "relu":
    case "tanh":
    case "sigmoid":
      return new Activation(inShape, def.type);
    case "leakyRelu":
      return new Activation(inShape, "leakyRelu", def.alpha);
  }
}

/** The layers of block `blockName` on per-sample input `inShape`. */
export function buildBlock(
  def: BlockDef,
  inShape: number[],
  store: ParamStore,
  blockName: string,
): Layer[] {
  if (def.type === "residual") {
    return [new Residual(store, `${blockName}/residual`, inShape, def.filters, def.stride)];
  }
  const out: Layer[] = [];
  let shape = inShape;
  def.layers.forEach((l, i) => {
    const layer = buildLayer(
      l,
      shape,
      store,
      `${blockName}/${i}.${l.type}`,
      nextActivation(def.layers, i),
    );
    out.push(layer);
    shape = layer.outShape;
  });
  return out;
}

/**
 * Auxiliary heads of layer-wise training: they map a block's output to class logits (local
 * cross-entropy) or to a projection (supervised contrastive loss).
 *
 * - linear: [adaptive average pooling] -> flatten -> dense(out)
 * - mlp:    [adaptive average pooling] -> flatten -> dense(512) -> ReLU -> dense(out)
 * - conv:   conv3x3(C -> C, same) -> ReLU -> [adaptive average pooling] -> flatten -> dense(out)
 *
 * Pooling (PyTorch's adaptive windows) halves a conv map until the flattened size is at most
 * 2048; flat block outputs are used as they are.
 */
import { tf } from "./tf.ts";
import { Activation } from "./layers/activation.ts";
import { AdaptiveAvgPool, headPoolTarget } from "./layers/adaptive_avg_pool.ts";
import { Conv2d } from "./layers/conv2d.ts";
import { Dense } from "./layers/dense.ts";
import { Flatten } from "./layers/flatten.ts";
import { applyLayers } from "./layers/fuse.ts";
import type { ForwardContext, Layer, ParamStore } from "./layers/layer.ts";

/** Kinds of auxiliary head. */
export type HeadKind = "linear" | "mlp" | "conv";

/** Hidden width of the MLP head. */
export const MLP_HEAD_HIDDEN = 512;

/** An auxiliary head: a small network on a block's output. */
export class Head {
  readonly params: tf.Variable[];
  readonly #layers: Layer[];

  constructor(
    store: ParamStore,
    name: string,
    readonly kind: HeadKind,
    inShape: number[],
    outDim: number,
  ) {
    const layers: Layer[] = [];
    let shape = inShape;
    const push = (l: Layer) => {
      layers.push(l);
      shape = l.outShape;
    };
    if (kind === "conv") {
      if (shape.length !== 3) throw new Error(`conv head needs an image input, got [${shape}]`);
      const c = shape[2];
      push(
        new Conv2d(store, `${name}/conv`, shape, {
          filters: c,
          kernel: 3,
          stride: 1,
          padding: "same",
          bias: true,
          init: { kind: "he", fanIn: 9 * c, gain: Math.SQRT2 },
        }),
      );
      push(new Activation(shape, "relu"));
    }
    if (shape.length === 3) {
      const { oh, ow } = headPoolTarget(shape[0], shape[1], shape[2]);
      push(new AdaptiveAvgPool(shape, oh, ow));
    }
    push(new Flatten(shape));
    const glorot = (i: number, o: number) => ({ kind: "glorot" as const, fanIn: i, fanOut: o });
    if (kind === "mlp") {
      push(
        new Dense(store, `${name}/hidden`, shape[0], MLP_HEAD_HIDDEN, {
          kind: "he",
          fanIn: shape[0],
          gain: Math.SQRT2,
        }),
      );
      push(new Activation(shape, "relu"));
    }
    push(new Dense(store, `${name}/out`, shape[0], outDim, glorot(shape[0], outDim)));
    this.#layers = layers;
    this.params = layers.flatMap((l) => l.params);
  }

  apply(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    return applyLayers(this.#layers, x, ctx);
  }
}

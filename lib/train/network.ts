/**
 * A network built from a checked model plan: its blocks (the tracked layers), the appended
 * linear classifier ("logits") and seeded parameters. Methods drive it block by block.
 */
import { tf } from "./tf.ts";
import { buildBlock } from "./layers/build.ts";
import { Dense } from "./layers/dense.ts";
import { applyLayers, fusesLayers } from "./layers/fuse.ts";
import { type ForwardContext, type Layer, ParamStore } from "./layers/layer.ts";
import type { ModelPlan } from "./model_def.ts";

/** One block of the network. */
export interface NetBlock {
  name: string;
  layers: Layer[];
  inShape: number[];
  outShape: number[];
  params: tf.Variable[];
}

/** Name of the classifier's tracked output. */
export const LOGITS = "logits";

/** The network of a job: blocks + classifier, with parameters from a {@link ParamStore}. */
export class Network {
  readonly blocks: NetBlock[];
  readonly classifier: Dense;
  readonly classifierPool: "flatten" | "global_avg";
  readonly store: ParamStore;

  constructor(readonly plan: ModelPlan, seed: number) {
    this.store = new ParamStore(seed);
    this.blocks = plan.blocks.map((b) => {
      const layers = buildBlock(b.def, b.inShape, this.store, b.name);
      return {
        name: b.name,
        layers,
        inShape: b.inShape,
        outShape: b.outShape,
        params: layers.flatMap((l) => l.params),
      };
    });
    this.classifierPool = plan.model.classifier_pool;
    const d = plan.classifierIn, c = plan.numClasses;
    this.classifier = new Dense(this.store, "classifier", d, c, {
      kind: "glorot",
      fanIn: d,
      fanOut: c,
    });
  }

  /** Names of the tracked layers: every block, then "logits". */
  get trackedNames(): string[] {
    return [...this.blocks.map((b) => b.name), LOGITS];
  }

  /** Applies block i to x ([n, ...inShape]). */
  forwardBlock(i: number, x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    return applyLayers(this.blocks[i].layers, x, ctx);
  }

  /** Classifier logits of the last block's output. */
  classify(h: tf.Tensor): tf.Tensor {
    let z = h;
    if (z.rank === 4) {
      z = this.classifierPool === "global_avg"
        ? tf.mean(z, [1, 2])
        : tf.reshape(z, [z.shape[0], this.plan.classifierIn]);
    }
    return fusesLayers() ? this.classifier.applyFused(z, "linear") : this.classifier.apply(z);
  }

  /** Full forward pass: every block's output and the logits. */
  forward(x: tf.Tensor, ctx: ForwardContext): { outputs: tf.Tensor[]; logits: tf.Tensor } {
    const outputs: tf.Tensor[] = [];
    let h = x;
    for (let i = 0; i < this.blocks.length; i++) {
      h = this.forwardBlock(i, h, ctx);
      outputs.push(h);
    }
    return { outputs, logits: this.classify(h) };
  }

  /** Trainable parameters of the blocks and the classifier. */
  get params(): tf.Variable[] {
    return [...this.blocks.flatMap((b) => b.params), ...this.classifier.params];
  }

  /** Frees all parameters and state. */
  dispose(): void {
    this.store.dispose();
  }
}

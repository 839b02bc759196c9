/**
 * Sequential layer-wise training: block 1 with its head is trained for all epochs, then frozen;
 * then block 2 on top of the frozen blocks (run in evaluation mode), and so on. The classifier is
 * trained together with the last block, on its detached output. Before the last stage the
 * reported loss and accuracy are those of the whole network's (not yet trained) output.
 */
import { tf } from "../tf.ts";
import type { ForwardContext } from "../layers/layer.ts";
import { countCorrect, crossEntropy } from "../losses/cross_entropy.ts";
import type { Network } from "../network.ts";
import type { Adam } from "../optimizer.ts";
import type { ResolvedMethod } from "../request.ts";
import { LocalObjectives } from "./local.ts";
import { trainBlock, trainClassifier } from "./layerwise.ts";
import type { MethodRunner, StepResult, TrainBatch } from "./method.ts";

/** The sequential method: one stage per block. */
export class Sequential implements MethodRunner {
  readonly stages: number;
  readonly usesViews: boolean;
  readonly local: LocalObjectives;

  constructor(readonly net: Network, readonly opt: Adam, method: ResolvedMethod, seed: number) {
    this.local = new LocalObjectives(net, method, seed);
    this.usesViews = method.loss === "supervised_contrastive";
    this.stages = net.blocks.length;
  }

  step(stage: number, batch: TrainBatch, ctx: ForwardContext): StepResult {
    const frozen: ForwardContext = { training: false, nextSeed: ctx.nextSeed };
    const input = tf.tidy(() => {
      let t = batch.x;
      for (let i = 0; i < stage; i++) t = this.net.forwardBlock(i, t, frozen);
      return t;
    });
    const grads: Array<[tf.Variable, tf.Tensor]> = [];
    const globalRT = this.local.globalTarget(batch);
    let out: tf.Tensor | null = null;
    try {
      const b = trainBlock(this.net, this.local, stage, input, batch, ctx, globalRT, grads);
      out = b.out;
      const last = stage === this.stages - 1;
      let loss: number, correct: number;
      if (last) {
        ({ loss, correct } = trainClassifier(this.net, out, batch, grads));
      } else {
        // The network's output with the blocks above still untrained (no update).
        const logits = tf.tidy(() => {
          let t = out!;
          for (let i = stage + 1; i < this.stages; i++) t = this.net.forwardBlock(i, t, frozen);
          return this.net.classify(t);
        });
        const ce = tf.tidy(() => crossEntropy(logits, batch.onehot));
        loss = ce.dataSync()[0];
        ce.dispose();
        correct = countCorrect(logits, batch.labels);
        logits.dispose();
      }
      this.opt.step(grads);
      return {
        loss,
        correct,
        n: batch.labels.length,
        objective: b.objective + (last ? loss : 0),
      };
    } finally {
      if (input !== batch.x) input.dispose();
      (out as tf.Tensor | null)?.dispose();
      globalRT?.dispose();
      tf.dispose(grads.map((g) => g[1]));
    }
  }

  dispose(): void {
    this.local.dispose();
    this.opt.dispose();
  }
}

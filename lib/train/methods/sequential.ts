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
import type { Optimizer } from "../optimizer.ts";
import type { ResolvedMethod } from "../request.ts";
import { LocalObjectives } from "./local.ts";
import { type GradList, readSum, trainBlock, trainClassifier } from "./layerwise.ts";
import type { MethodRunner, StepResult, TrainBatch } from "./method.ts";

/** The sequential method: one stage per block. */
export class Sequential implements MethodRunner {
  readonly stages: number;
  readonly usesViews: boolean;
  readonly local: LocalObjectives;

  constructor(
    readonly net: Network,
    readonly opt: Optimizer,
    method: ResolvedMethod,
    seed: number,
  ) {
    this.local = new LocalObjectives(net, method, seed);
    this.usesViews = method.loss === "supervised_contrastive";
    this.stages = net.blocks.length;
  }

  async step(stage: number, batch: TrainBatch, ctx: ForwardContext): Promise<StepResult> {
    const frozen: ForwardContext = { training: false, nextSeed: ctx.nextSeed };
    const input = tf.tidy(() => {
      let t = batch.x;
      for (let i = 0; i < stage; i++) t = this.net.forwardBlock(i, t, frozen);
      return t;
    });
    const grads: GradList = [];
    const globalRT = this.local.globalTarget(batch);
    const last = stage === this.stages - 1;
    let out: tf.Tensor | null = null, objective: tf.Scalar | null = null;
    let loss: tf.Scalar | null = null, logits: tf.Tensor | null = null;
    try {
      const b = await trainBlock(this.net, this.local, stage, input, batch, ctx, globalRT, grads);
      out = b.out;
      objective = b.objective;
      if (last) {
        ({ loss, logits } = trainClassifier(this.net, out, batch, grads));
      } else {
        // The network's output with the blocks above still untrained (no update).
        const [z, ce] = tf.tidy(() => {
          let t = out!;
          for (let i = stage + 1; i < this.stages; i++) t = this.net.forwardBlock(i, t, frozen);
          const z = this.net.classify(t);
          return [z, crossEntropy(z, batch.onehot)];
        });
        logits = z;
        loss = ce as tf.Scalar;
      }
      this.opt.step(grads);
      const lossValue = (await loss!.data())[0];
      const correct = await countCorrect(logits!, batch.labels);
      const own = await readSum([objective]);
      objective = null;
      return {
        loss: lossValue,
        correct,
        n: batch.labels.length,
        objective: own + (last ? lossValue : 0),
      };
    } finally {
      if (input !== batch.x) input.dispose();
      tf.dispose([...grads.map((g) => g[1])]);
      for (const t of [out, objective, loss, logits]) t?.dispose();
      globalRT?.dispose();
    }
  }

  dispose(): void {
    this.local.dispose();
    this.opt.dispose();
  }
}

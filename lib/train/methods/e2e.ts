/** End-to-end training: one cross-entropy loss at the output, backpropagated through every block. */
import { tf } from "../tf.ts";
import type { ForwardContext } from "../layers/layer.ts";
import { countCorrect, crossEntropy } from "../losses/cross_entropy.ts";
import type { Network } from "../network.ts";
import type { Optimizer } from "../optimizer.ts";
import { gradPairs } from "./local.ts";
import type { MethodRunner, StepResult, TrainBatch } from "./method.ts";

/** The E2E method. */
export class E2E implements MethodRunner {
  readonly stages = 1;
  readonly usesViews = false;

  constructor(readonly net: Network, readonly opt: Optimizer) {}

  async step(_stage: number, batch: TrainBatch, ctx: ForwardContext): Promise<StepResult> {
    const vars = this.net.params;
    let logits: tf.Tensor | null = null;
    const { value, grads } = tf.variableGrads(() => {
      const out = this.net.forward(batch.x, ctx);
      logits = tf.keep(out.logits);
      return crossEntropy(out.logits, batch.onehot);
    }, vars);
    try {
      this.opt.step(gradPairs(vars, grads));
      const loss = (await value.data())[0];
      const correct = await countCorrect(logits!, batch.labels);
      return { loss, correct, n: batch.labels.length, objective: loss };
    } finally {
      tf.dispose([value, ...Object.values(grads)]);
      (logits as tf.Tensor | null)?.dispose();
    }
  }

  dispose(): void {
    this.opt.dispose();
  }
}

/** End-to-end training: one cross-entropy loss at the output, backpropagated through every block. */
import { tf } from "../tf.ts";
import type { ForwardContext } from "../layers/layer.ts";
import { countCorrect, crossEntropy } from "../losses/cross_entropy.ts";
import type { Network } from "../network.ts";
import type { Adam } from "../optimizer.ts";
import { gradPairs } from "./local.ts";
import type { MethodRunner, StepResult, TrainBatch } from "./method.ts";

/** The E2E method. */
export class E2E implements MethodRunner {
  readonly stages = 1;
  readonly usesViews = false;

  constructor(readonly net: Network, readonly opt: Adam) {}

  step(_stage: number, batch: TrainBatch, ctx: ForwardContext): StepResult {
    const vars = this.net.params;
    let logits: tf.Tensor | null = null;
    const { value, grads } = tf.variableGrads(() => {
      const out = this.net.forward(batch.x, ctx);
      logits = tf.keep(out.logits);
      return crossEntropy(out.logits, batch.onehot);
    }, vars);
    const pairs = gradPairs(vars, grads);
    this.opt.step(pairs);
    tf.dispose(Object.values(grads));
    const loss = value.dataSync()[0];
    value.dispose();
    const correct = countCorrect(logits!, batch.labels);
    (logits as tf.Tensor | null)?.dispose();
    return { loss, correct, n: batch.labels.length, objective: loss };
  }

  dispose(): void {
    this.opt.dispose();
  }
}

/**
 * Simultaneous layer-wise training: one forward pass in which block l receives the detached
 * output of block l-1 and minimises its own local loss through its own head; the classifier is
 * trained on the detached last representation; all parameters step together after the pass.
 *
 * Detaching is structural: each block runs in its own gradient closure, and its input is a
 * tensor computed in the previous block's closure, which the current tape cannot see.
 */
import { tf } from "../tf.ts";
import type { ForwardContext } from "../layers/layer.ts";
import { countCorrect, crossEntropy } from "../losses/cross_entropy.ts";
import type { Network } from "../network.ts";
import type { Adam } from "../optimizer.ts";
import type { ResolvedMethod } from "../request.ts";
import { gradPairs, LocalObjectives } from "./local.ts";
import type { MethodRunner, StepResult, TrainBatch } from "./method.ts";

/** Trains block `l` on `input` (detached) in its own closure; returns its kept output. */
export function trainBlock(
  net: Network,
  local: LocalObjectives,
  l: number,
  input: tf.Tensor,
  batch: TrainBatch,
  ctx: ForwardContext,
  globalRT: tf.Tensor2D | null,
  grads: Array<[tf.Variable, tf.Tensor]>,
): { out: tf.Tensor; objective: number } {
  const vars = [...net.blocks[l].params, ...local.headParams(l)];
  if (vars.length === 0) {
    return { out: tf.tidy(() => net.forwardBlock(l, input, ctx)), objective: 0 };
  }
  const rt = local.targetFor(l, batch, input, globalRT);
  let out: tf.Tensor | null = null;
  const r = tf.variableGrads(() => {
    const y = net.forwardBlock(l, input, ctx);
    out = tf.keep(y);
    return local.loss(l, y, batch, ctx, rt);
  }, vars);
  if (rt && rt !== globalRT) rt.dispose();
  grads.push(...gradPairs(vars, r.grads));
  const objective = r.value.dataSync()[0];
  r.value.dispose();
  return { out: out!, objective };
}

/** Trains the classifier on the detached representation h; returns its loss and accuracy. */
export function trainClassifier(
  net: Network,
  h: tf.Tensor,
  batch: TrainBatch,
  grads: Array<[tf.Variable, tf.Tensor]>,
): { loss: number; correct: number } {
  const vars = net.classifier.params;
  let logits: tf.Tensor | null = null;
  const r = tf.variableGrads(() => {
    const z = net.classify(h);
    logits = tf.keep(z);
    return crossEntropy(z, batch.onehot);
  }, vars);
  grads.push(...gradPairs(vars, r.grads));
  const loss = r.value.dataSync()[0];
  r.value.dispose();
  const correct = countCorrect(logits!, batch.labels);
  (logits as tf.Tensor | null)?.dispose();
  return { loss, correct };
}

/** The layer-wise (simultaneous) method. */
export class Layerwise implements MethodRunner {
  readonly stages = 1;
  readonly usesViews: boolean;
  readonly local: LocalObjectives;

  constructor(readonly net: Network, readonly opt: Adam, method: ResolvedMethod, seed: number) {
    this.local = new LocalObjectives(net, method, seed);
    this.usesViews = method.loss === "supervised_contrastive";
  }

  step(_stage: number, batch: TrainBatch, ctx: ForwardContext): StepResult {
    const grads: Array<[tf.Variable, tf.Tensor]> = [];
    const globalRT = this.local.globalTarget(batch);
    let h = batch.x, objective = 0;
    try {
      for (let l = 0; l < this.net.blocks.length; l++) {
        const r = trainBlock(this.net, this.local, l, h, batch, ctx, globalRT, grads);
        if (h !== batch.x) h.dispose();
        h = r.out;
        objective += r.objective;
      }
      const c = trainClassifier(this.net, h, batch, grads);
      this.opt.step(grads);
      return {
        loss: c.loss,
        correct: c.correct,
        n: batch.labels.length,
        objective: objective + c.loss,
      };
    } finally {
      if (h !== batch.x) h.dispose();
      globalRT?.dispose();
      tf.dispose(grads.map((g) => g[1]));
    }
  }

  dispose(): void {
    this.local.dispose();
    this.opt.dispose();
  }
}

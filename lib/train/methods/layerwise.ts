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
import type { Optimizer } from "../optimizer.ts";
import type { ResolvedMethod } from "../request.ts";
import { gradPairs, LocalObjectives } from "./local.ts";
import type { MethodRunner, StepResult, TrainBatch } from "./method.ts";

/** Gradients collected over a step, applied together at its end. */
export type GradList = Array<[tf.Variable, tf.Tensor]>;

/**
 * Trains block `l` on `input` (detached) in its own closure. Returns the block's output (kept,
 * for the next block) and its local objective (a scalar tensor, read back later).
 */
export async function trainBlock(
  net: Network,
  local: LocalObjectives,
  l: number,
  input: tf.Tensor,
  batch: TrainBatch,
  ctx: ForwardContext,
  globalRT: tf.Tensor2D | null,
  grads: GradList,
): Promise<{ out: tf.Tensor; objective: tf.Scalar | null }> {
  const vars = [...net.blocks[l].params, ...local.headParams(l)];
  if (vars.length === 0) {
    return { out: tf.tidy(() => net.forwardBlock(l, input, ctx)), objective: null };
  }
  const rt = await local.targetFor(l, batch, input, globalRT);
  const pre = rt ? await local.precomputeInverse(l, input, ctx) : null;
  const c = pre?.replay ?? ctx;
  let out: tf.Tensor | null = null;
  try {
    const r = tf.variableGrads(() => {
      const y = net.forwardBlock(l, input, c);
      out = tf.keep(y);
      return local.loss(l, y, batch, c, rt, pre?.inverse ?? null);
    }, vars);
    grads.push(...gradPairs(vars, r.grads));
    return { out: out!, objective: r.value };
  } finally {
    if (rt && rt !== globalRT) rt.dispose();
    pre?.inverse.dispose();
  }
}

/** Trains the classifier on the detached representation h. */
export function trainClassifier(
  net: Network,
  h: tf.Tensor,
  batch: TrainBatch,
  grads: GradList,
): { loss: tf.Scalar; logits: tf.Tensor } {
  const vars = net.classifier.params;
  let logits: tf.Tensor | null = null;
  const r = tf.variableGrads(() => {
    const z = net.classify(h);
    logits = tf.keep(z);
    return crossEntropy(z, batch.onehot);
  }, vars);
  grads.push(...gradPairs(vars, r.grads));
  return { loss: r.value, logits: logits! };
}

/** Sum of the values of scalar tensors (one async read), disposing them. */
export async function readSum(scalars: Array<tf.Scalar | null>): Promise<number> {
  const live = scalars.filter((s): s is tf.Scalar => s !== null);
  if (live.length === 0) return 0;
  const total = tf.tidy(() => tf.addN(live));
  const v = (await total.data())[0];
  tf.dispose([total, ...live]);
  return v;
}

/** The layer-wise (simultaneous) method. */
export class Layerwise implements MethodRunner {
  readonly stages = 1;
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
  }

  async step(_stage: number, batch: TrainBatch, ctx: ForwardContext): Promise<StepResult> {
    const grads: GradList = [];
    const objectives: Array<tf.Scalar | null> = [];
    const globalRT = this.local.globalTarget(batch);
    let h = batch.x;
    let cls: { loss: tf.Scalar; logits: tf.Tensor } | null = null;
    try {
      for (let l = 0; l < this.net.blocks.length; l++) {
        const r = await trainBlock(this.net, this.local, l, h, batch, ctx, globalRT, grads);
        if (h !== batch.x) h.dispose();
        h = r.out;
        objectives.push(r.objective);
      }
      cls = trainClassifier(this.net, h, batch, grads);
      this.opt.step(grads);
      const loss = (await cls.loss.data())[0];
      const correct = await countCorrect(cls.logits, batch.labels);
      const objective = await readSum(objectives.splice(0));
      return { loss, correct, n: batch.labels.length, objective: objective + loss };
    } finally {
      if (h !== batch.x) h.dispose();
      globalRT?.dispose();
      tf.dispose([...grads.map((g) => g[1]), ...objectives.filter((o) => o !== null)]);
      if (cls) tf.dispose([cls.loss, cls.logits]);
    }
  }

  dispose(): void {
    this.local.dispose();
    this.opt.dispose();
  }
}

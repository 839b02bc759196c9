/**
 * Local objectives of layer-wise and sequential training: every block gets an auxiliary head
 * and a local loss on its own output, optionally minus lambda * nHSIC(target; F_l), where F_l is
 * the block's output T_l (`nhsic_on: "block"`, the default) or its head's output, the tensor the
 * local loss itself is computed on (`nhsic_on: "head"`, as the authors' code passes it to its
 * criterion).
 */
import { tf } from "../tf.ts";
import { Head, type HeadKind } from "../heads.ts";
import type { Network } from "../network.ts";
import { ParamStore } from "../layers/layer.ts";
import type { ForwardContext } from "../layers/layer.ts";
import { crossEntropy } from "../losses/cross_entropy.ts";
import { nhsicAgainst, regulariserKernel, targetOperatorT } from "../losses/nhsic.ts";
import { inverse64 } from "../ops/spd_inverse.ts";
import { syncReads } from "../tf.ts";
import { similarityLoss } from "../losses/similarity.ts";
import { SUPCON_PROJECTION_DIM, supConLoss } from "../losses/supcon.ts";
import type { TrainBatch } from "./method.ts";
import type { ResolvedMethod } from "../request.ts";

/** Smallest batch on which the nHSIC regulariser is evaluated. */
const NHSIC_MIN_BATCH = 4;

/** Heads and losses of every block of a network under one method's settings. */
export class LocalObjectives {
  readonly heads: Array<Head | null>;
  readonly #store: ParamStore;
  readonly #loss: NonNullable<ResolvedMethod["loss"]>;
  readonly #lambda: number;
  readonly #target: "global" | "local";
  readonly #on: "block" | "head";

  constructor(readonly net: Network, method: ResolvedMethod, seed: number) {
    this.#store = new ParamStore(seed);
    this.#loss = method.loss ?? "cross_entropy";
    this.#lambda = method.nhsic_lambda ?? 0;
    this.#target = method.nhsic_target ?? "global";
    this.#on = method.nhsic_on ?? "block";
    const kind: HeadKind = method.head ?? "linear";
    const c = net.plan.numClasses;
    this.heads = net.blocks.map((b) => {
      // Similarity matching compares the block's own features: no head.
      if (this.#loss === "similarity") return null;
      const out = this.#loss === "supervised_contrastive" ? SUPCON_PROJECTION_DIM : c;
      return new Head(this.#store, `heads/${kind}/${b.name}`, kind, b.outShape, out);
    });
  }

  /** Trainable parameters of block l's head. */
  headParams(l: number): tf.Variable[] {
    return this.heads[l]?.params ?? [];
  }

  /** Whether the nHSIC regulariser is active for a batch of n rows. */
  regularised(n: number): boolean {
    return this.#lambda > 0 && n >= NHSIC_MIN_BATCH;
  }

  /**
   * The constant R^T of the regulariser's target for block l (computed outside the gradient
   * closure, in float64): the batch input X ("global"), or the block's detached input ("local").
   */
  async targetFor(
    l: number,
    batch: TrainBatch,
    input: tf.Tensor,
    global: tf.Tensor2D | null,
  ): Promise<tf.Tensor2D | null> {
    if (!this.regularised(batch.labels.length)) return null;
    if (this.#target === "global" || l === 0) {
      return global ?? this.globalTarget(batch);
    }
    const n = input.shape[0];
    return targetOperatorT(await input.data() as Float32Array, n, input.size / n);
  }

  /**
   * Where the backend cannot read synchronously (the regulariser's inverse is computed in float64
   * from the kernel's values inside the forward pass), a first pass computes block l's kernel
   * matrix and its inverse; the returned context replays that pass's dropout seeds so that the
   * differentiated pass builds the very same matrix. Null where no such pass is needed.
   */
  async precomputeInverse(
    l: number,
    input: tf.Tensor,
    ctx: ForwardContext,
  ): Promise<{ inverse: tf.Tensor2D; replay: ForwardContext } | null> {
    if (syncReads() || !this.regularised(input.shape[0])) return null;
    const seeds: number[] = [];
    const record: ForwardContext = {
      training: ctx.training,
      updateStats: false,
      nextSeed: () => {
        const s = ctx.nextSeed();
        seeds.push(s);
        return s;
      },
    };
    const s = tf.tidy(() => {
      const out = this.net.forwardBlock(l, input, record);
      return regulariserKernel(this.#on === "head" ? this.heads[l]!.apply(out, record) : out);
    });
    const m = s.shape[0];
    const values = await s.data() as Float32Array;
    s.dispose();
    let i = 0;
    return {
      inverse: tf.tensor2d(inverse64(values, m), [m, m]),
      replay: { training: ctx.training, nextSeed: () => seeds[i++] },
    };
  }

  /** R_X^T of the batch input, shared by all blocks under the "global" target. */
  globalTarget(batch: TrainBatch): tf.Tensor2D | null {
    if (!this.regularised(batch.labels.length)) return null;
    const n = batch.labels.length;
    return targetOperatorT(batch.xData, n, batch.xData.length / n);
  }

  /** Local loss of block l given its output (inside the gradient closure). */
  loss(
    l: number,
    out: tf.Tensor,
    batch: TrainBatch,
    ctx: ForwardContext,
    targetRT: tf.Tensor2D | null,
    inverse: tf.Tensor2D | null = null,
  ): tf.Scalar {
    let loss: tf.Scalar;
    // What the regulariser measures: the block's output, or the head's (see the module doc).
    let features = out;
    switch (this.#loss) {
      case "cross_entropy": {
        const z = this.heads[l]!.apply(out, ctx);
        loss = crossEntropy(z, batch.onehot);
        if (this.#on === "head") features = z;
        break;
      }
      case "similarity":
        loss = similarityLoss(out, batch.onehot);
        break;
      case "supervised_contrastive": {
        const z = this.heads[l]!.apply(out, ctx);
        loss = supConLoss(z as tf.Tensor2D, batch.labels);
        if (this.#on === "head") features = z;
        break;
      }
    }
    if (targetRT) {
      loss = tf.sub(loss, tf.mul(nhsicAgainst(targetRT, features, inverse), this.#lambda));
    }
    return loss;
  }

  /** Frees the heads' parameters. */
  dispose(): void {
    this.#store.dispose();
  }
}

/** Flattened per-variable gradients of a tf.variableGrads result, in `vars` order. */
export function gradPairs(
  vars: tf.Variable[],
  grads: tf.NamedTensorMap,
): Array<[tf.Variable, tf.Tensor]> {
  const out: Array<[tf.Variable, tf.Tensor]> = [];
  for (const v of vars) {
    const g = grads[v.name];
    if (g) out.push([v, g]);
  }
  return out;
}

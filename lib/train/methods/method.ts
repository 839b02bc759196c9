/** What the training loop hands a method each step, and what a method reports back. */
import type { tf } from "../tf.ts";
import type { ForwardContext } from "../layers/layer.ts";

/** One mini-batch as the method consumes it. */
export interface TrainBatch {
  /** Inputs [n, ...shape]; for contrastive methods the two views stacked ([2n, ...shape]). */
  x: tf.Tensor;
  /** One-hot labels matching x's rows. */
  onehot: tf.Tensor2D;
  /** Class indices matching x's rows. */
  labels: Int32Array;
  /** x's values, row-major (the global target of the nHSIC regulariser). */
  xData: Float32Array;
}

/** What one optimisation step reports. */
export interface StepResult {
  /** Cross-entropy of the network's output classifier on the batch. */
  loss: number;
  /** Rows of the batch the output classifier gets right. */
  correct: number;
  /** Rows the two numbers above are over. */
  n: number;
  /** The method's own objective on the batch. */
  objective: number;
}

/** A training method bound to a network. */
export interface MethodRunner {
  /** Training stages run one after another (sequential: one per block; else 1). */
  readonly stages: number;
  /** Whether batches carry two augmented views (supervised contrastive loss). */
  readonly usesViews: boolean;
  /** One optimisation step of `stage` on a batch (reads back its numbers asynchronously). */
  step(stage: number, batch: TrainBatch, ctx: ForwardContext): Promise<StepResult>;
  /** Frees heads and optimiser state (the network is freed by its owner). */
  dispose(): void;
}

/**
 * Probing the live network during training: experiments that need a layer's activations
 * themselves (the soft nearest-neighbour loss, the toy's dependence on chosen input features)
 * train through lib/train's `runTrainingOn` with its checkpoint hook and read activations here.
 *
 * @module
 */
import type { Dataset } from "../data/mod.ts";
import type { BackendChoice } from "../train/mod.ts";
import { sampleSize } from "../train/mod.ts";
import type { ForwardContext } from "../train/mod.ts";
import type { CheckpointHook } from "../train/mod.ts";
import type { Network } from "../train/mod.ts";
import { runTrainingOn } from "../train/mod.ts";
import { tf } from "../train/mod.ts";
import type { RunOptions, TrainingJob, TrainingResult } from "../train/mod.ts";

export type { CheckpointHook };

/** The eval-mode forward context (no dropout, batch norm on running statistics). */
export const EVAL_CONTEXT: ForwardContext = { training: false, nextSeed: () => 0 };

/**
 * Activations of every tracked layer (each block, then the logits) on rows [0, n) of a split,
 * evaluated in batches of 256: one row-major Float32Array (n x width) per layer.
 */
export async function probeActivations(
  net: Network,
  x: Float32Array,
  shape: number[],
  n: number,
): Promise<Array<{ name: string; cols: number; data: Float32Array }>> {
  const d = sampleSize(shape);
  const names = net.trackedNames;
  const store: Float32Array[] = [];
  const widths: number[] = [];
  for (let s = 0; s < n; s += 256) {
    const e = Math.min(n, s + 256), rows = e - s;
    const outs = tf.tidy(() => {
      const r = net.forward(tf.tensor(x.subarray(s * d, e * d), [rows, ...shape]), EVAL_CONTEXT);
      return [...r.outputs, r.logits];
    });
    for (let li = 0; li < outs.length; li++) {
      const w = outs[li].size / rows;
      if (!store[li]) {
        store[li] = new Float32Array(n * w);
        widths[li] = w;
      }
      store[li].set(await outs[li].data() as Float32Array, s * w);
    }
    tf.dispose(outs);
  }
  return names.map((name, li) => ({ name, cols: widths[li], data: store[li] }));
}

/** lib/train's `runTrainingOn` with a hook after every tracking point. */
export function runTrainingProbed(
  job: TrainingJob,
  dataset: Dataset,
  opts: Omit<RunOptions, "dataDir">,
  onCheckpoint?: CheckpointHook,
  backend?: BackendChoice,
): Promise<TrainingResult> {
  return runTrainingOn(job, dataset, opts, backend, onCheckpoint);
}

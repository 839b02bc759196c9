/**
 * The training loop of one method: seeded batches, optimisation steps, tracking points and
 * events, cancellation within one step.
 */
import { tf } from "./tf.ts";
import type { Dataset } from "../data/mod.ts";
import type { Linalg } from "../linalg/mod.ts";
import {
  augmentedView,
  type Batch,
  batchRanges,
  batchTensors,
  epochOrder,
  gatherBatch,
  randomHflip,
  sampleSize,
  usesHflip,
} from "./data.ts";
import type { ForwardContext } from "./layers/layer.ts";
import { countCorrect, crossEntropy } from "./losses/cross_entropy.ts";
import { E2E } from "./methods/e2e.ts";
import { Layerwise } from "./methods/layerwise.ts";
import type { MethodRunner, StepResult, TrainBatch } from "./methods/method.ts";
import { Sequential } from "./methods/sequential.ts";
import type { ModelPlan } from "./model_def.ts";
import { Network } from "./network.ts";
import { createOptimizer } from "./optimizer.ts";
import { stream } from "./random.ts";
import type { ResolvedMethod } from "./request.ts";
import { checkpointSteps, Tracker } from "./tracking.ts";
import { makeYielder } from "./yielder.ts";
import { applyNativeThreads, type BackendChoice } from "./backend.ts";
import type { CurvePoint, MethodResult, TrainingEvent, TrainingJob } from "./types.ts";

/** Emit a step event every this many steps (and at the last step). */
export const STEP_EVENT_EVERY = 20;

/** Called after each tracking point with the live network at `step` (it must not dispose it). */
export type CheckpointHook = (
  net: Network,
  step: number,
  method: ResolvedMethod,
) => Promise<void> | void;

/** Everything one method's training needs. */
export interface MethodRun {
  job: TrainingJob;
  dataset: Dataset;
  plan: ModelPlan;
  method: ResolvedMethod;
  backend: BackendChoice;
  linalg: Linalg;
  signal?: AbortSignal;
  onEvent?: (e: TrainingEvent) => void;
  /** Sees the network after every tracking point (experiments probe activations there). */
  onCheckpoint?: CheckpointHook;
  /** Called after every optimisation step (tests: memory checks). */
  onStep?: (step: number, result: StepResult) => void;
}

/** The error a cancelled job ends with: an Error named "AbortError". */
export function abortError(signal?: AbortSignal): Error {
  const reason = signal?.reason;
  if (reason instanceof Error && reason.name === "AbortError") return reason;
  const e = new Error(reason instanceof Error ? reason.message : "training was cancelled");
  e.name = "AbortError";
  return e;
}

/**
 * Builds the runner of a method on a network, with the Adam of the active backend (FusedAdam on
 * "native", see lib/train/optimizer.ts).
 */
export function createRunner(method: ResolvedMethod, net: Network, job: TrainingJob): MethodRunner {
  const opt = createOptimizer({ lr: job.optimizer.lr, weightDecay: job.optimizer.weight_decay });
  switch (method.name) {
    case "e2e":
      return new E2E(net, opt);
    case "layerwise":
      return new Layerwise(net, opt, method, job.seed);
    case "sequential":
      return new Sequential(net, opt, method, job.seed);
  }
}

/** Cross-entropy and correct count of the network's output on a batch (evaluation mode). */
async function evaluateBatch(
  net: Network,
  batch: Batch,
  ds: Dataset,
): Promise<{ loss: number; correct: number }> {
  const ctx: ForwardContext = { training: false, nextSeed: () => 0 };
  const { x, onehot } = batchTensors(batch.x, batch.labels, ds.shape, ds.numClasses);
  const [logits, ce] = tf.tidy(() => {
    const z = net.forward(x, ctx).logits;
    return [z, crossEntropy(z, onehot)];
  });
  const loss = (await ce.data())[0];
  const correct = await countCorrect(logits, batch.labels);
  tf.dispose([x, onehot, logits, ce]);
  return { loss, correct };
}

/** Trains one method from the job's seeded initial weights and tracks it. */
export async function trainMethod(run: MethodRun): Promise<MethodResult> {
  const t0 = performance.now();
  const { job, dataset: ds, method, signal, onEvent } = run;
  const label = method.label;
  const check = () => {
    if (signal?.aborted) throw abortError(signal);
  };
  check();
  const net = new Network(run.plan, job.seed);
  let runner: MethodRunner | null = null;
  try {
    runner = createRunner(method, net, job);
    const tracker = new Tracker(net, ds, job.tracking, run.linalg, signal);
    const d = sampleSize(ds.shape);
    const bs = job.optimizer.batch_size;
    const ranges = batchRanges(ds.train.n, bs);
    const perEpoch = ranges.length;
    const epochs = job.optimizer.epochs;
    const totalEpochs = runner.stages * epochs;
    const totalSteps = perEpoch * totalEpochs;
    const cps = new Set(checkpointSteps(perEpoch, totalEpochs, job.tracking.first_epoch_points));
    const hflip = usesHflip(ds);
    const dropoutRng = stream(job.seed, "dropout");
    const ctx: ForwardContext = {
      training: true,
      nextSeed: () => Math.floor(dropoutRng() * 2147483647),
    };
    const curves: CurvePoint[] = [];
    const yieldNow = makeYielder();
    onEvent?.({
      type: "started",
      method: label,
      backend: run.backend.name,
      device: run.backend.device,
      total_steps: totalSteps,
      epochs: totalEpochs,
    });

    const record = async (
      step: number,
      train: { loss: number; accuracy: number; objective?: number },
    ) => {
      const m = await tracker.measure(step, step / perEpoch, train);
      curves.push(m.point);
      onEvent?.({
        type: "checkpoint",
        method: label,
        epoch: m.point.epoch,
        step,
        train_loss: m.point.train_loss,
        train_accuracy: m.point.train_accuracy,
        test_accuracy: m.point.test_accuracy,
        layers: m.layers,
      });
      await run.onCheckpoint?.(net, step, method);
    };

    // Step 0: the initial network, its loss and accuracy on the first batch of epoch 0.
    {
      const order = epochOrder(ds.train.n, job.seed, 0);
      const [s, e] = ranges[0];
      const first = await evaluateBatch(net, gatherBatch(ds.train, d, order, s, e), ds);
      await record(0, { loss: first.loss, accuracy: first.correct / (e - s) });
    }

    let step = 0;
    for (let stage = 0; stage < runner.stages; stage++) {
      for (let epoch = 0; epoch < epochs; epoch++) {
        const order = epochOrder(ds.train.n, job.seed, epoch);
        const augRng = stream(job.seed, `augment/${epoch}`);
        const viewRng = stream(job.seed, `views/${epoch}`);
        let lossSum = 0, objSum = 0, correct = 0, seen = 0, steps = 0;
        for (const [s, e] of ranges) {
          check();
          // OpenBLAS's thread count is process-wide: re-assert the training policy (a no-op
          // unless on "native" with <= 2 cores; see lib/linalg/threads.ts).
          applyNativeThreads();
          const batch = gatherBatch(ds.train, d, order, s, e);
          if (hflip) randomHflip(batch.x, batch.n, ds.shape, augRng);
          let xData = batch.x, labels = batch.labels;
          if (runner.usesViews) {
            const v1 = augmentedView(batch, ds.shape, hflip, viewRng);
            const v2 = augmentedView(batch, ds.shape, hflip, viewRng);
            xData = new Float32Array(v1.length * 2);
            xData.set(v1);
            xData.set(v2, v1.length);
            labels = new Int32Array(batch.n * 2);
            labels.set(batch.labels);
            labels.set(batch.labels, batch.n);
          }
          const { x, onehot } = batchTensors(xData, labels, ds.shape, ds.numClasses);
          const tb: TrainBatch = { x, onehot, labels, xData };
          let r: StepResult;
          try {
            r = await runner.step(stage, tb, ctx);
          } finally {
            tf.dispose([x, onehot]);
          }
          step++;
          steps++;
          lossSum += r.loss * r.n;
          correct += r.correct;
          seen += r.n;
          objSum += r.objective;
          run.onStep?.(step, r);
          if (!Number.isFinite(r.loss) || !Number.isFinite(r.objective)) {
            throw new Error(
              `${label}: the loss became ${r.loss} (objective ${r.objective}) at step ${step}; ` +
                "lower the learning rate",
            );
          }
          const train = {
            loss: lossSum / seen,
            accuracy: correct / seen,
            objective: objSum / steps,
          };
          if (step % STEP_EVENT_EVERY === 0 || step === totalSteps) {
            onEvent?.({
              type: "step",
              method: label,
              epoch: step / perEpoch,
              step,
              loss: train.loss,
              objective: train.objective,
            });
          }
          if (cps.has(step)) await record(step, train);
          await yieldNow();
        }
      }
    }
    const finalAccuracy = curves[curves.length - 1].test_accuracy;
    onEvent?.({ type: "method_done", method: label, test_accuracy: finalAccuracy });
    return {
      method,
      curves,
      analysis: tracker.analysis(),
      final_test_accuracy: finalAccuracy,
      seconds: (performance.now() - t0) / 1000,
    };
  } catch (e) {
    if (signal?.aborted) throw abortError(signal);
    throw e;
  } finally {
    runner?.dispose();
    net.dispose();
  }
}

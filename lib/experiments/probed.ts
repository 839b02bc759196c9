/**
 * Training with a probe hook: the same job, data order, steps and tracking as
 * lib/train/run.ts (`runTrainingOn`), plus a callback that sees the live network right after
 * every tracking point. Experiments that need a layer's activations themselves (the soft
 * nearest-neighbour loss, the toy's dependence on chosen input features) use it.
 *
 * Why a copy: lib/train's loop (trainMethod) exposes no hook with the network, and it belongs to
 * another owner. This file repeats trainMethod's loop with one added line (`onCheckpoint`);
 * tests/experiments_test.ts checks that, without a hook, it returns exactly what runTrainingOn
 * returns. A `MethodRun.onCheckpoint` in lib/train/loop.ts would make it redundant.
 *
 * @module
 */
import type { Dataset } from "../data/dataset.ts";
import { MIN_SAMPLES } from "../dump/assemble.ts";
import { InputError } from "../errors.ts";
import { getLinalg } from "../linalg/mod.ts";
import { applyNativeThreads, type BackendChoice, selectBackend } from "../train/backend.ts";
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
} from "../train/data.ts";
import type { ForwardContext } from "../train/layers/layer.ts";
import { countCorrect, crossEntropy } from "../train/losses/cross_entropy.ts";
import { abortError, createRunner, STEP_EVENT_EVERY } from "../train/loop.ts";
import type { MethodRunner, StepResult, TrainBatch } from "../train/methods/method.ts";
import { Network } from "../train/network.ts";
import { stream } from "../train/random.ts";
import { checkJobAgainstInput, type ResolvedMethod } from "../train/request.ts";
import { tf } from "../train/tf.ts";
import { checkpointSteps, Tracker } from "../train/tracking.ts";
import type { ModelPlan } from "../train/model_def.ts";
import type { Linalg } from "../linalg/types.ts";
import type {
  CurvePoint,
  MethodResult,
  RunOptions,
  TrainingEvent,
  TrainingJob,
  TrainingResult,
} from "../train/types.ts";

/** Called after each tracking point with the network as it is at `step` (do not dispose it). */
export type CheckpointHook = (
  net: Network,
  step: number,
  method: ResolvedMethod,
) => Promise<void> | void;

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

/**
 * {@link runTrainingOn} of lib/train/run.ts with a hook after every tracking point.
 *
 * @throws as runTrainingOn.
 */
export async function runTrainingProbed(
  job: TrainingJob,
  dataset: Dataset,
  opts: Omit<RunOptions, "dataDir">,
  onCheckpoint?: CheckpointHook,
  backend?: BackendChoice,
): Promise<TrainingResult> {
  const t0 = performance.now();
  const chosen = backend ?? await selectBackend(job.backend);
  const plan = checkJobAgainstInput(job, dataset.shape, dataset.numClasses);
  if (dataset.test.n < MIN_SAMPLES) {
    throw new InputError(
      "too-few-samples",
      `the test split has ${dataset.test.n} samples; tracking needs at least ${MIN_SAMPLES}`,
      "dataset.test_limit",
    );
  }
  if (dataset.train.n < 2) {
    throw new InputError(
      "too-few-samples",
      `the training split has ${dataset.train.n} samples; training needs at least 2`,
      "dataset.train_limit",
    );
  }
  const linalg = getLinalg();
  const methods: MethodResult[] = [];
  for (const m of job.methods) {
    const method = (m.label ? m : { ...m, label: m.name }) as ResolvedMethod;
    methods.push(
      await trainProbed(
        { job, dataset, plan, method, linalg, backend: chosen, ...opts },
        onCheckpoint,
      ),
    );
  }
  return {
    backend: chosen,
    dataset: {
      name: dataset.name,
      train: dataset.train.n,
      test: dataset.test.n,
      shape: [...dataset.shape],
      num_classes: dataset.numClasses,
    },
    model: job.model,
    optimizer: { ...job.optimizer },
    tracking: { ...job.tracking },
    seed: job.seed,
    methods,
    seconds: (performance.now() - t0) / 1000,
  };
}

interface ProbedRun {
  job: TrainingJob;
  dataset: Dataset;
  plan: ModelPlan;
  method: ResolvedMethod;
  backend: BackendChoice;
  linalg: Linalg;
  signal?: AbortSignal;
  onEvent?: (e: TrainingEvent) => void;
}

/** Lets timers and messages (an abort) run, at most every 100 ms (as lib/train/yielder.ts). */
function makeYielder(): () => Promise<void> {
  let last = performance.now();
  return async () => {
    const now = performance.now();
    if (now - last < 100) return;
    last = now;
    await new Promise((r) => setTimeout(r, 0));
    last = performance.now();
  };
}

async function evaluateBatch(
  net: Network,
  batch: Batch,
  ds: Dataset,
): Promise<{ loss: number; correct: number }> {
  const { x, onehot } = batchTensors(batch.x, batch.labels, ds.shape, ds.numClasses);
  const [logits, ce] = tf.tidy(() => {
    const z = net.forward(x, EVAL_CONTEXT).logits;
    return [z, crossEntropy(z, onehot)];
  });
  const loss = (await ce.data())[0];
  const correct = await countCorrect(logits, batch.labels);
  tf.dispose([x, onehot, logits, ce]);
  return { loss, correct };
}

/** lib/train/loop.ts trainMethod, plus `onCheckpoint` after each tracking point. */
async function trainProbed(run: ProbedRun, onCheckpoint?: CheckpointHook): Promise<MethodResult> {
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
    const ranges = batchRanges(ds.train.n, job.optimizer.batch_size);
    const perEpoch = ranges.length;
    const epochs = job.optimizer.epochs;
    const totalSteps = perEpoch * runner.stages * epochs;
    const cps = new Set(
      checkpointSteps(perEpoch, runner.stages * epochs, job.tracking.first_epoch_points),
    );
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
      await onCheckpoint?.(net, step, method);
    };
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

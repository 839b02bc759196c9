/**
 * Training on tfjs: models defined as JSON block lists (presets expanded), the methods the paper
 * compares (end-to-end, layer-wise with local heads and losses, sequential), the training loop
 * with nHSIC tracking at checkpoints, and the compute backends (tfjs-node-gpu where installed,
 * WebGPU, the OpenBLAS-backed "native" backend with C kernels, wasm, cpu). docs/training.md.
 *
 * - Requests: {@linkcode TrainingRequestSchema} and {@linkcode resolveTrainingRequest} (a request
 *   body into a {@linkcode TrainingJob} with defaults filled in), {@linkcode trainingFromForm}
 *   for multipart uploads;
 * - running: {@linkcode runTrainingOn} (a job on a dataset: every method, curves and analyses),
 *   {@linkcode trainMethod} (one method), {@linkcode selectBackend};
 * - building blocks the benchmarks and experiments use: {@linkcode Network}, {@linkcode Dense},
 *   {@linkcode Conv2d}, {@linkcode Adam}, batching helpers, and {@linkcode tf} (the tfjs instance
 *   every module shares, with the stock gradients registered).
 *
 * Importing this module loads tfjs. The job layer runs trainings in a Web Worker through
 * `run.ts`'s `runTraining` (loaded by URL), never on the HTTP event loop.
 *
 * @example Usage
 * ```ts ignore
 * import { resolveTrainingRequest, runTrainingOn, selectBackend } from "./mod.ts";
 * import { loadDataset } from "../data/mod.ts";
 * const job = resolveTrainingRequest({ model: { preset: "mlp", depth: 3 }, methods: [{ name: "e2e" }] });
 * const dataset = await loadDataset(job.dataset, { dataDir: "data" });
 * const result = await runTrainingOn(job, dataset, {}, await selectBackend("auto"));
 * console.log(result.methods[0].final_test_accuracy);
 * ```
 *
 * @module
 */
export { applyNativeThreads, quietHeadlessVulkan, selectBackend } from "./backend.ts";
export type { BackendChoice } from "./backend.ts";
export { batchRanges, batchTensors, epochOrder, gatherBatch, sampleSize } from "./data.ts";
export { Conv2d } from "./layers/conv2d.ts";
export { Dense } from "./layers/dense.ts";
export type { ForwardContext } from "./layers/layer.ts";
export { createRunner, trainMethod } from "./loop.ts";
export type { CheckpointHook } from "./loop.ts";
export { ModelDefSchema } from "./model_def.ts";
export { LOGITS, Network } from "./network.ts";
export { Adam } from "./optimizer.ts";
export { checkJobAgainstInput, resolveTrainingRequest, TrainingRequestSchema } from "./request.ts";
export type { ResolvedMethod, TrainingRequest } from "./request.ts";
export { runTrainingOn } from "./run.ts";
export { tf } from "./tf.ts";
export type {
  BackendName,
  CurvePoint,
  DatasetSpec,
  MethodResult,
  MethodSpec,
  RunOptions,
  TrainingEvent,
  TrainingJob,
  TrainingResult,
} from "./types.ts";
export { rejectServerPaths, trainingFromForm } from "./upload_request.ts";

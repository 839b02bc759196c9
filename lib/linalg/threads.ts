/**
 * Who sets OpenBLAS's thread count, and to what. The count is process-wide: every Web Worker
 * (analysis pool, training jobs) shares the one library, so the last `setThreads` wins for all.
 *
 * Policy (docs/performance.md, "Threads"):
 *
 * - `OPENBLAS_NUM_THREADS` set by the user (to a positive integer): nobody in infoplane changes
 *   the count; OpenBLAS started with it.
 * - Analysis tasks: cores / pool workers per task (set when each task starts).
 * - Training on the "native" backend: one thread on machines with at most 2 cores, re-asserted
 *   every optimisation step (so an analysis task that started meanwhile runs with one thread
 *   too while the training runs, instead of oversubscribing the two cores); on larger machines
 *   the count is left as it is. A training step's sgemms are small (batch 128): a second thread
 *   gains little when idle and loses a lot as soon as another process wants the core.
 *
 * @module
 */

import { processEnvGet } from "./cpu_features.ts";

/** The environment variable `name` when set to a positive integer, else null. */
function positiveIntEnv(name: string): number | null {
  let raw: string | undefined;
  try {
    raw = processEnvGet(name);
  } catch {
    return null;
  }
  const n = Number(raw?.trim());
  return raw !== undefined && raw.trim() !== "" && Number.isInteger(n) && n > 0 ? n : null;
}

/** OPENBLAS_NUM_THREADS when set to a positive integer, else null. */
export function userOpenBlasThreads(): number | null {
  return positiveIntEnv("OPENBLAS_NUM_THREADS");
}

/** Logical cores of this machine (navigator.hardwareConcurrency, at least 1). */
export function cores(): number {
  return Math.max(1, navigator.hardwareConcurrency ?? 1);
}

/**
 * OpenBLAS threads for training on the native backend, or null to leave the count alone
 * (OPENBLAS_NUM_THREADS set, or more than 2 cores).
 */
export function trainingThreads(coreCount = cores()): number | null {
  if (userOpenBlasThreads() !== null) return null;
  return coreCount <= 2 ? 1 : null;
}

/**
 * OpenBLAS threads for one analysis task of a pool of `workers` Workers (cores / workers), or
 * null when the user set OPENBLAS_NUM_THREADS.
 */
export function analysisThreads(workers: number, coreCount = cores()): number | null {
  if (userOpenBlasThreads() !== null) return null;
  return Math.max(1, Math.floor(coreCount / Math.max(1, workers)));
}

/**
 * Threads for the native backend's C kernels (lib/native/ckernels.ts), which run chunks of a
 * convolution's images on separate cores, each calling OpenBLAS: INFOPLANE_KERNEL_THREADS when
 * set to a positive integer, else the cores (at most 8: a batch of 128 images is 40-70 chunks).
 * One while OpenBLAS itself runs more than one thread (`blasThreads`): its threaded sgemm is
 * not meant to be entered from several threads at once, and the cores are taken anyway.
 */
export function kernelThreads(blasThreads: number, coreCount = cores()): number {
  if (blasThreads > 1) return 1;
  return positiveIntEnv("INFOPLANE_KERNEL_THREADS") ?? Math.min(8, coreCount);
}

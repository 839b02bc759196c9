/**
 * Settings of the training engines, read from the environment (kept apart from lib/settings.ts
 * until they move there). Documented in README ("Configuration") and deploy/README.md.
 */

/** Everything the training engines can be configured with. */
export interface TrainingConfig {
  /** INFOPLANE_REDIS_URL: when set, jobs go through BullMQ on this Redis (scale-out mode). */
  redisUrl: string | null;
  /** INFOPLANE_REDIS_PREFIX: prefix of every Redis key (default "infoplane"). */
  redisPrefix: string;
  /** INFOPLANE_TRAINING_CONCURRENCY: jobs run at once per process (default 1). */
  concurrency: number;
  /** INFOPLANE_TRAINING_ATTEMPTS: starts before an interrupted job fails (default 2). */
  attempts: number;
  /** INFOPLANE_TRAINING_LOCK_MS: BullMQ job lock; a dead worker's job is retried after it. */
  lockMs: number;
  /** INFOPLANE_TRAINING_STALLED_MS: interval of BullMQ's stalled-job check. */
  stalledMs: number;
  /** INFOPLANE_TRAINING_MAX_EVENTS: events logged per job before step events are dropped. */
  maxEvents: number;
  /** INFOPLANE_TRAINING_CANCEL_GRACE_MS: time a cancelled job gets before its worker is killed. */
  cancelGraceMs: number;
  /** INFOPLANE_SSE_KEEPALIVE_MS: interval of keep-alive comments on event streams. */
  keepAliveMs: number;
  /**
   * INFOPLANE_TRAINING_RUNNER: URL of the module exporting `runTraining` (default
   * lib/train/run.ts). Meant for tests, which substitute a fast stand-in.
   */
  runnerModule: string;
}

function int(env: (k: string) => string | undefined, key: string, fallback: number, min = 1) {
  const raw = env(key)?.trim();
  if (!raw) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) {
    throw new Error(`${key} must be an integer >= ${min}, got "${raw}"`);
  }
  return v;
}

/**
 * The default runner module: runs experiment-suite jobs itself and hands every other job to
 * lib/train/run.ts.
 */
export const DEFAULT_RUNNER = new URL("../lib/experiments/job.ts", import.meta.url).href;

/** Reads {@link TrainingConfig} from an environment lookup (Deno.env.get by default). */
export function loadTrainingConfig(
  env: (k: string) => string | undefined = (k) => Deno.env.get(k),
): TrainingConfig {
  const runner = env("INFOPLANE_TRAINING_RUNNER")?.trim();
  return {
    redisUrl: env("INFOPLANE_REDIS_URL")?.trim() || null,
    redisPrefix: env("INFOPLANE_REDIS_PREFIX")?.trim() || "infoplane",
    concurrency: int(env, "INFOPLANE_TRAINING_CONCURRENCY", 1),
    attempts: int(env, "INFOPLANE_TRAINING_ATTEMPTS", 2),
    lockMs: int(env, "INFOPLANE_TRAINING_LOCK_MS", 30_000, 100),
    stalledMs: int(env, "INFOPLANE_TRAINING_STALLED_MS", 30_000, 100),
    maxEvents: int(env, "INFOPLANE_TRAINING_MAX_EVENTS", 5000, 10),
    cancelGraceMs: int(env, "INFOPLANE_TRAINING_CANCEL_GRACE_MS", 10_000, 0),
    keepAliveMs: int(env, "INFOPLANE_SSE_KEEPALIVE_MS", 15_000, 10),
    runnerModule: runner ? new URL(runner, `file://${Deno.cwd()}/`).href : DEFAULT_RUNNER,
  };
}

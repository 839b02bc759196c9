/**
 * infoplane service entry point. `deno task start` runs it on embedded defaults: Deno KV under
 * ./data, compute in Web Workers, port 8000. With INFOPLANE_REDIS_URL set, training jobs go to
 * BullMQ on Redis for `deno task worker` processes instead of running here.
 */
import { getLinalg } from "./lib/linalg/mod.ts";
import { loadSettings, type Settings } from "./lib/settings.ts";
import { createApp } from "./routes/app.ts";
import { AnalysisJobs } from "./workers/analysis_jobs.ts";
import { KvQueue } from "./workers/queue.ts";
import { loadTrainingConfig, type TrainingConfig } from "./workers/training_config.ts";
import { EmbeddedTrainingEngine } from "./workers/training_embedded.ts";
import { DEFAULT_LIMITS } from "./workers/training_recorder.ts";
import { RedisTrainingEngine } from "./workers/training_redis.ts";
import { workerRunner } from "./workers/training_runner.ts";
import type { TrainingEngine, TrainingRunner } from "./workers/training_types.ts";

/** Version reported by /v1/health and the OpenAPI document. */
export const VERSION = "0.1.0";

/** A running service. */
export interface Service {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Training options of {@link startService} (tests substitute a config and a runner). */
export interface ServiceOptions {
  /** Default: read from the environment. */
  training?: TrainingConfig;
  /** Default: lib/train/run.ts (or INFOPLANE_TRAINING_RUNNER), one Web Worker per job. */
  runner?: TrainingRunner;
}

/** Opens storage, starts the workers and the HTTP server. Port 0 picks a free port. */
export async function startService(
  settings: Settings = loadSettings(),
  options: ServiceOptions = {},
): Promise<Service> {
  const training = options.training ?? loadTrainingConfig();
  await Deno.mkdir(settings.dataDir, { recursive: true });
  const kv = await Deno.openKv(`${settings.dataDir}/infoplane.kv.sqlite`);
  // One KV queue listener for the process, shared by the engines (Deno allows one per handle).
  const queue = new KvQueue(kv);
  const analyses = new AnalysisJobs(
    kv,
    settings.dataDir,
    settings.workers,
    settings.syncWorkLimit,
    queue,
  );
  await analyses.start();
  let trainings: TrainingEngine;
  if (training.redisUrl) {
    const engine = new RedisTrainingEngine(training, settings.dataDir);
    await engine.start();
    trainings = engine;
  } else {
    const engine = new EmbeddedTrainingEngine(kv, queue, {
      dataDir: settings.dataDir,
      concurrency: training.concurrency,
      attempts: training.attempts,
      limits: { ...DEFAULT_LIMITS, maxEvents: training.maxEvents },
      runner: options.runner ??
        workerRunner(training.runnerModule, { graceMs: training.cancelGraceMs }),
    });
    await engine.start();
    trainings = engine;
  }
  queue.listen();
  const app = createApp({
    settings,
    analyses,
    trainings,
    sseKeepAliveMs: training.keepAliveMs,
    linalgName: getLinalg().name,
    version: VERSION,
    startedAt: Date.now(),
  });
  const server = Deno.serve({ port: settings.port, onListen: () => {} }, app.fetch);
  const port = server.addr.port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async close() {
      // Trainings first: that also ends open event streams, which server.shutdown() awaits.
      await trainings.close();
      await analyses.close();
      await server.shutdown();
      kv.close();
    },
  };
}

if (import.meta.main) {
  const settings = loadSettings();
  const service = await startService(settings);
  console.log(
    `infoplane ${VERSION} listening on ${service.url} (data: ${settings.dataDir}, ` +
      `workers: ${settings.workers}, docs: ${service.url}/docs)`,
  );
  const stop = async () => {
    await service.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}

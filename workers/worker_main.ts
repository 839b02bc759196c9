/**
 * A training worker process for the scale-out mode (`deno task worker`): takes jobs from BullMQ
 * on INFOPLANE_REDIS_URL and runs each in a Web Worker. Start as many as there are GPUs/hosts;
 * SIGTERM puts running jobs back in the queue for another worker.
 */
import { loadSettings } from "../lib/settings.ts";
import { loadTrainingConfig } from "./training_config.ts";
import { RedisTrainingWorker } from "./training_redis.ts";
import { workerRunner } from "./training_runner.ts";

if (import.meta.main) {
  const cfg = loadTrainingConfig();
  if (!cfg.redisUrl) {
    console.error("infoplane worker: set INFOPLANE_REDIS_URL (e.g. redis://127.0.0.1:6379)");
    Deno.exit(2);
  }
  const dataDir = loadSettings().dataDir;
  await Deno.mkdir(dataDir, { recursive: true });
  const worker = new RedisTrainingWorker({
    cfg,
    runner: workerRunner(cfg.runnerModule, { graceMs: cfg.cancelGraceMs }),
    dataDir,
  });
  await worker.start();
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await worker.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}

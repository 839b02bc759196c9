/**
 * A fleet worker process (`deno task worker`): takes jobs of every kind (analyses, trainings,
 * experiment suites) from BullMQ on INFOPLANE_REDIS_URL and runs them in Web Workers. Start as
 * many as there are machines; SIGTERM puts running jobs back in the queue for another worker,
 * and a worker that dies has its jobs taken over once their lease (INFOPLANE_JOB_LOCK_MS) runs
 * out.
 *
 * @module
 */
import { loadSettings } from "../lib/settings.ts";
import { exitNow, startFleetWorker } from "./mod.ts";

if (import.meta.main) {
  const settings = loadSettings();
  if (!settings.jobs.redisUrl) {
    console.error("infoplane worker: set INFOPLANE_REDIS_URL (e.g. redis://127.0.0.1:6379)");
    Deno.exit(2);
  }
  await Deno.mkdir(settings.dataDir, { recursive: true });
  const worker = await startFleetWorker(settings);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    if (await worker.close()) exitNow(0);
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}

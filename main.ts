/**
 * infoplane service entry point. `deno task start` runs it on embedded defaults: Deno KV under
 * ./data, jobs in Web Workers of this process, port 8000. With INFOPLANE_REDIS_URL set, jobs go
 * to BullMQ on Redis for `deno task worker` processes instead (small analyses still run here).
 *
 * @module
 */
import { getLinalg } from "./lib/linalg/mod.ts";
import type { Scale } from "./lib/experiments/types.ts";
import { loadSettings, type Settings } from "./lib/settings.ts";
import { createApp } from "./routes/app.ts";
import { exitNow, type JobService, MemoryBudget, openJobs, openKvFile } from "./workers/mod.ts";

/** Version reported by /v1/health and the OpenAPI document. */
export const VERSION = "0.2.0";

/** A running service. */
export interface Service {
  url: string;
  port: number;
  /** The job layer (tests seed and inspect jobs through it). */
  jobs: JobService;
  /**
   * Stops: running work gets `graceMs` to stop at a safe point, then is abandoned.
   *
   * @returns whether work was abandoned inside a native call (leave with `exitNow` then)
   */
  close(graceMs?: number): Promise<boolean>;
}

/** Options of {@link startService} that tests set. */
export interface ServiceOptions {
  /** Experiment scales callers may request (default cpu and full; tests add "micro"). */
  experimentScales?: readonly Scale[];
}

/**
 * Opens storage, starts the job layer and the HTTP server.
 *
 * @param settings the settings (default: read from the environment); port 0 picks a free port
 * @param options test hooks
 * @returns the running service
 */
export async function startService(
  settings: Settings = loadSettings(),
  options: ServiceOptions = {},
): Promise<Service> {
  await Deno.mkdir(settings.dataDir, { recursive: true });
  const kv = await openKvFile(`${settings.dataDir}/infoplane.kv.sqlite`);
  const jobs = await openJobs(settings, { kv, blobDir: `${settings.dataDir}/jobs` });
  const app = createApp({
    settings,
    jobs: jobs.service,
    budget: new MemoryBudget(settings.limits.memoryBytes),
    experimentScales: options.experimentScales,
    linalgName: getLinalg().name,
    version: VERSION,
    startedAt: Date.now(),
  });
  const server = Deno.serve({ port: settings.port, onListen: () => {} }, app.fetch);
  const port = server.addr.port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    jobs: jobs.service,
    async close(graceMs = settings.limits.shutdownGraceMs) {
      // Jobs first: that also ends open event streams, which server.shutdown() awaits.
      const abandoned = await jobs.close(graceMs);
      await server.shutdown();
      kv.close();
      return abandoned;
    },
  };
}

if (import.meta.main) {
  let settings: Settings, service: Service;
  try {
    settings = loadSettings();
    service = await startService(settings);
  } catch (e) {
    console.error(`infoplane: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
  console.log(
    `infoplane ${VERSION} listening on ${service.url} (data: ${settings.dataDir}, ` +
      `workers: ${settings.workers}, docs: ${service.url}/docs)`,
  );
  const grace = settings.limits.shutdownGraceMs;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping (running work gets ${grace / 1000} s to reach a safe point)`);
    if (await service.close(grace)) {
      console.log("work still inside a native call was abandoned; its job is queued again");
      exitNow(0);
    }
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
}

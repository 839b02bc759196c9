/**
 * infoplane service entry point. `deno task start` runs it on embedded defaults: Deno KV under
 * ./data, compute in Web Workers, port 8000.
 */
import { getLinalg } from "./lib/linalg/mod.ts";
import { loadSettings, type Settings } from "./lib/settings.ts";
import { createApp } from "./routes/app.ts";
import { AnalysisJobs } from "./workers/analysis_jobs.ts";

/** Version reported by /v1/health and the OpenAPI document. */
export const VERSION = "0.1.0";

/** A running service. */
export interface Service {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Opens storage, starts the workers and the HTTP server. Port 0 picks a free port. */
export async function startService(settings: Settings = loadSettings()): Promise<Service> {
  await Deno.mkdir(settings.dataDir, { recursive: true });
  const kv = await Deno.openKv(`${settings.dataDir}/infoplane.kv.sqlite`);
  const analyses = new AnalysisJobs(kv, settings.dataDir, settings.workers, settings.syncWorkLimit);
  await analyses.start();
  const app = createApp({
    settings,
    analyses,
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

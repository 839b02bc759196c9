/**
 * infoplane service entry point, in three ways:
 *
 * - `deno task start` (`deno run ... main.ts`): the service on HOST:PORT (default
 *   127.0.0.1:8000) with embedded defaults: Deno KV under ./data, jobs in Web Workers of this
 *   process. With INFOPLANE_REDIS_URL set, jobs go to BullMQ on Redis for `deno task worker`
 *   processes instead (small analyses still run here).
 * - `deno serve main.ts` (and `deno serve --parallel`): Deno serves the default export's
 *   `fetch`; the service behind it is opened once per isolate when Deno starts listening (with
 *   --parallel, one isolate runs the queued jobs, the others hand them over through the shared
 *   KV queue).
 * - INFOPLANE_MODE=serverless (e.g. Deno Deploy, which serves the default export): no FFI, no
 *   Web Workers, no local files; see lib/settings.ts and deploy/README.md.
 *
 * Without write permission for the data dir, or with INFOPLANE_STORAGE=memory, state is kept in
 * an in-memory Deno KV, and the start-up line says so.
 *
 * @module
 */
import { getLinalg } from "./lib/linalg/mod.ts";
import type { Scale } from "./lib/experiments/mod.ts";
import { loadSettings, type Settings } from "./lib/settings.ts";
import { createApp } from "./routes/app.ts";
import {
  exitNow,
  type Jobs,
  type JobService,
  MemoryBudget,
  openJobs,
  openKvFile,
  openServerlessJobs,
} from "./workers/mod.ts";

/** Version reported by /v1/health and the OpenAPI document. */
export const VERSION = "0.2.0";

/** Where the job layer keeps its state. */
export interface Storage {
  /** "file" (a KV file under the data dir), "memory" or "kv" (`Deno.openKv()`). */
  kind: "file" | "memory" | "kv";
  kv: Deno.Kv;
  /** Where blobs go as files (null: in KV). */
  blobDir: string | null;
  /** Where this process may write (null: nowhere). */
  dataDir: string | null;
  /** Why the store is in memory although files were asked for (no write permission). */
  fallback: string | null;
}

/** One line for logs: where state is kept. */
export function describeStorage(s: Storage): string {
  switch (s.kind) {
    case "file":
      return `storage: ${s.dataDir}`;
    case "kv":
      return "storage: Deno KV (Deno.openKv())";
    case "memory":
      return `storage: in memory${s.fallback ? ` (${s.fallback})` : ""}, lost when the ` +
        "process stops";
  }
}

/** Whether an error means "not allowed to write here" (Deno permission or the file system). */
function isWriteRefusal(e: unknown): boolean {
  return e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable ||
    /EROFS|read-only file system|EACCES|readonly database/i.test(String(e));
}

/**
 * Opens the job store the settings ask for. "file" falls back to memory, saying why, when the
 * data dir cannot be written (no --allow-write for it, a read-only file system).
 *
 * @throws {Error} when a KV file exists but is not a job store (see openKvFile)
 */
export async function openStorage(settings: Settings): Promise<Storage> {
  const memory = async (fallback: string | null): Promise<Storage> => ({
    kind: "memory",
    kv: await Deno.openKv(":memory:"),
    blobDir: null,
    dataDir: null,
    fallback,
  });
  if (settings.storage === "memory") return await memory(null);
  if (settings.storage === "kv") {
    return { kind: "kv", kv: await Deno.openKv(), blobDir: null, dataDir: null, fallback: null };
  }
  const dir = settings.dataDir;
  let granted = true;
  try {
    granted = Deno.permissions.querySync({ name: "write", path: dir }).state === "granted";
  } catch {
    // permissions cannot be queried here: try writing
  }
  if (!granted) return await memory(`no write permission for ${dir}; run with --allow-write`);
  try {
    await Deno.mkdir(dir, { recursive: true });
    await Deno.remove(await Deno.makeTempFile({ dir, prefix: ".write-probe-" }));
  } catch (e) {
    if (isWriteRefusal(e)) {
      return await memory(`${dir} is not writable: ${(e as Error).message.split("\n")[0]}`);
    }
    throw e;
  }
  return {
    kind: "file",
    kv: await openKvFile(`${dir}/infoplane.kv.sqlite`),
    blobDir: `${dir}/jobs`,
    dataDir: dir,
    fallback: null,
  };
}

/** A running service. */
export interface Service {
  /** Where it answers, e.g. http://127.0.0.1:8000 (the address it really bound). */
  url: string;
  port: number;
  hostname: string;
  /** The job layer (tests seed and inspect jobs through it). */
  jobs: JobService;
  storage: Storage;
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

/** The job layer and the app on an open store. */
async function assemble(
  settings: Settings,
  storage: Storage,
  options: ServiceOptions & { execute?: boolean; channel?: string } = {},
): Promise<{ jobs: Jobs; fetch: (req: Request, info?: unknown) => Response | Promise<Response> }> {
  const serverless = settings.mode === "serverless";
  const jobs = serverless
    ? await openServerlessJobs(settings, { kv: storage.kv })
    : await openJobs(settings, {
      kv: storage.kv,
      blobDir: storage.blobDir,
      dataDir: storage.dataDir,
      execute: options.execute,
      channel: options.channel,
    });
  const app = createApp({
    settings,
    jobs: jobs.service,
    budget: new MemoryBudget(settings.limits.memoryBytes),
    experimentScales: options.experimentScales,
    // Serverless: no FFI, the portable kernels.
    linalgName: serverless ? "portable" : getLinalg().name,
    version: VERSION,
    startedAt: Date.now(),
  });
  return { jobs, fetch: (req, info) => app.fetch(req, info) };
}

function urlOf(addr: Deno.NetAddr): string {
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return `http://${host}:${addr.port}`;
}

/**
 * Opens storage, starts the job layer and the HTTP server on HOST:PORT.
 *
 * @param settings the settings (default: read from the environment); port 0 picks a free port
 * @param options test hooks
 * @returns the running service
 */
export async function startService(
  settings: Settings = loadSettings(),
  options: ServiceOptions = {},
): Promise<Service> {
  const storage = await openStorage(settings);
  const { jobs, fetch } = await assemble(settings, storage, options);
  const server = Deno.serve(
    { hostname: settings.host, port: settings.port, onListen: () => {} },
    (req, info) => fetch(req, info),
  );
  const addr = server.addr;
  return {
    url: urlOf(addr),
    port: addr.port,
    hostname: addr.hostname,
    jobs: jobs.service,
    storage,
    async close(graceMs = settings.limits.shutdownGraceMs) {
      // Jobs first: that also ends open event streams, which server.shutdown() awaits.
      const abandoned = await jobs.close(graceMs);
      await server.shutdown();
      storage.kv.close();
      return abandoned;
    },
  };
}

/** Stops on SIGINT/SIGTERM: running work gets the grace period to reach a safe point. */
function stopOnSignals(settings: Settings, close: (graceMs: number) => Promise<boolean>): void {
  const grace = settings.limits.shutdownGraceMs;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping (running work gets ${grace / 1000} s to reach a safe point)`);
    if (await close(grace)) {
      console.log("work still inside a native call was abandoned; its job is queued again");
      exitNow(0);
    }
    Deno.exit(0);
  };
  try {
    Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
    Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  } catch {
    // no signals here (Windows for SIGTERM, or a platform without them)
  }
}

// ---------------------------------------------------------------------------------------------
// `deno serve main.ts` (and serverless platforms that serve the default export)

/** A KV key naming the isolate of this process that runs queued jobs. */
const EXECUTOR_KEY = ["service", "executor"];

/**
 * Whether this isolate runs the queued jobs. `deno serve --parallel` evaluates this module in
 * several isolates of one process, all on one KV file: the first to write its id under
 * EXECUTOR_KEY (or to replace one a previous process left) runs them; the others only submit.
 */
async function claimExecutor(kv: Deno.Kv): Promise<boolean> {
  const me = { pid: Deno.pid, id: crypto.randomUUID() };
  for (let attempt = 0; attempt < 10; attempt++) {
    const current = await kv.get<{ pid: number; id: string }>(EXECUTOR_KEY);
    if (current.value?.pid === me.pid) return current.value.id === me.id;
    const { ok } = await kv.atomic().check(current).set(EXECUTOR_KEY, me).commit();
    if (ok) return true;
  }
  return false;
}

/**
 * Runs `fn` again while SQLite says the KV file is locked: the isolates of `deno serve
 * --parallel` open (and may create) the same file at the same moment.
 */
async function whileLocked<T>(fn: () => Promise<T>, tries = 40): Promise<T> {
  for (let i = 1;; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= tries || !/database is locked/i.test(String(e))) throw e;
      await new Promise((ok) => setTimeout(ok, 50 + Math.random() * 200));
    }
  }
}

type Handler = (req: Request, info?: unknown) => Response | Promise<Response>;
let served: Promise<Handler> | null = null;

/** Opens the service behind the default export, once per isolate. */
function servedHandler(): Promise<Handler> {
  return served ??= (async () => {
    try {
      const settings = loadSettings();
      const storage = await whileLocked(() => openStorage(settings));
      const execute = settings.mode === "serverless" || settings.jobs.redisUrl !== null ||
        await whileLocked(() => claimExecutor(storage.kv));
      // The isolates of `deno serve --parallel` on one KV file hand jobs over through this.
      const channel = storage.kind === "file" ? `infoplane-jobs:${storage.dataDir}` : undefined;
      const { jobs, fetch } = await assemble(settings, storage, { execute, channel });
      console.log(
        `infoplane ${VERSION} served by deno serve (${settings.mode} mode, ` +
          `${describeStorage(storage)}; ${execute ? "runs queued jobs" : "submits jobs"})`,
      );
      stopOnSignals(settings, async (grace) => {
        const abandoned = await jobs.close(grace);
        storage.kv.close();
        return abandoned;
      });
      return fetch;
    } catch (e) {
      console.error(`infoplane: ${e instanceof Error ? e.message : e}`);
      Deno.exit(1);
    }
  })();
}

/** What `deno serve main.ts` serves. */
export default {
  fetch(req: Request, info: Deno.ServeHandlerInfo): Promise<Response> {
    return servedHandler().then((handle) => handle(req, info));
  },
} satisfies Deno.ServeDefaultExport;

// ---------------------------------------------------------------------------------------------
// `deno run main.ts` (`deno task start`)

async function runStandalone(): Promise<void> {
  let settings: Settings, service: Service;
  try {
    settings = loadSettings();
    service = await startService(settings);
  } catch (e) {
    console.error(`infoplane: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
  console.log(
    `infoplane ${VERSION} listening on ${service.url} (${settings.mode} mode, ` +
      `${describeStorage(service.storage)}, workers: ${settings.workers}, ` +
      `docs: ${service.url}/docs)`,
  );
  stopOnSignals(settings, (grace) => service.close(grace));
}

if (import.meta.main) {
  // `deno serve` also evaluates this module as the main one, then starts serving the default
  // export by calling Deno.serve before any timer runs. Watching that call tells the two apart
  // (in every isolate of `deno serve --parallel` too); under `deno serve` the service opens at
  // once instead of at the first request.
  const deno = Deno as unknown as { serve: typeof Deno.serve };
  const original = deno.serve;
  let byDenoServe = false;
  deno.serve = ((...args: Parameters<typeof Deno.serve>) => {
    byDenoServe = true;
    deno.serve = original;
    servedHandler();
    return (original as (...a: unknown[]) => Deno.HttpServer).apply(Deno, args);
  }) as typeof Deno.serve;
  setTimeout(() => {
    deno.serve = original;
    if (!byDenoServe) runStandalone();
  }, 0);
}

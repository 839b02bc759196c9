/**
 * Service settings, read from the environment once at start-up: the one place where every
 * `INFOPLANE_*` variable is parsed (documented in README, "Configuration", and deploy/README.md).
 *
 * @module
 */

/** Everything the service and its job workers can be configured with. */
export interface Settings {
  /** PORT: where the HTTP server listens (default 8000; 0 picks a free port). */
  port: number;
  /**
   * HOST: the address the HTTP server binds (default 127.0.0.1, this machine only; 0.0.0.0 for
   * every interface, as the container image sets).
   */
  host: string;
  /**
   * INFOPLANE_MODE: "server" (default: Web Workers, OpenBLAS through FFI when present, local
   * files) or "serverless" (none of those: Deno KV through `Deno.openKv()`, analyses inline on
   * the portable linear algebra, queued ones through the KV queue; trainings and experiment
   * suites are refused with 501).
   */
  mode: "server" | "serverless";
  /**
   * INFOPLANE_STORAGE: "file" (default in server mode: a Deno KV file and blobs under the data
   * dir), "memory" (`Deno.openKv(":memory:")`, blobs in KV: gone when the process ends; also what
   * the service falls back to without write permission) or "kv" (default in serverless mode:
   * `Deno.openKv()` with no path, Deno Deploy's KV).
   */
  storage: "file" | "memory" | "kv";
  /** INFOPLANE_DATA_DIR: state (Deno KV file, job inputs, dataset caches); default ./data. */
  dataDir: string;
  /** INFOPLANE_MAX_BODY_MB: largest request body accepted (default 1024 MiB). */
  maxBodyBytes: number;
  /** INFOPLANE_MAX_DUMP_MB: largest total uncompressed size of an .npz's arrays (default 4096 MiB). */
  maxDumpBytes: number;
  /** INFOPLANE_MAX_SAMPLES: largest m accepted for an analysis (default 16384). */
  maxSamples: number;
  /** INFOPLANE_SYNC_LIMIT: work units (m^2 x matrices) above which an analysis is queued. */
  syncWorkLimit: number;
  /** INFOPLANE_WORKERS: Web Workers for analyses (default: cores - 1, at least 1). */
  workers: number;
  /** INFOPLANE_CORS_ORIGINS: comma-separated origins, or "*" (default "*"). */
  corsOrigins: string[];
  /** INFOPLANE_API_KEYS: comma-separated keys; empty disables authentication. */
  apiKeys: string[];
  /**
   * INFOPLANE_FRAME_ANCESTORS: who may show the viewer's pages (/, /ui/...) in a frame, as the
   * source list of CSP `frame-ancestors` (default `'self'`): space- or comma-separated origins
   * such as `https://dash.example.org`, `'self'`, `'none'` or `*` (self and none may be
   * written without quotes). docs/embedding.md.
   */
  frameAncestors: string;
  /**
   * INFOPLANE_LINK_SECRET: key of the HMAC that signs share links (`POST .../{id}/links`);
   * default a random secret per process (links then die with the process, and API processes
   * behind one balancer must share a secret). At least 16 characters.
   */
  linkSecret: string | null;
  /** Job engine settings. */
  jobs: JobSettings;
  /** What one client may take, and what the service takes in all. */
  limits: LimitSettings;
}

/** Admission control: memory, request rates, concurrency, queue depth, disk, retention. */
export interface LimitSettings {
  /**
   * INFOPLANE_MEMORY_MB: memory the service admits work against (request bodies, parsed dumps,
   * running analyses); default half the machine's memory, at least 1 GiB.
   */
  memoryBytes: number;
  /** INFOPLANE_MAX_JSON_MB: largest JSON body (default 64); dumps beyond that go as .npz. */
  maxJsonBytes: number;
  /** INFOPLANE_RATE_PER_MIN: requests a client (API key, or address) may send per minute. */
  ratePerMinute: number;
  /** INFOPLANE_MAX_UPLOADS: uploads (POSTs with a body) a client may have in flight. */
  maxUploads: number;
  /** INFOPLANE_MAX_ACTIVE_JOBS: queued and running jobs a client may have. */
  maxActiveJobs: number;
  /** INFOPLANE_MAX_QUEUED: jobs waiting in the whole service before new ones get 503. */
  maxQueued: number;
  /** INFOPLANE_MIN_FREE_DISK_MB: below this much free space new work gets 507. */
  minFreeDiskBytes: number;
  /** INFOPLANE_SHUTDOWN_GRACE_MS: how long SIGTERM waits for running work (default 10 s). */
  shutdownGraceMs: number;
  /** INFOPLANE_RETENTION_DAYS: finished jobs older than this are deleted (0: kept). */
  retentionDays: number;
  /** INFOPLANE_RETENTION_MB: the oldest finished jobs go while the jobs take more (0: no cap). */
  retentionBytes: number;
  /** INFOPLANE_SWEEP_MS: interval of the retention sweep (default an hour). */
  sweepMs: number;
}

/** Settings of the job layer (workers/): queues, stores, retries, runners. */
export interface JobSettings {
  /** INFOPLANE_REDIS_URL: when set, jobs go through BullMQ on this Redis (fleet mode). */
  redisUrl: string | null;
  /** INFOPLANE_REDIS_PREFIX: prefix of every Redis key (default "infoplane"). */
  redisPrefix: string;
  /** INFOPLANE_TRAINING_CONCURRENCY: trainings and experiment suites run at once per process. */
  trainingConcurrency: number;
  /** INFOPLANE_JOB_ATTEMPTS (or INFOPLANE_TRAINING_ATTEMPTS): starts before an interrupted job fails. */
  attempts: number;
  /** INFOPLANE_JOB_LOCK_MS (or INFOPLANE_TRAINING_LOCK_MS): lease of a running job in Redis. */
  lockMs: number;
  /** INFOPLANE_JOB_STALLED_MS (or INFOPLANE_TRAINING_STALLED_MS): interval of the stalled-job check. */
  stalledMs: number;
  /** INFOPLANE_HEARTBEAT_MS: how often a running job's record shows a sign of life (default 2 s). */
  heartbeatMs: number;
  /** INFOPLANE_TRAINING_MAX_EVENTS: events logged per job before step events are dropped. */
  maxEvents: number;
  /** INFOPLANE_TRAINING_CANCEL_GRACE_MS: time a cancelled job gets before its worker is killed. */
  cancelGraceMs: number;
  /** INFOPLANE_SSE_KEEPALIVE_MS: interval of keep-alive comments on event streams. */
  keepAliveMs: number;
  /**
   * INFOPLANE_REDIS_TRANSIENT_TTL_S: how long a finished job's transient Redis keys (event log,
   * queue entry) are kept (default one day). Records and results are kept (see retention).
   */
  transientTtlS: number;
  /**
   * INFOPLANE_TRAINING_RUNNER: URL of a module exporting `runTraining` (default
   * lib/train/run.ts). Meant for tests, which substitute a fast stand-in.
   */
  trainingModule: string;
}

type Env = (k: string) => string | undefined;

function num(env: Env, key: string, fallback: number): number {
  const raw = env(key)?.trim();
  if (raw === undefined || raw === "") return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) {
    throw new Error(`${key} must be a positive number, got "${raw}"`);
  }
  return v;
}

function int(env: Env, keys: string | string[], fallback: number, min = 1): number {
  for (const key of typeof keys === "string" ? [keys] : keys) {
    const raw = env(key)?.trim();
    if (!raw) continue;
    const v = Number(raw);
    if (!Number.isInteger(v) || v < min) {
      throw new Error(`${key} must be an integer >= ${min}, got "${raw}"`);
    }
    return v;
  }
  return fallback;
}

function choice<T extends string>(env: Env, key: string, values: readonly T[], fallback: T): T {
  const raw = env(key)?.trim().toLowerCase();
  if (!raw) return fallback;
  if (!(values as readonly string[]).includes(raw)) {
    throw new Error(`${key} must be one of ${values.join(", ")}, got "${env(key)}"`);
  }
  return raw as T;
}

function list(raw: string | undefined): string[] {
  return (raw ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}

/** The default training module: lib/train/run.ts. */
export const DEFAULT_TRAINING_MODULE = new URL("./train/run.ts", import.meta.url).href;

/**
 * Reads {@link Settings} from an environment lookup.
 *
 * @param env variable lookup (default `Deno.env.get`)
 * @returns the settings, defaults filled in
 * @throws {Error} naming the variable when a value does not parse
 * @example
 * ```ts
 * const settings = loadSettings((k) => ({ PORT: "0" })[k]);
 * ```
 */
export function loadSettings(env: Env = (k) => Deno.env.get(k)): Settings {
  const cores = navigator.hardwareConcurrency ?? 2;
  const mode = choice(env, "INFOPLANE_MODE", ["server", "serverless"], "server");
  const storage = choice(
    env,
    "INFOPLANE_STORAGE",
    ["file", "memory", "kv"],
    mode === "serverless" ? "kv" : "file",
  );
  if (mode === "serverless" && storage === "file") {
    throw new Error(
      'INFOPLANE_STORAGE=file needs local files, which serverless mode does not use: use "kv" ' +
        '(Deno.openKv()) or "memory"',
    );
  }
  return {
    port: env("PORT")?.trim() === "0" ? 0 : num(env, "PORT", 8000),
    host: env("HOST")?.trim() || "127.0.0.1",
    mode,
    storage,
    dataDir: env("INFOPLANE_DATA_DIR") || "./data",
    maxBodyBytes: Math.round(num(env, "INFOPLANE_MAX_BODY_MB", 1024) * 1024 * 1024),
    maxDumpBytes: Math.round(num(env, "INFOPLANE_MAX_DUMP_MB", 4096) * 1024 * 1024),
    maxSamples: Math.round(num(env, "INFOPLANE_MAX_SAMPLES", 16384)),
    syncWorkLimit: num(env, "INFOPLANE_SYNC_LIMIT", 2 ** 24),
    workers: Math.round(num(env, "INFOPLANE_WORKERS", Math.max(1, cores - 1))),
    corsOrigins: env("INFOPLANE_CORS_ORIGINS") === undefined
      ? ["*"]
      : list(env("INFOPLANE_CORS_ORIGINS")),
    apiKeys: list(env("INFOPLANE_API_KEYS")),
    frameAncestors: frameAncestors(env("INFOPLANE_FRAME_ANCESTORS")),
    linkSecret: linkSecret(env("INFOPLANE_LINK_SECRET")),
    jobs: loadJobSettings(env),
    limits: loadLimitSettings(env),
  };
}

/**
 * The CSP `frame-ancestors` source list of INFOPLANE_FRAME_ANCESTORS (default `'self'`).
 *
 * @throws {Error} for a source that could break the header (quotes, semicolons, spaces inside)
 */
export function frameAncestors(raw: string | undefined): string {
  const sources = (raw ?? "").split(/[\s,]+/).filter((s) => s.length > 0);
  if (sources.length === 0) return "'self'";
  const out = sources.map((s) => {
    const bare = s.replace(/^'(.*)'$/, "$1").toLowerCase();
    if (bare === "self" || bare === "none") return `'${bare}'`;
    if (!/^(\*|[a-z][a-z0-9+.-]*:(\/\/[^\s;,'"]+)?|(\*\.)?[a-z0-9.-]+(:(\d+|\*))?)$/i.test(s)) {
      throw new Error(
        `INFOPLANE_FRAME_ANCESTORS: "${s}" is not a frame-ancestors source (an origin such as ` +
          "https://dash.example.org, 'self', 'none' or *)",
      );
    }
    return s;
  });
  if (out.includes("'none'") && out.length > 1) {
    throw new Error("INFOPLANE_FRAME_ANCESTORS: 'none' cannot be combined with other sources");
  }
  return out.join(" ");
}

function linkSecret(raw: string | undefined): string | null {
  const v = raw?.trim();
  if (!v) return null;
  if (v.length < 16) throw new Error("INFOPLANE_LINK_SECRET must have at least 16 characters");
  return v;
}

const MIB = 1024 * 1024;

function loadLimitSettings(env: Env): LimitSettings {
  let total = 4096 * MIB;
  try {
    total = Deno.systemMemoryInfo().total;
  } catch {
    // no --allow-sys: assume a small machine
  }
  const nonNegative = (key: string, fallback: number) => {
    const raw = env(key)?.trim();
    if (!raw) return fallback;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < 0) throw new Error(`${key} must be a number >= 0, got "${raw}"`);
    return v;
  };
  return {
    memoryBytes: Math.round(num(env, "INFOPLANE_MEMORY_MB", Math.max(1024, total / MIB / 2)) * MIB),
    maxJsonBytes: Math.round(num(env, "INFOPLANE_MAX_JSON_MB", 64) * MIB),
    ratePerMinute: int(env, "INFOPLANE_RATE_PER_MIN", 600),
    maxUploads: int(env, "INFOPLANE_MAX_UPLOADS", 4),
    maxActiveJobs: int(env, "INFOPLANE_MAX_ACTIVE_JOBS", 32),
    maxQueued: int(env, "INFOPLANE_MAX_QUEUED", 256),
    minFreeDiskBytes: Math.round(nonNegative("INFOPLANE_MIN_FREE_DISK_MB", 256) * MIB),
    shutdownGraceMs: int(env, "INFOPLANE_SHUTDOWN_GRACE_MS", 10_000, 0),
    retentionDays: nonNegative("INFOPLANE_RETENTION_DAYS", 0),
    retentionBytes: Math.round(nonNegative("INFOPLANE_RETENTION_MB", 0) * MIB),
    sweepMs: int(env, "INFOPLANE_SWEEP_MS", 3_600_000, 100),
  };
}

function loadJobSettings(env: Env): JobSettings {
  const runner = env("INFOPLANE_TRAINING_RUNNER")?.trim();
  return {
    redisUrl: env("INFOPLANE_REDIS_URL")?.trim() || null,
    redisPrefix: env("INFOPLANE_REDIS_PREFIX")?.trim() || "infoplane",
    trainingConcurrency: int(env, "INFOPLANE_TRAINING_CONCURRENCY", 1),
    attempts: int(env, ["INFOPLANE_JOB_ATTEMPTS", "INFOPLANE_TRAINING_ATTEMPTS"], 2),
    lockMs: int(env, ["INFOPLANE_JOB_LOCK_MS", "INFOPLANE_TRAINING_LOCK_MS"], 30_000, 100),
    stalledMs: int(env, ["INFOPLANE_JOB_STALLED_MS", "INFOPLANE_TRAINING_STALLED_MS"], 30_000, 100),
    heartbeatMs: int(env, "INFOPLANE_HEARTBEAT_MS", 2_000, 50),
    maxEvents: int(env, "INFOPLANE_TRAINING_MAX_EVENTS", 5000, 10),
    cancelGraceMs: int(env, "INFOPLANE_TRAINING_CANCEL_GRACE_MS", 10_000, 0),
    keepAliveMs: int(env, "INFOPLANE_SSE_KEEPALIVE_MS", 15_000, 10),
    transientTtlS: int(env, "INFOPLANE_REDIS_TRANSIENT_TTL_S", 86_400),
    trainingModule: runner
      ? new URL(runner, `file://${Deno.cwd()}/`).href
      : DEFAULT_TRAINING_MODULE,
  };
}

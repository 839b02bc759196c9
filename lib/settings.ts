/** Service settings read from the environment once at start-up (documented in README). */

/** Everything the service can be configured with. */
export interface Settings {
  /** PORT: where the HTTP server listens (default 8000). */
  port: number;
  /** INFOPLANE_DATA_DIR: state (Deno KV file, queued dumps); default ./data. */
  dataDir: string;
  /** INFOPLANE_MAX_BODY_MB: largest request body accepted (default 1024 MiB). */
  maxBodyBytes: number;
  /** INFOPLANE_MAX_DUMP_MB: largest total uncompressed size of an .npz's arrays (default 4096 MiB). */
  maxDumpBytes: number;
  /** INFOPLANE_MAX_SAMPLES: largest m accepted for an analysis (default 16384). */
  maxSamples: number;
  /** INFOPLANE_SYNC_LIMIT: work units (m^2 x matrices) above which an analysis runs async. */
  syncWorkLimit: number;
  /** INFOPLANE_WORKERS: Web Workers for compute (default: cores - 1, at least 1). */
  workers: number;
  /** INFOPLANE_CORS_ORIGINS: comma-separated origins, or "*" (default "*"). */
  corsOrigins: string[];
  /** INFOPLANE_API_KEYS: comma-separated keys; empty disables authentication. */
  apiKeys: string[];
}

function num(env: (k: string) => string | undefined, key: string, fallback: number): number {
  const raw = env(key);
  if (raw === undefined || raw === "") return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) {
    throw new Error(`${key} must be a positive number, got "${raw}"`);
  }
  return v;
}

function list(raw: string | undefined): string[] {
  return (raw ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Reads {@link Settings} from an environment lookup (Deno.env.get by default). */
export function loadSettings(
  env: (k: string) => string | undefined = (k) => Deno.env.get(k),
): Settings {
  const cores = navigator.hardwareConcurrency ?? 2;
  return {
    port: env("PORT")?.trim() === "0" ? 0 : num(env, "PORT", 8000), // 0: any free port
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
  };
}

/**
 * Helpers for the HTTP integration tests (tests/api_*_test.ts): a real service on a free port
 * with its own temporary data directory (real files, real Deno KV), dump builders with a
 * seeded PRNG, and request helpers that always consume the response body so that Deno's
 * resource sanitizers stay quiet.
 */
import assert from "node:assert/strict";
import { startService } from "../main.ts";
import { encodeNpy, encodeNpz } from "../lib/dump/mod.ts";
import type { NdArray } from "../lib/dump/mod.ts";
import { loadSettings } from "../lib/settings.ts";
import { mulberry32 } from "../lib/random.ts";
import type { JobService } from "../workers/mod.ts";

export { encodeNpy, encodeNpz };

/** A service started for one test. */
export interface TestService {
  url: string;
  port: number;
  dataDir: string;
  /** The service's job layer (to seed or inspect jobs). */
  jobs: JobService;
}

/** Settings overrides, as environment variables (PORT and INFOPLANE_DATA_DIR are set here). */
export type Env = Record<string, string>;

/**
 * The deployment mode the API tests run in: `deno task test:serverless` sets INFOPLANE_MODE=
 * serverless (and INFOPLANE_STORAGE=memory) for the whole run; withService then starts every
 * service that way, with Web Workers made unavailable, so that a test passing there proves the
 * mode needs none.
 */
export const SERVERLESS = (() => {
  try {
    return Deno.env.get("INFOPLANE_MODE") === "serverless";
  } catch {
    return false;
  }
})();

if (SERVERLESS) {
  // Serverless platforms have no Web Workers: any attempt to start one fails the test.
  (globalThis as unknown as { Worker: unknown }).Worker = class {
    constructor() {
      throw new Error("Web Workers are not available in serverless mode");
    }
  };
}

/** Settings the process environment forces on every test service (the mode, the storage). */
function modeEnv(): Env {
  if (!SERVERLESS) return {};
  return {
    INFOPLANE_MODE: "serverless",
    INFOPLANE_STORAGE: Deno.env.get("INFOPLANE_STORAGE") ?? "memory",
  };
}

/**
 * Starts a service on port 0 in a fresh temporary directory (none in serverless mode), runs
 * `fn`, then closes the service and removes the directory, whatever `fn` did.
 */
export async function withService(
  env: Env,
  fn: (svc: TestService) => Promise<void>,
): Promise<void> {
  const dataDir = SERVERLESS
    ? "/nonexistent/serverless"
    : await Deno.makeTempDir({ prefix: "infoplane-api-" });
  try {
    const vars: Env = {
      PORT: "0",
      INFOPLANE_DATA_DIR: dataDir,
      INFOPLANE_WORKERS: "1",
      ...env,
      ...modeEnv(),
    };
    const service = await startService(loadSettings((k) => vars[k]));
    try {
      await fn({ url: service.url, port: service.port, dataDir, jobs: service.jobs });
    } finally {
      await service.close();
    }
  } finally {
    if (!SERVERLESS) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

/** A response with its body already read. */
export interface Reply {
  status: number;
  headers: Headers;
  /** Parsed JSON for JSON and problem+json bodies, otherwise the text. */
  // deno-lint-ignore no-explicit-any
  body: any;
  text: string;
  ms: number;
}

/** Sends a request to the service and reads the whole body. */
export async function call(
  base: string | TestService,
  path: string,
  init: RequestInit = {},
): Promise<Reply> {
  const url = (typeof base === "string" ? base : base.url) + path;
  const t0 = performance.now();
  const res = await fetch(url, init);
  const text = await res.text();
  const ms = performance.now() - t0;
  const type = res.headers.get("content-type") ?? "";
  let body: unknown = text;
  if (type.includes("json") && text.length > 0) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, body, text, ms };
}

/** Headers helper: adds an API key as a Bearer token. */
export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

// ---------------------------------------------------------------------------------------------
// Deterministic data

/** mulberry32: a small seeded PRNG returning floats in [0, 1). */
export const rng: (seed: number) => () => number = mulberry32;

/** Standard normal samples (Box-Muller) from a uniform generator. */
export function gaussian(rand: () => number): () => number {
  return () => {
    const u = 1 - rand();
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

/** A rows x cols float32 array of standard normal values. */
export function randomMatrix(rand: () => number, rows: number, cols: number): NdArray {
  const g = gaussian(rand);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = g();
  return { shape: [rows, cols], dtype: "float32", data };
}

/** m int32 class labels in 0..classes-1 (every class present when m >= classes). */
export function randomLabels(rand: () => number, m: number, classes: number): NdArray {
  const data = new Int32Array(m);
  for (let i = 0; i < m; i++) data[i] = i < classes ? i : Math.floor(rand() * classes);
  return { shape: [m], dtype: "int32", data };
}

/** A layer that depends on x: tanh(x W) with a random W, plus a little noise. */
export function layerOf(rand: () => number, x: NdArray, width: number): NdArray {
  const [m, d] = x.shape;
  const g = gaussian(rand);
  const w = new Float64Array(d * width);
  for (let i = 0; i < w.length; i++) w[i] = g() / Math.sqrt(d);
  const out = new Float32Array(m * width);
  for (let r = 0; r < m; r++) {
    for (let c = 0; c < width; c++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += Number(x.data[r * d + k]) * w[k * width + c];
      out[r * width + c] = Math.tanh(s) + 0.05 * g();
    }
  }
  return { shape: [m, width], dtype: "float32", data: out };
}

/** Options of {@link makeDump}. */
export interface DumpSpec {
  m?: number;
  dx?: number;
  classes?: number;
  /** Layer widths by name, in depth order. */
  layers?: Record<string, number>;
  /** Checkpoint steps; omitted = a single checkpoint with plain layer keys. */
  steps?: number[];
  seed?: number;
}

/** The arrays of a dump, keyed as in an .npz: x, y, then `<layer>` or `<step>/<layer>`. */
export function makeDump(spec: DumpSpec = {}): Record<string, NdArray> {
  const { m = 32, dx = 6, classes = 3, layers = { fc1: 5, fc2: 3 }, steps, seed = 1 } = spec;
  const rand = rng(seed);
  const x = randomMatrix(rand, m, dx);
  const y = randomLabels(rand, m, classes);
  const out: Record<string, NdArray> = { x, y };
  for (const step of steps ?? [null]) {
    for (const [name, width] of Object.entries(layers)) {
      out[step === null ? name : `${step}/${name}`] = layerOf(rand, x, width);
    }
  }
  return out;
}

/** Nested JS arrays (rows) of a 2-D or 1-D array, for the JSON form of a dump. */
export function toNested(a: NdArray): number[] | number[][] {
  const values = Array.from(a.data as ArrayLike<number>, Number);
  if (a.shape.length === 1) return values;
  const cols = a.shape.slice(1).reduce((p, n) => p * n, 1);
  const rows: number[][] = [];
  for (let r = 0; r < a.shape[0]; r++) rows.push(values.slice(r * cols, (r + 1) * cols));
  return rows;
}

/** A 2-D array as CSV text (with a header row). */
export function toCsv(a: NdArray): string {
  const [rows, cols] = a.shape;
  const lines = [Array.from({ length: cols }, (_, i) => `c${i}`).join(",")];
  for (let r = 0; r < rows; r++) {
    lines.push(Array.from({ length: cols }, (_, c) => String(a.data[r * cols + c])).join(","));
  }
  return lines.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
// Requests

/** Options of the POST helpers. */
export interface PostOptions {
  estimator?: unknown;
  /** Raw estimator text (multipart), instead of JSON-encoding `estimator`. */
  estimatorText?: string;
  async?: boolean;
  headers?: Record<string, string>;
}

function analysesPath(opts: PostOptions): string {
  return opts.async ? "/v1/analyses?async=true" : "/v1/analyses";
}

/** POSTs multipart form data to /v1/analyses. Values: Uint8Array/string files, or File. */
export async function postForm(
  svc: TestService | string,
  files: Record<string, { bytes: Uint8Array | string; name: string }>,
  opts: PostOptions = {},
): Promise<Reply> {
  const form = new FormData();
  for (const [field, f] of Object.entries(files)) {
    form.append(field, new File([f.bytes as BlobPart], f.name));
  }
  if (opts.estimatorText !== undefined) form.append("estimator", opts.estimatorText);
  else if (opts.estimator !== undefined) form.append("estimator", JSON.stringify(opts.estimator));
  return await call(svc, analysesPath(opts), {
    method: "POST",
    body: form,
    headers: opts.headers,
  });
}

/** POSTs an .npz archive as the multipart field `dump`. */
export async function postNpz(
  svc: TestService | string,
  npz: Uint8Array,
  opts: PostOptions = {},
): Promise<Reply> {
  return await postForm(svc, { dump: { bytes: npz, name: "dump.npz" } }, opts);
}

/** POSTs a JSON body to /v1/analyses (`body` is sent as is when it is a string). */
export async function postJson(
  svc: TestService | string,
  body: unknown,
  opts: PostOptions = {},
): Promise<Reply> {
  return await call(svc, analysesPath(opts), {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json", ...opts.headers },
  });
}

/** Polls GET /v1/analyses/{id} until it is done or failed; fails after `timeoutMs`. */
export async function waitDone(
  svc: TestService | string,
  id: string,
  opts: { timeoutMs?: number; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  while (true) {
    const r = await call(svc, `/v1/analyses/${id}`, { headers: opts.headers });
    assert.deepStrictEqual(r.status, 200, `GET /v1/analyses/${id}: ${r.text}`);
    if (r.body.status === "done" || r.body.status === "failed") return r;
    assert(Date.now() < deadline, `analysis ${id} still ${r.body.status} after the timeout`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

/**
 * Checks a problem+json reply: status, content type, title, detail, and (when given) the field
 * at fault. Returns the body.
 */
export function assertProblem(
  r: Reply,
  status: number,
  field?: string | RegExp,
  // deno-lint-ignore no-explicit-any
): any {
  assert.deepStrictEqual(r.status, status, `status (body: ${r.text.slice(0, 400)})`);
  const type = r.headers.get("content-type") ?? "";
  assert(type.startsWith("application/problem+json"), `content-type is "${type}"`);
  const p = r.body;
  assert.deepStrictEqual(p.status, status, "problem.status");
  assert(typeof p.title === "string" && p.title.length > 0, "problem.title");
  assert(typeof p.detail === "string" && p.detail.length > 0, "problem.detail");
  assert(typeof p.type === "string", "problem.type");
  if (field !== undefined) {
    assert(typeof p.field === "string", `problem.field missing: ${r.text}`);
    if (typeof field === "string") {
      assert.deepStrictEqual(p.field, field, `problem.field (${p.detail})`);
    } else assert(field.test(p.field), `problem.field "${p.field}" does not match ${field}`);
  }
  return p;
}

/** Checks that the service is still healthy and still analyses a small valid dump. */
export async function assertStillServing(svc: TestService | string): Promise<void> {
  const h = await call(svc, "/v1/health");
  assert.deepStrictEqual(h.status, 200, "health after an error");
  assert.deepStrictEqual(h.body.status, "ok");
  const r = await postNpz(svc, encodeNpz(makeDump({ m: 12, seed: 99 })));
  assert.deepStrictEqual(r.status, 200, `valid analysis after an error: ${r.text.slice(0, 300)}`);
  assert.deepStrictEqual(r.body.status, "done");
}

/** The science fields of an analysis (what must match between runs of the same dump). */
// deno-lint-ignore no-explicit-any
export function resultOf(a: any): unknown {
  return {
    m: a.m,
    num_classes: a.num_classes,
    estimator: a.estimator,
    reference: a.reference,
    checkpoints: a.checkpoints,
    summary: a.summary,
  };
}

/** A port that was free a moment ago (listen on port 0, close). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * Helpers for the training tests (tests/trainings_*_test.ts, tests/redis_*_test.ts): a service
 * whose training runner is the fast stand-in tests/trainings_fake_runner.ts, an SSE reader,
 * subprocess management and polling.
 */
import assert from "node:assert/strict";
import { startService } from "../main.ts";
import { loadSettings } from "../lib/settings.ts";
import { call, type Env, freePort, type Reply, type TestService } from "./api_helpers.ts";
import type { TrainingJob } from "../lib/train/mod.ts";
import { type JobRecord, type JobStore, newRecord } from "../workers/mod.ts";

/** The repository root. */
export const ROOT = new URL("..", import.meta.url);

/** Module URL of the stand-in runner. */
export const FAKE_RUNNER = new URL("./trainings_fake_runner.ts", import.meta.url).href;

/**
 * Starts a service (in this process) on a fresh data dir with the stand-in runner, runs `fn`,
 * then closes it and removes the dir. `stepMs` is the stand-in's time per step.
 */
export async function withTrainingService(
  env: Env,
  fn: (svc: TestService) => Promise<void>,
  stepMs = 5,
): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "infoplane-train-" });
  Deno.env.set("INFOPLANE_FAKE_STEP_MS", String(stepMs));
  try {
    const vars: Env = {
      PORT: "0",
      INFOPLANE_DATA_DIR: dataDir,
      INFOPLANE_WORKERS: "1",
      INFOPLANE_TRAINING_RUNNER: FAKE_RUNNER,
      INFOPLANE_SSE_KEEPALIVE_MS: "300",
      INFOPLANE_TRAINING_CANCEL_GRACE_MS: "3000",
      ...env,
    };
    const get = (k: string) => vars[k];
    const service = await startService(loadSettings(get), {
      experimentScales: ["micro", "cpu", "full"],
    });
    try {
      await fn({ url: service.url, port: service.port, dataDir, jobs: service.jobs });
    } finally {
      await service.close();
    }
  } finally {
    Deno.env.delete("INFOPLANE_FAKE_STEP_MS");
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

/** A small valid training request; `over` replaces top-level fields. */
export function tinyRequest(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: { preset: "mlp", depth: 2 },
    dataset: { name: "mnist", train_limit: 256, test_limit: 256 },
    methods: [{ name: "e2e" }, { name: "layerwise" }],
    optimizer: { epochs: 2, batch_size: 64 },
    tracking: { probe_size: 128 },
    seed: 1,
    ...over,
  };
}

/** POSTs a JSON training request. */
export async function postTraining(
  base: string | TestService,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return await call(base, "/v1/trainings", {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json", ...headers },
  });
}

/** Polls GET /v1/trainings/{id} until `done(body)` holds; fails after `timeoutMs`. */
export async function waitTraining(
  base: string | TestService,
  id: string,
  // deno-lint-ignore no-explicit-any
  done: (body: any) => boolean = (b) => ["done", "failed", "cancelled"].includes(b.status),
  opts: { timeoutMs?: number; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  while (true) {
    const r = await call(base, `/v1/trainings/${id}`, { headers: opts.headers });
    assert.deepStrictEqual(r.status, 200, `GET /v1/trainings/${id}: ${r.text}`);
    if (done(r.body)) return r;
    assert(
      Date.now() < deadline,
      `training ${id} still ${r.body.status} after the timeout: ${JSON.stringify(r.body.progress)}`,
    );
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

/** One server-sent event. */
export interface Sse {
  event: string;
  // deno-lint-ignore no-explicit-any
  data: any;
  id?: string;
}

/** What {@link readEvents} saw. */
export interface SseLog {
  status: number;
  contentType: string;
  events: Sse[];
  /** Comment lines (": ...") received. */
  comments: string[];
}

/**
 * Reads GET <kind path>/{id}/events to its end (or until `stopWhen` holds for an event),
 * parsing `event:`/`data:`/`id:` lines; `timeoutMs` bounds the whole read. `progress` events
 * are left out unless `progress` is set.
 */
export async function readEvents(
  base: string | TestService,
  id: string,
  opts: {
    headers?: Record<string, string>;
    stopWhen?: (e: Sse) => boolean;
    timeoutMs?: number;
    kindPath?: string;
    progress?: boolean;
  } = {},
): Promise<SseLog> {
  const url = (typeof base === "string" ? base : base.url) +
    `${opts.kindPath ?? "/v1/trainings"}/${id}/events`;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), opts.timeoutMs ?? 30_000);
  const res = await fetch(url, { headers: opts.headers, signal: ctl.signal });
  const log: SseLog = {
    status: res.status,
    contentType: res.headers.get("content-type") ?? "",
    events: [],
    comments: [],
  };
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    clearTimeout(timer);
    return log;
  }
  let buf = "";
  let cur: Partial<Sse> & { data?: string } = {};
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    outer: while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, "");
        buf = buf.slice(nl + 1);
        if (line === "") {
          if (cur.data !== undefined) {
            const e: Sse = {
              event: cur.event ?? "message",
              data: JSON.parse(cur.data),
              id: cur.id,
            };
            if (e.event !== "progress" || opts.progress) log.events.push(e);
            if (opts.stopWhen?.(e)) break outer;
          }
          cur = {};
        } else if (line.startsWith(":")) {
          log.comments.push(line.slice(1).trim());
        } else {
          const i = line.indexOf(":");
          const field = i < 0 ? line : line.slice(0, i);
          const val = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
          if (field === "data") cur.data = cur.data === undefined ? val : cur.data + "\n" + val;
          else if (field === "event") cur.event = val;
          else if (field === "id") cur.id = val;
        }
      }
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
  return log;
}

/** Reads a stream to the end as text. */
export async function drain(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) text += chunk;
  return text;
}

/** A child process with its combined output. */
export interface Proc {
  name: string;
  child: Deno.ChildProcess;
  output: Promise<string>;
  /** Output so far (for diagnostics and for waiting on log lines). */
  seen(): string;
}

/** Spawns `cmd args` with piped output that is collected as it comes. */
export function spawn(name: string, cmd: string, args: string[], env: Env): Proc {
  const child = new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const collect = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) text += chunk;
  };
  const output = Promise.all([collect(child.stdout), collect(child.stderr)]).then(() => text);
  return { name, child, output, seen: () => text };
}

/** Sends `signal`, then SIGKILL after `graceMs`; waits for the exit and the output. */
export async function stop(
  p: Proc,
  signal: Deno.Signal = "SIGTERM",
  graceMs = 5_000,
): Promise<Deno.CommandStatus> {
  const kill = (sig: Deno.Signal) => {
    try {
      p.child.kill(sig);
    } catch {
      // Already gone.
    }
  };
  kill(signal);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((ok) => {
    timer = setTimeout(() => ok(null), graceMs);
  });
  let status = await Promise.race([p.child.status, late]);
  clearTimeout(timer);
  if (status === null) {
    kill("SIGKILL");
    status = await p.child.status;
  }
  await p.output;
  return status;
}

/** Starts `deno run -A main.ts` on a free port and waits for /v1/health. */
export async function startApiProc(env: Env, name = "api"): Promise<Proc & { url: string }> {
  const port = freePort();
  const p = spawn(name, Deno.execPath(), ["run", "-A", "main.ts"], {
    INFOPLANE_API_KEYS: "",
    ...env,
    PORT: String(port),
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (true) {
    try {
      const r = await call(url, "/v1/health");
      if (r.status === 200) return { ...p, url };
    } catch {
      // Not listening yet.
    }
    const exited = await Promise.race([
      p.child.status.then(() => true),
      new Promise<false>((ok) => setTimeout(() => ok(false), 50)),
    ]);
    if (exited || Date.now() > deadline) {
      await stop(p, "SIGKILL");
      throw new Error(`${name} did not start:\n${await p.output}`);
    }
  }
}

/**
 * What every JobStore must do (run against Deno KV and Redis): conditional status changes,
 * results written whole and once (a 1 MB one included), late results of cancelled jobs dropped,
 * an ordered event log, blobs, listings newest first with filters and cursors, and removal.
 */
export async function storeContract(store: JobStore, job: TrainingJob): Promise<void> {
  const make = (owner = "o", label: string | null = null) =>
    newRecord("training", job, owner, { label }, 2) as JobRecord;
  const a = make();
  await store.create(a);
  const created = await store.get(a.id);
  assert.deepStrictEqual(created?.status, "queued");
  assert.deepStrictEqual(created?.request, job);
  let out = await store.update(a.id, { status: "running", attempts: 1 }, ["queued"]);
  assert(out.applied);
  out = await store.update(a.id, { status: "running" }, ["queued"]);
  assert(!out.applied, "running is not queued");
  assert.deepStrictEqual(out.record?.attempts, 1);
  assert.deepStrictEqual(
    (await store.update(crypto.randomUUID(), { status: "done" })).record,
    null,
  );

  // A 1 MB result (many KV chunks over several commits), read back equal.
  const result = JSON.stringify({ methods: [{ blob: "x".repeat(1_000_000) }], seconds: 1 });
  assert(await store.complete(a.id, result, { finished_at: new Date().toISOString() }));
  assert.deepStrictEqual(await store.result(a.id), result);
  assert.deepStrictEqual((await store.get(a.id))?.status, "done");
  // Finished: no second result, no status change.
  assert(!(await store.complete(a.id, "{}", {})));
  assert.deepStrictEqual(await store.result(a.id), result);
  assert(!(await store.update(a.id, { status: "cancelled" })).applied);

  // A cancelled job's late result is dropped.
  const b = make("o", "Sweep σ=5");
  await store.create(b);
  await store.update(b.id, { status: "cancelled" });
  assert(!(await store.complete(b.id, result, {})));
  assert.deepStrictEqual(await store.result(b.id), null);

  // The event log: positions are contiguous and reads resume from one.
  const n = await store.appendEvents(b.id, [
    { type: "log", message: "one" },
    { type: "log", message: "two" },
  ]);
  assert.deepStrictEqual(n, 2);
  assert.deepStrictEqual(await store.appendEvents(b.id, [{ type: "log", message: "three" }]), 3);
  assert.deepStrictEqual(
    (await store.events(b.id, 1)).map((e) => [e.seq, (e.event as { message: string }).message]),
    [
      [1, "two"],
      [2, "three"],
    ],
  );
  assert.deepStrictEqual(await store.events(b.id, 3), []);

  // Blobs.
  const bytes = new Uint8Array(200_000).map((_, i) => i % 251);
  await store.putBlob(b.id, "input", bytes);
  assert.deepStrictEqual(await store.getBlob(b.id, "input"), bytes);
  await store.deleteBlobs(b.id);
  assert.deepStrictEqual(await store.getBlob(b.id, "input"), null);

  // A request too big for one KV value is kept whole.
  const big = {
    ...job,
    model: { blocks: Array.from({ length: 64 }, () => ({ pad: "y".repeat(2000) })) },
  };
  const c = newRecord("training", big, "o", {}, 2) as JobRecord;
  await store.create(c);
  assert.deepStrictEqual((await store.get(c.id))?.request, big);

  // Listings: newest first, per owner, filtered, paged.
  const other = make("someone-else");
  await store.create(other);
  const all = await store.list({ owner: "o", limit: 10 });
  assert.deepStrictEqual(all.items.map((r) => r.id), [c.id, b.id, a.id]);
  assert.deepStrictEqual(all.cursor, null);
  const page1 = await store.list({ owner: "o", limit: 2 });
  assert.deepStrictEqual(page1.items.map((r) => r.id), [c.id, b.id]);
  assert(page1.cursor);
  const page2 = await store.list({ owner: "o", limit: 2, cursor: page1.cursor });
  assert.deepStrictEqual(page2.items.map((r) => r.id), [a.id]);
  assert.deepStrictEqual(
    (await store.list({ owner: "o", limit: 10, status: "cancelled" })).items.map((r) => r.id),
    [b.id],
  );
  assert.deepStrictEqual(
    (await store.list({ owner: "o", limit: 10, label: "sweep σ" })).items.map((r) => r.id),
    [b.id],
  );
  assert.deepStrictEqual((await store.list({ owner: "o", limit: 10, kind: "analysis" })).items, []);

  // Removal takes everything.
  assert(await store.remove(b.id));
  assert.deepStrictEqual(await store.get(b.id), null);
  assert.deepStrictEqual(await store.events(b.id, 0), []);
  assert(!(await store.remove(b.id)));
  assert.deepStrictEqual(
    (await store.list({ owner: "o", limit: 10 })).items.map((r) => r.id),
    [c.id, a.id],
  );
}

/**
 * How the service is started, as processes: `deno run main.ts` without write permission keeps
 * its state in memory and says so, printing the address it really bound; `deno serve --parallel
 * main.ts` serves the default export from two isolates, one of which runs the queued jobs that
 * both take in.
 */
import assert from "node:assert/strict";
import { freePort, SERVERLESS } from "./api_helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** A child deno process whose stdout is collected line by line. */
function spawnDeno(args: string[], env: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const errors: string[] = [];
  const collect = async (stream: ReadableStream<Uint8Array>, into: string[]) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      into.push(...chunk.split("\n").filter((l) => l.length > 0));
    }
  };
  const drained = Promise.all([collect(child.stdout, lines), collect(child.stderr, errors)]);
  return {
    child,
    lines,
    errors,
    /** Waits for a line (stdout or stderr) matching `re`. */
    async line(re: RegExp, ms = 60_000): Promise<RegExpMatchArray> {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        for (const l of [...lines, ...errors]) {
          const m = l.match(re);
          if (m) return m;
        }
        await new Promise((ok) => setTimeout(ok, 50));
      }
      throw new Error(`no line ${re} in:\n${lines.join("\n")}\n${errors.join("\n")}`);
    },
    async stop(): Promise<Deno.CommandStatus> {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }, 15_000);
      const status = await child.status;
      clearTimeout(timer);
      await drained;
      return status;
    },
  };
}

/** Sends one request on a connection of its own (so that --parallel's isolates share them). */
async function once(url: string, init: RequestInit = {}): Promise<Response> {
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  try {
    const res = await fetch(url, { ...init, client });
    const body = await res.arrayBuffer();
    return new Response(body, { status: res.status, headers: res.headers });
  } finally {
    client.close();
  }
}

const DUMP = JSON.stringify({
  x: [[1], [2], [3], [4], [5], [6], [7], [8]],
  y: [0, 1, 0, 1, 0, 1, 0, 1],
  layers: { a: [[1], [2], [3], [4], [5], [7], [6], [9]] },
});

async function analyseAsync(url: string): Promise<string> {
  const r = await once(`${url}/v1/analyses?async=true`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: DUMP,
  });
  assert.strictEqual(r.status, 202, await r.clone().text());
  return (await r.json()).id;
}

async function waitAll(url: string, ids: string[]): Promise<Array<Record<string, unknown>>> {
  const out = [];
  for (const id of ids) {
    let rec: Record<string, unknown> = { status: "queued" };
    for (let i = 0; i < 400 && !["done", "failed"].includes(String(rec.status)); i++) {
      await new Promise((ok) => setTimeout(ok, 50));
      rec = await (await once(`${url}/v1/analyses/${id}`)).json();
    }
    out.push(rec);
  }
  return out;
}

Deno.test({
  name: "deploy: deno run without write permission keeps state in memory and says so",
  ignore: SERVERLESS,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "infoplane-ro-" });
    const proc = spawnDeno(
      ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-sys", "main.ts"],
      { PORT: "0", HOST: "127.0.0.1", INFOPLANE_DATA_DIR: `${dir}/data`, INFOPLANE_WORKERS: "1" },
    );
    try {
      const m = await proc.line(/listening on (http:\/\/127\.0\.0\.1:(\d+)) \((.*)\)/);
      const url = m[1];
      assert.notStrictEqual(m[2], "0", "the port it really bound");
      assert.match(
        m[3],
        /storage: in memory \(no write permission for .*data; run with --allow-write\)/,
      );
      const h = await once(`${url}/v1/health`);
      assert.strictEqual(h.status, 200);
      const [rec] = await waitAll(url, [await analyseAsync(url)]);
      assert.strictEqual(rec.status, "done", JSON.stringify(rec.error));
      assert.strictEqual(await Deno.stat(`${dir}/data`).then(() => true, () => false), false);
    } finally {
      const status = await proc.stop();
      assert.strictEqual(status.code, 0, proc.errors.join("\n"));
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "deploy: deno serve --parallel serves from two isolates; one runs the queued jobs",
  ignore: SERVERLESS,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "infoplane-serve-" });
    const port = freePort();
    const proc = spawnDeno(
      ["serve", "-A", "--parallel", "--host", "127.0.0.1", "--port", String(port), "main.ts"],
      { DENO_JOBS: "2", INFOPLANE_DATA_DIR: dir, INFOPLANE_WORKERS: "1" },
    );
    try {
      await proc.line(/Listening on http:\/\/127\.0\.0\.1:\d+\/ with 2 threads/);
      await proc.line(/runs queued jobs/);
      await proc.line(/submits jobs/);
      const served = proc.lines.filter((l) => l.includes("served by deno serve"));
      assert.strictEqual(served.length, 2, served.join("\n"));
      assert.strictEqual(served.filter((l) => l.includes("runs queued jobs")).length, 1);
      const url = `http://127.0.0.1:${port}`;
      const ids = [];
      for (let i = 0; i < 8; i++) ids.push(await analyseAsync(url));
      const recs = await waitAll(url, ids);
      for (const rec of recs) {
        assert.strictEqual(rec.status, "done", JSON.stringify(rec));
        assert.strictEqual(rec.attempts, 1, "run once");
      }
      const list = await (await once(`${url}/v1/jobs?limit=50`)).json();
      assert.strictEqual(list.items.length, 8, "both isolates see every job");
    } finally {
      await proc.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "deploy: the serverless subset passes without write, FFI or run permissions",
  ignore: SERVERLESS,
  async fn() {
    // `deno task test:serverless`: the analysis, error, auth and serverless API tests with
    // INFOPLANE_MODE=serverless, Web Workers made unavailable, and --allow-net --allow-env
    // --allow-read only.
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "test:serverless"],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.strictEqual(out.code, 0, text.slice(-4000));
    assert.match(text, /\| \d+ passed \| 0 failed/);
  },
});

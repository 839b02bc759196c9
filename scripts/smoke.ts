/**
 * The hostile-input smoke test: requests a careless or hostile client sends (a zip bomb, JSON
 * bodies of hundreds of MB, dozens of concurrent uploads, stray labels, overflowing and
 * constant arrays, meaningless estimator settings, duplicate keys, absurd ids), each with the
 * answer a sound service gives, while a probe measures how fast /v1/health answers throughout.
 * tests/limits_test.ts runs it against a service started with small limits.
 *
 * Usage: `deno task smoke [--url http://127.0.0.1:8000] [--api-key K] [--allow-remote]`
 * (INFOPLANE_URL and INFOPLANE_API_KEY work too). Only loopback addresses are targeted unless
 * --allow-remote is given. Every case is bounded in requests and time.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { encodeNpz, type NdArray } from "../lib/dump/mod.ts";
import { mulberry32 } from "../lib/random.ts";

/** One hostile case and what the service answered. */
export interface CaseResult {
  name: string;
  expected: string;
  got: string;
  ok: boolean;
  ms: number;
}

/** What {@link runHostile} measured. */
export interface SmokeReport {
  cases: CaseResult[];
  /** Slowest /v1/health answer while the cases ran (ms), and how many were sent. */
  healthMaxMs: number;
  healthProbes: number;
}

/** Options of {@link runHostile}. */
export interface SmokeOptions {
  apiKey?: string;
  /** Size of the zip bomb's uint8 array once inflated (default 1.2 GB). */
  bombBytes?: number;
  /** Size of the huge JSON bodies (default 320 MB). */
  jsonBytes?: number;
  /** Concurrent uploads and the size of each (default 50 x 29 MB). */
  uploads?: number;
  uploadBytes?: number;
}

const enc = new TextEncoder();

function matrix(m: number, d: number, seed: number, scale = 1): NdArray {
  const r = mulberry32(seed);
  return {
    shape: [m, d],
    dtype: "float64",
    data: Float64Array.from({ length: m * d }, () => (r() - 0.5) * scale),
  };
}

function labels(m: number, classes: number): NdArray {
  return {
    shape: [m],
    dtype: "int32",
    data: Int32Array.from({ length: m }, (_, i) => i % classes),
  };
}

/** A small valid dump, with `over` replacing arrays. */
function dump(over: Record<string, NdArray> = {}, m = 32): Record<string, NdArray> {
  return { x: matrix(m, 8, 1), y: labels(m, 3), fc1: matrix(m, 6, 2), ...over };
}

function form(npz: Uint8Array, fields: Record<string, string> = {}): FormData {
  const f = new FormData();
  f.set("dump", new File([npz as BlobPart], "dump.npz"));
  for (const [k, v] of Object.entries(fields)) f.set(k, v);
  return f;
}

/**
 * A real zip bomb: one .npy of `n` uint8 zeros, deflated (a few MB), zipped by hand so that
 * nothing of it is ever held uncompressed here.
 */
export async function zipBomb(n: number): Promise<Uint8Array> {
  const header = npyHeader(`{'descr': '|u1', 'fortran_order': False, 'shape': (${n},), }`);
  const size = header.length + n;
  const chunk = new Uint8Array(1 << 20);
  const body = new ReadableStream<BufferSource>({
    start(c) {
      c.enqueue(header);
    },
    pull(c) {
      if (n <= 0) return c.close();
      const k = Math.min(n, chunk.length);
      c.enqueue(k === chunk.length ? chunk : chunk.subarray(0, k));
      n -= k;
    },
  });
  const deflated = new Uint8Array(
    await new Response(body.pipeThrough(new CompressionStream("deflate-raw"))).arrayBuffer(),
  );
  return zipOne("x.npy", deflated, size, 8);
}

function npyHeader(dict: string): Uint8Array<ArrayBuffer> {
  let text = dict;
  while ((10 + text.length + 1) % 64 !== 0) text += " ";
  text += "\n";
  const out = new Uint8Array(10 + text.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length & 0xff, text.length >> 8]);
  out.set(enc.encode(text), 10);
  return out;
}

/** A zip archive of one entry (CRC left 0: the archive is refused before it is checked). */
function zipOne(name: string, data: Uint8Array, size: number, method: number): Uint8Array {
  const nameBytes = enc.encode(name);
  const local = new DataView(new ArrayBuffer(30));
  local.setUint32(0, 0x04034b50, true);
  local.setUint16(4, 20, true);
  local.setUint16(8, method, true);
  local.setUint32(18, data.length, true);
  local.setUint32(22, size, true);
  local.setUint16(26, nameBytes.length, true);
  const central = new DataView(new ArrayBuffer(46));
  central.setUint32(0, 0x02014b50, true);
  central.setUint16(4, 20, true);
  central.setUint16(6, 20, true);
  central.setUint16(10, method, true);
  central.setUint32(20, data.length, true);
  central.setUint32(24, size, true);
  central.setUint16(28, nameBytes.length, true);
  const cdOffset = 30 + nameBytes.length + data.length;
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, 1, true);
  end.setUint16(10, 1, true);
  end.setUint32(12, 46 + nameBytes.length, true);
  end.setUint32(16, cdOffset, true);
  const parts = [
    new Uint8Array(local.buffer),
    nameBytes,
    data,
    new Uint8Array(central.buffer),
    nameBytes,
    new Uint8Array(end.buffer),
  ];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), at += p.length;
  return out;
}

/** A JSON body of about `n` bytes, streamed (no Content-Length). */
function streamedJson(n: number): ReadableStream<Uint8Array> {
  const piece = enc.encode("0.5,".repeat(1 << 16));
  let sent = 0;
  return new ReadableStream({
    start(c) {
      c.enqueue(enc.encode('{"y": [0], "x": ['));
    },
    pull(c) {
      if (sent >= n) {
        c.enqueue(enc.encode("0]}"));
        return c.close();
      }
      c.enqueue(piece);
      sent += piece.length;
    },
  });
}

/**
 * Runs the hostile set against a service.
 *
 * @param base the service's URL
 * @param opts API key and sizes
 * @returns every case's outcome and the slowest health answer
 */
export async function runHostile(base: string, opts: SmokeOptions = {}): Promise<SmokeReport> {
  const auth: Record<string, string> = opts.apiKey
    ? { authorization: `Bearer ${opts.apiKey}` }
    : {};
  const cases: CaseResult[] = [];
  const send = async (path: string, init: RequestInit = {}): Promise<string> => {
    try {
      const res = await fetch(base + path, {
        ...init,
        headers: { ...auth, ...(init.headers ?? {}) },
      });
      await res.body?.cancel();
      return String(res.status);
    } catch (e) {
      // A service that refuses a body mid-upload may close the connection: that is a refusal.
      return `closed (${(e as Error).name})`;
    }
  };
  const check = async (
    name: string,
    expected: string[],
    run: () => Promise<string | string[]>,
  ) => {
    const t0 = performance.now();
    const got = await run();
    const all = Array.isArray(got) ? got : [got];
    cases.push({
      name,
      expected: expected.join(" or "),
      got: Array.isArray(got) ? summarise(all) : got,
      ok: all.every((g) => expected.some((e) => g === e || g.startsWith(e))),
      ms: performance.now() - t0,
    });
  };

  // Health while the cases run, from a Web Worker of its own so that this process's work
  // (building and sending bodies) does not delay the probe: one request at a time, every 50 ms.
  const probe = new Worker(new URL("./_health_probe.ts", import.meta.url), { type: "module" });
  const probed = new Promise<{ maxMs: number; probes: number }>((ok) => {
    probe.onmessage = (e) => ok(e.data);
  });
  probe.postMessage({ url: `${base}/v1/health`, headers: auth });

  try {
    const bomb = await zipBomb(opts.bombBytes ?? 1_200_000_000);
    await check(
      `zip bomb (${(bomb.length / 1e6).toFixed(1)} MB inflating to ${
        ((opts.bombBytes ?? 1.2e9) / 1e9).toFixed(1)
      } GB)`,
      ["413"],
      () => send("/v1/analyses", { method: "POST", body: form(bomb) }),
    );

    const jsonBytes = opts.jsonBytes ?? 320_000_000;
    await check(
      `JSON body of ${jsonBytes / 1e6} MB, length known`,
      ["413", "closed"],
      () =>
        send("/v1/analyses", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: new Blob([new Uint8Array(jsonBytes).fill(0x20)]),
        }),
    );
    await check(
      `JSON body of ${jsonBytes / 1e6} MB, streamed`,
      ["413", "closed"],
      () =>
        send("/v1/analyses", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: streamedJson(jsonBytes),
        }),
    );

    const uploads = opts.uploads ?? 50, uploadBytes = opts.uploadBytes ?? 29_000_000;
    const m = 2048, d = Math.max(8, Math.floor(uploadBytes / 8 / m / 2));
    const big = encodeNpz({ x: matrix(m, d, 3), y: labels(m, 10), fc1: matrix(m, d, 4) });
    await check(
      `${uploads} concurrent uploads of ${(big.length / 1e6).toFixed(0)} MB`,
      ["200", "202", "429", "503"],
      () =>
        Promise.all(
          Array.from(
            { length: uploads },
            () => send("/v1/analyses?async=true", { method: "POST", body: form(big) }),
          ),
        ),
    );

    const stray = {
      y: {
        shape: [16],
        dtype: "int32",
        data: Int32Array.from({ length: 16 }, (_, i) => i % 2 ? 15999 : 0),
      },
    } as Record<string, NdArray>;
    await check(
      "one label of 15999 among 16 samples",
      ["200"],
      () =>
        send("/v1/analyses", {
          method: "POST",
          body: form(encodeNpz(dump({ ...stray, x: matrix(16, 8, 1), fc1: matrix(16, 6, 2) }, 16))),
        }),
    );
    const far = {
      y: {
        shape: [16],
        dtype: "int32",
        data: Int32Array.from({ length: 16 }, (_, i) => i % 2 ? 99999 : 1),
      },
    } as Record<string, NdArray>;
    await check(
      "labels of 99999",
      ["200"],
      () =>
        send("/v1/analyses", {
          method: "POST",
          body: form(encodeNpz(dump({ ...far, x: matrix(16, 8, 1), fc1: matrix(16, 6, 2) }, 16))),
        }),
    );
    await check("activations x 1e200", ["422"], () =>
      send("/v1/analyses", {
        method: "POST",
        body: form(encodeNpz(dump({ fc1: matrix(32, 6, 2, 1e200) }))),
      }));
    const constant: NdArray = { shape: [32, 4], dtype: "float32", data: new Float32Array(128) };
    await check(
      "a constant layer",
      ["422"],
      () =>
        send("/v1/analyses", { method: "POST", body: form(encodeNpz(dump({ fc1: constant }))) }),
    );
    for (
      const [what, estimator] of [
        ["sigma 1e-13", { sigma: 1e-13 }],
        ["eps 0", { eps: 0 }],
        ["batch_size over m", { batch_size: 64 }],
      ] as const
    ) {
      await check(what, ["422"], () =>
        send("/v1/analyses", {
          method: "POST",
          body: form(encodeNpz(dump()), { estimator: JSON.stringify(estimator) }),
        }));
    }
    await check("duplicate keys in a JSON dump", ["422"], () =>
      send("/v1/analyses", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"x": [[1],[2],[3],[4]], "y": [0,1,0,1], "layers": {"a": [[1],[2],[3],[5]], ' +
          '"a": [[1],[2],[3],[4]]}}',
      }));
    const longId = "a".repeat(3000);
    await check("ids of 3000 characters", ["404", "431"], () =>
      Promise.all(
        ["/v1/analyses/", "/v1/trainings/", "/v1/experiments/", "/v1/analyses/x/charts/"].map(
          (p) => send(p + longId + (p.endsWith("charts/") ? "/depth-profile.svg" : "")),
        ),
      ));
    await check("an unknown content type", ["415"], () =>
      send("/v1/analyses", {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: "1,2",
      }));
  } finally {
    probe.postMessage("stop");
  }
  const { maxMs, probes } = await probed;
  probe.terminate();
  return { cases, healthMaxMs: maxMs, healthProbes: probes };
}

function summarise(statuses: string[]): string {
  const n = new Map<string, number>();
  for (const s of statuses) n.set(s, (n.get(s) ?? 0) + 1);
  return [...n].map(([s, k]) => `${k} x ${s}`).join(", ");
}

function loopback(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      url: { type: "string", default: Deno.env.get("INFOPLANE_URL") ?? "http://127.0.0.1:8000" },
      "api-key": { type: "string", default: Deno.env.get("INFOPLANE_API_KEY") },
      "allow-remote": { type: "boolean" },
    },
  });
  const url = values.url!.replace(/\/$/, "");
  if (!loopback(url) && !values["allow-remote"]) {
    console.error(`smoke: ${url} is not a loopback address; pass --allow-remote to target it`);
    Deno.exit(2);
  }
  const report = await runHostile(url, { apiKey: values["api-key"] });
  for (const c of report.cases) {
    console.log(
      `${c.ok ? "ok  " : "FAIL"} ${c.name.padEnd(52)} ${c.got.padEnd(28)} ` +
        `(expected ${c.expected}) ${c.ms.toFixed(0)} ms`,
    );
  }
  console.log(
    `health: slowest of ${report.healthProbes} answers ${report.healthMaxMs.toFixed(0)} ms`,
  );
  Deno.exit(report.cases.every((c) => c.ok) ? 0 : 1);
}

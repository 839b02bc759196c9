/**
 * nHSIC at scale, the part of `deno task bench` (scripts/bench_nhsic.ts) for m = 4096 and 8192:
 * an analysis of 10 layers that share X and Y (x and every layer m x d, d = 784 and 4096, 10
 * classes), exact and in mini-batches, against PyTorch's float64 reference form measured in the
 * same run, with the time, the peak memory of each process and how the time grows with m.
 *
 * - infoplane: lib/nhsic's measureDump on the whole analysis (R_X and R_Y once, then one Gram,
 *   one Cholesky inverse and the traces per layer), each configuration in its own process
 *   (peak RSS = VmHWM of that process, the float32 dump of 11 m x d matrices included);
 * - PyTorch (scripts/bench_torch.py --suite nhsic-scale, float64, its "blas" thread
 *   configuration: torch 1 thread, OpenBLAS on every core, the faster one for this all-BLAS
 *   work): R_Y, then one layer's R_T and traces, timed apart. R_X and every layer are the same
 *   work (a Gram, an LU inverse and a product of m x m matrices), so the analysis takes
 *   labels + 11 x layer (running all of it would add ~20 minutes at m = 8192 on this machine
 *   and change nothing but the total); its peak RSS is that of R_Y and one layer;
 * - mini-batch estimates: the same analysis with batch_size 1024 and 512 (lib/nhsic averages
 *   the estimator over consecutive batches), their time and how far their nHSIC is from the
 *   exact one (largest relative difference over the 10 layers, X and Y);
 * - growth: time(m = 8192) / time(m = 4096); the Grams grow as m^2 (x4), the inverses as m^3
 *   (x8), so a ratio near 8 means the inverses dominate.
 *
 *   deno run -A scripts/bench_nhsic_scale.ts [--ms=4096,8192] [--ds=784,4096] [--full-scale]
 *     [--skip-torch] [--batches=1024,512] [--torch-device=cuda] [--json=out.json]
 *
 * Default grid: d = 784 and 4096 at m = 4096, d = 784 at m = 8192 (d = 4096 at m = 8192 adds
 * ~8 minutes on the 2-core dev VM and the same m^3 work: --full-scale, or --ms/--ds).
 *
 * @module
 */

import { describeLinalg, getLinalg } from "../lib/linalg/mod.ts";
import { measureDump } from "../lib/nhsic/mod.ts";
import { resolveEstimator } from "../lib/nhsic/mod.ts";
import { describeTorch, findTorch, torchCoreType } from "./torch_probe.ts";
import { fmt, runJson, syntheticDump, table, vmHwmMiB } from "./_bench.ts";

/** Layers of the analysis (x and y shared by all of them). */
export const SCALE_LAYERS = 10;

interface OursResult {
  m: number;
  d: number;
  batch: number | null;
  seconds: number;
  peakMiB: number;
  /** [nHSIC(X;T), nHSIC(Y;T)] of every layer. */
  nhsic: Array<[number, number]>;
}

interface TorchScale {
  m: number;
  d: number;
  labels_seconds: number;
  layer_seconds: number;
  peak_mib: number;
}

/** The child: one analysis of SCALE_LAYERS layers at m x d (exact when batch is null). */
function child(m: number, d: number, batch: number | null): OursResult {
  const dump = syntheticDump(m, d, SCALE_LAYERS);
  const t0 = performance.now();
  const r = measureDump(dump, resolveEstimator({ batch_size: batch }), { linalg: getLinalg() });
  const seconds = (performance.now() - t0) / 1000;
  const nhsic = r.checkpoints[0].layers.map((l) => [l.nhsic_x, l.nhsic_y] as [number, number]);
  return { m, d, batch, seconds, peakMiB: vmHwmMiB(), nhsic };
}

function list(v: string | undefined, fallback: number[]): number[] {
  return v ? v.split(",").filter((s) => s).map(Number) : fallback;
}

/**
 * Prints the scale section (see the module doc). `flags`: ms, ds, batches (comma lists),
 * skip-torch. Returns its wall seconds.
 */
export async function printScale(flags: Map<string, string>): Promise<number> {
  const t0 = performance.now();
  // default grid: both widths at m = 4096, d = 784 at m = 8192 (the m^3 work is the same for
  // both widths; d = 4096 adds ~8 minutes there on a 2-core machine: --full-scale); --ms/--ds
  // give the grid explicitly
  const ms = list(flags.get("ms"), [4096, 8192]);
  const ds = list(flags.get("ds"), [784, 4096]);
  const explicit = flags.has("ms") || flags.has("ds") || flags.has("full-scale");
  const grid: Array<[number, number]> = ms.flatMap((m) =>
    ds.filter((d) => explicit || m <= 4096 || d === 784).map((d) => [m, d] as [number, number])
  );
  const batches = list(flags.get("batches"), [1024, 512]);
  const self = new URL(import.meta.url).pathname;
  const config = new URL("../deno.json", import.meta.url).pathname;
  const ours = (m: number, d: number, batch: number | null) =>
    runJson(Deno.execPath(), [
      "run",
      `--config=${config}`,
      "-A",
      self,
      `--child=${JSON.stringify({ m, d, batch })}`,
    ]) as Promise<OursResult>;
  const coreType = torchCoreType();
  const torchDevice = flags.get("torch-device") || "cpu";
  const json: { exact: unknown[]; batches: unknown[]; seconds?: number } = {
    exact: [],
    batches: [],
  };
  const torch = flags.has("skip-torch")
    ? { ok: false as const, reason: "--skip-torch", tried: [] }
    : await findTorch(coreType.env);
  const cores = navigator.hardwareConcurrency;
  console.log(
    `\n## nHSIC at scale: ${SCALE_LAYERS} layers sharing X and Y (x and layers m x d, 10 ` +
      `classes)\n\ninfoplane: ${describeLinalg(getLinalg())}; PyTorch: ${
        torch.ok
          ? `${describeTorch(torch.info)}, float64 reference form, ` + (torchDevice === "cpu"
            ? `torch 1 thread + OPENBLAS_NUM_THREADS=${cores} (${coreType.note})`
            : `on ${torchDevice}`)
          : `not run (${torch.reason})`
      }; load ${fmt(Deno.loadavg()[0])}\n`,
  );
  const exact = new Map<string, OursResult>();
  const rows: string[][] = [];
  for (const [m, d] of grid) {
    {
      const r = await ours(m, d, null);
      exact.set(`${m}/${d}`, r);
      let ref: TorchScale | null = null;
      if (torch.ok) {
        try {
          ref = await runJson(torch.python, [
            new URL("./bench_torch.py", import.meta.url).pathname,
            "--suite",
            "nhsic-scale",
            "--m",
            String(m),
            "--d",
            String(d),
            "--threads",
            "1",
            "--device",
            torchDevice,
          ], { ...coreType.env, OPENBLAS_NUM_THREADS: String(cores) }) as TorchScale;
        } catch (e) {
          console.error(`PyTorch m=${m} d=${d}: ${(e as Error).message}`);
        }
      }
      const torchTotal = ref ? ref.labels_seconds + (SCALE_LAYERS + 1) * ref.layer_seconds : NaN;
      json.exact.push({ m, d, ours: r.seconds, oursPeakMiB: r.peakMiB, torch: torchTotal, ref });
      rows.push([
        String(m),
        String(d),
        fmt(r.seconds, 1),
        fmt(r.peakMiB, 0),
        ref
          ? `${fmt(torchTotal, 1)} (${fmt(ref.labels_seconds, 1)} + ${SCALE_LAYERS + 1} x ${
            fmt(ref.layer_seconds, 1)
          })`
          : "-",
        ref ? fmt(ref.peak_mib, 0) : "-",
        ref ? `${fmt(r.seconds / torchTotal)}x` : "-",
        fmt(Deno.loadavg()[0]),
      ]);
      console.error(
        `scale m=${m} d=${d}: ours ${fmt(r.seconds, 1)} s, torch ${fmt(torchTotal, 1)} s`,
      );
    }
  }
  console.log(
    table([
      "m",
      "d",
      "infoplane (s)",
      "peak RSS (MiB)",
      "PyTorch f64 (s): labels + 11 x layer",
      "PyTorch peak (MiB)",
      "ratio",
      "load",
    ], rows),
  );
  // growth with m
  if (ms.length >= 2) {
    const [a, b] = [ms[0], ms[ms.length - 1]];
    const growth = ds.filter((d) => exact.has(`${a}/${d}`) && exact.has(`${b}/${d}`)).map((d) => {
      const ra = exact.get(`${a}/${d}`)!, rb = exact.get(`${b}/${d}`)!;
      return `d=${d}: x${fmt(rb.seconds / ra.seconds, 1)}`;
    });
    const k = Math.log2(b / a);
    console.log(
      `\ntime(m=${b}) / time(m=${a}), infoplane: ${growth.join(", ")} (m^2 terms: x${
        fmt(4 ** k, 0)
      }, m^3 terms: x${fmt(8 ** k, 0)})`,
    );
  }
  // mini-batch estimates
  const brows: string[][] = [];
  for (const [m, d] of grid) {
    {
      const ex = exact.get(`${m}/${d}`)!;
      for (const batch of batches) {
        if (batch >= m) continue;
        const r = await ours(m, d, batch);
        let dev = 0;
        const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
        r.nhsic.forEach(([x, y], l) => {
          dev = Math.max(dev, rel(x, ex.nhsic[l][0]), rel(y, ex.nhsic[l][1]));
        });
        json.batches.push({ m, d, batch, seconds: r.seconds, peakMiB: r.peakMiB, relDiff: dev });
        brows.push([
          String(m),
          String(d),
          String(batch),
          fmt(r.seconds, 2),
          `${fmt(ex.seconds / r.seconds, 1)}x`,
          fmt(r.peakMiB, 0),
          fmt(dev, 3),
        ]);
      }
    }
  }
  if (brows.length) {
    console.log(
      `\nmini-batch estimates (batch_size: the estimator averaged over consecutive batches), ` +
        `${SCALE_LAYERS} layers:\n`,
    );
    console.log(
      table([
        "m",
        "d",
        "batch_size",
        "seconds",
        "faster than exact",
        "peak RSS (MiB)",
        "max rel. diff. from exact",
      ], brows),
    );
  }
  const secs = (performance.now() - t0) / 1000;
  console.log(`\n(scale section: ${fmt(secs, 0)} s of wall time)`);
  json.seconds = secs;
  const jsonPath = flags.get("json");
  if (jsonPath) Deno.writeTextFileSync(jsonPath, JSON.stringify(json, null, 1) + "\n");
  return secs;
}

if (import.meta.main) {
  const flags = new Map<string, string>();
  for (const a of Deno.args) {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(a);
    if (m) flags.set(m[1], m[2] ?? "");
  }
  const spec = flags.get("child");
  if (spec) {
    const { m, d, batch } = JSON.parse(spec);
    console.log(JSON.stringify(child(m, d, batch)));
    Deno.exit(0);
  }
  await printScale(flags);
}

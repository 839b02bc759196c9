/**
 * nHSIC benchmark: one layer plus the shared X and Y operators, per call, for each linear-algebra
 * backend, with ratios against PyTorch's tuned float64 form (Gram by matmul, one inverse per
 * matrix) as measured on the project's 2-core development machine and quoted in the issue.
 * PyTorch is not installed here, so those reference times are quoted, not re-measured.
 *
 *   deno task bench            # openblas + portable (portable skips m = 2048)
 *   deno task bench --memory   # also: peak RSS of an m = 4096, 10 x d = 4096 analysis
 */
import { describeLinalg, getLinalg, portableLinalg } from "../lib/linalg/mod.ts";
import type { Linalg } from "../lib/linalg/types.ts";
import { measureDump } from "../lib/nhsic/measure.ts";
import { resolveEstimator } from "../lib/nhsic/config.ts";
import type { Dump, Matrix } from "../lib/dump/types.ts";

/** PyTorch float64 seconds per call from the issue (same machine type), keyed "m/d". */
const TORCH_F64: Record<string, number> = {
  "256/784": 0.006,
  "1024/784": 0.13,
  "2048/784": 1.0,
  "1024/4096": 0.16,
};

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  let s = seed >>> 0;
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 2 ** 32;
  }
  return { rows, cols, data };
}

/** A dump with x and `layers` layers of width d, m samples, 10 classes. */
export function syntheticDump(m: number, d: number, layers = 1): Dump {
  return {
    x: randomMatrix(m, d, 1),
    labels: Int32Array.from({ length: m }, (_, i) => i % 10),
    numClasses: 10,
    checkpoints: [{
      step: 0,
      layers: Array.from({ length: layers }, (_, l) => ({
        name: `l${l}`,
        values: randomMatrix(m, d, 2 + l),
      })),
    }],
  };
}

function timeCall(la: Linalg, dump: Dump, runs: number): number {
  const cfg = resolveEstimator();
  for (let w = 0; w < (dump.x.rows <= 256 ? 5 : 1); w++) measureDump(dump, cfg, { linalg: la }); // JIT warm-up
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    measureDump(dump, cfg, { linalg: la });
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Work of the reference form: two Grams by matmul (2 m^2 d each), three LU inverses (2 m^3). */
const nominalFlops = (m: number, d: number) => 2 * 2 * m * m * d + 3 * 2 * m ** 3;

function vmHwmMiB(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

if (import.meta.main) {
  const args = new Set(Deno.args);
  if (args.has("--memory-child")) {
    const t0 = performance.now();
    const dump = syntheticDump(4096, 4096, 10);
    measureDump(dump, resolveEstimator(), { linalg: getLinalg() });
    console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, peak_mib: vmHwmMiB() }));
    Deno.exit(0);
  }
  const fast = getLinalg();
  const backends = fast.name === portableLinalg.name ? [portableLinalg] : [fast, portableLinalg];
  console.log(
    `cpu: ${navigator.hardwareConcurrency} threads; backends: ${
      backends.map(describeLinalg).join(" | ")
    }`,
  );
  console.log(
    "nominal GFLOP = 2 Grams by matmul (2 m^2 d) + 3 LU-style inverses (2 m^3), per call\n",
  );
  console.log("backend   m     d     seconds   GFLOP/s  PyTorch f64 (issue)  ratio");
  for (const la of backends) {
    for (
      const [m, d] of [[256, 784], [256, 4096], [1024, 784], [1024, 4096], [2048, 784], [
        2048,
        4096,
      ]]
    ) {
      if (la === portableLinalg && m >= 2048) continue;
      const dump = syntheticDump(m, d);
      const sec = timeCall(la, dump, m <= 256 ? 15 : 3);
      const ref = TORCH_F64[`${m}/${d}`];
      console.log(
        `${la.name.padEnd(9)} ${String(m).padEnd(5)} ${String(d).padEnd(5)} ${
          sec.toFixed(4).padStart(8)
        }  ${(nominalFlops(m, d) / sec / 1e9).toFixed(1).padStart(7)}  ${
          ref ? ref.toFixed(3).padStart(8) + " s" : "       -  "
        }          ${ref ? (sec / ref).toFixed(2) + "x" : "-"}`,
      );
    }
  }
  if (args.has("--memory")) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL(import.meta.url).pathname, "--memory-child"],
      stdout: "piped",
    }).outputSync();
    const r = JSON.parse(new TextDecoder().decode(child.stdout));
    console.log(
      `\npeak RSS, m = 4096, 10 layers of d = 4096 (float32 dump ${
        ((11 * 4096 * 4096 * 4) / 2 ** 20).toFixed(0)
      } MiB): ` +
        `${r.peak_mib.toFixed(0)} MiB in ${r.seconds.toFixed(1)} s (${fast.name})`,
    );
  }
  // m = 4096 and 8192 against PyTorch, mini-batch estimates (scripts/bench_nhsic_scale.ts;
  // --skip-scale leaves it out, the flags after it are passed on)
  if (!args.has("--skip-scale")) {
    const { printScale } = await import("./bench_nhsic_scale.ts");
    const scaleFlags = new Map<string, string>();
    for (const a of Deno.args) {
      const m = /^--(ms|ds|batches|skip-torch|full-scale|torch-device)(?:=(.*))?$/.exec(a);
      if (m) scaleFlags.set(m[1], m[2] ?? "");
    }
    await printScale(scaleFlags);
  }
}

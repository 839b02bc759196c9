/**
 * What the benchmark scripts share: statistics, the machine's load, a process's peak memory and
 * thread CPU time, Markdown tables, child processes that answer with a JSON line, and the
 * synthetic dumps the nHSIC benches time.
 *
 * @module
 */
import type { Dump, Matrix } from "../lib/dump/mod.ts";

/** The median (NaN for no values). */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** The 1-minute load average, NaN where it cannot be read. */
export function loadAvg(): number {
  try {
    return Deno.loadavg()[0];
  } catch {
    return NaN;
  }
}

/** A number with `digits` decimals, "-" when it is missing or not finite. */
export function fmt(x: number | undefined, digits = 2): string {
  return x !== undefined && Number.isFinite(x) ? x.toFixed(digits) : "-";
}

/**
 * A Markdown table; the first `leftColumns` columns are left-aligned, the others right-aligned.
 *
 * @param head the header cells
 * @param rows the rows (cells already formatted)
 * @param leftColumns how many leading columns hold text
 */
export function table(head: string[], rows: string[][], leftColumns = head.length): string {
  const cells = [head, ...rows];
  const w = head.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const left = (j: number) => j < leftColumns;
  const line = (r: string[], header: boolean) =>
    "| " + r.map((c, j) => (header || left(j) ? c.padEnd(w[j]) : c.padStart(w[j]))).join(" | ") +
    " |";
  return [
    line(head, true),
    "| " + w.map((n, j) => (left(j) ? "-".repeat(n) : "-".repeat(n - 1) + ":")).join(" | ") + " |",
    ...rows.map((r) => line(r, false)),
  ].join("\n");
}

const RUSAGE_SELF = 0, RUSAGE_THREAD = 1;

/** getrusage(who) through libc (Linux), or null where it cannot be called. */
const rusage: (who: number) => BigInt64Array | null = (() => {
  try {
    const libc = Deno.dlopen("libc.so.6", {
      getrusage: { parameters: ["i32", "buffer"], result: "i32" },
    });
    // struct rusage: ru_utime, ru_stime (two 16-byte timevals), then long ru_maxrss (KiB)
    const buf = new BigInt64Array(18);
    return (who: number) => (libc.symbols.getrusage(who, buf) === 0 ? buf : null);
  } catch {
    return () => null;
  }
})();

/**
 * CPU seconds (user + system) of the calling thread. On a machine shared with other jobs the
 * wall time includes waiting for a core and this does not: it approximates the wall time of the
 * same work on an idle machine when that work runs on this thread.
 */
export function threadCpuSeconds(): number {
  const b = rusage(RUSAGE_THREAD);
  return b ? Number(b[0]) + Number(b[1]) / 1e6 + Number(b[2]) + Number(b[3]) / 1e6 : NaN;
}

/**
 * Peak resident memory of this process, MiB: VmHWM from /proc/self/status, else getrusage's
 * ru_maxrss (the same counter on Linux).
 */
export function vmHwmMiB(): number {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
  } catch {
    const b = rusage(RUSAGE_SELF);
    return b ? Number(b[4]) / 1024 : NaN;
  }
}

/**
 * Runs a child process whose last line of output is JSON, and parses it.
 *
 * @throws {Error} with the end of its stderr when it fails
 */
// deno-lint-ignore no-explicit-any -- the child's JSON line: its shape is that child's contract
export async function runJson<T = any>(
  cmd: string,
  args: string[],
  env?: Record<string, string>,
): Promise<T> {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-5).join("\n");
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${err}`);
  }
  return JSON.parse(lines[lines.length - 1]);
}

/** A rows x cols matrix of uniform float32 values from a seeded LCG. */
export function randomMatrix(rows: number, cols: number, seed: number): Matrix {
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
    classes: 10,
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

/**
 * The PyTorch reference of scripts/bench_train.ts and scripts/bench_native.ts: which Python runs
 * it, what its torch is built on, and the environments its children run under.
 *
 * - Interpreter: INFOPLANE_PYTHON when set (and nothing else), otherwise the first of
 *   `python3`, `/usr/bin/python3`, `python` where `-c "import torch, numpy"` works (a pyenv or
 *   venv `python3` first on PATH often lacks torch while the distribution's has it, e.g.
 *   Debian's python3-torch).
 * - Kernels: a torch built on the system OpenBLAS (Debian's: BLAS_INFO=generic, libblas.so.3)
 *   gets OPENBLAS_CORETYPE set to the core type our own OpenBLAS uses (lib/linalg/openblas.ts
 *   chooses it from /proc/cpuinfo: OpenBLAS's own detection reads some virtual CPUs as
 *   "Prescott", ~4.5x slower), unless the user set OPENBLAS_CORETYPE. Harmless for MKL builds.
 * - Threads: torch's OpenMP threads and OpenBLAS's pthreads oversubscribe the cores when both
 *   are at the core count (step times spike to 10x). {@link torchThreadConfigs} lists the two
 *   sensible splits, "omp" (torch threads = cores, OPENBLAS_NUM_THREADS=1) and "blas" (torch
 *   threads = 1, OPENBLAS_NUM_THREADS = cores); the benches take the faster one per figure.
 *
 * @module
 */

import { loadOpenBlas } from "../lib/linalg/mod.ts";
import { cpuFlags, openblasCoreTypeFor, processEnvGet } from "../lib/linalg/mod.ts";

/** What scripts/bench_torch.py --suite info reports. */
export interface TorchInfo {
  torch: string;
  file: string;
  python: string;
  blas_info: string | null;
  mkl: boolean;
  blas_lib: string | null;
  openblas_config: string | null;
  openblas_core: string | null;
  openblas_threads: number | null;
  threads: number;
}

export type TorchProbe =
  | {
    ok: true;
    /** The interpreter as it was found (a command name or a path). */
    python: string;
    info: TorchInfo;
    /** Candidates tried before it, and why they were passed over. */
    tried: string[];
  }
  | { ok: false; reason: string; tried: string[] };

/** One thread configuration of the PyTorch children. */
export interface TorchConfig {
  /** "omp" or "blas" (see the module doc). */
  name: string;
  torchThreads: number;
  /** OPENBLAS_NUM_THREADS in the child. */
  blasThreads: number;
  /** e.g. "torch threads 2, OPENBLAS_NUM_THREADS=1". */
  label: string;
}

/** The OPENBLAS_CORETYPE the PyTorch children run under, and why. */
export interface TorchCoreType {
  value: string | null;
  /** How it was chosen, for the header. */
  note: string;
  /** Variables to add to the children's environment ({} when the user's value stands). */
  env: Record<string, string>;
}

const BENCH_TORCH = new URL("./bench_torch.py", import.meta.url).pathname;

function lastLine(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes).trim().split("\n").pop()?.trim() ?? "";
}

/**
 * The core type for the PyTorch children: the user's OPENBLAS_CORETYPE if set (inherited, not
 * touched), else the one our OpenBLAS runs on (openblas_get_corename), else the one
 * lib/linalg/cpu_features.ts would choose for this CPU.
 */
export function torchCoreType(): TorchCoreType {
  const ob = loadOpenBlas();
  if (ob?.coreType.source === "user") {
    return {
      value: ob.coreType.value,
      note: `OPENBLAS_CORETYPE=${ob.coreType.value} (set by the user)`,
      env: {},
    };
  }
  if (ob) {
    return {
      value: ob.coreName,
      note: `OPENBLAS_CORETYPE=${ob.coreName} (the core our OpenBLAS uses)`,
      env: { OPENBLAS_CORETYPE: ob.coreName },
    };
  }
  const user = processEnvGet("OPENBLAS_CORETYPE");
  if (user) return { value: user, note: `OPENBLAS_CORETYPE=${user} (set by the user)`, env: {} };
  const detected = openblasCoreTypeFor(cpuFlags());
  return detected
    ? {
      value: detected,
      note: `OPENBLAS_CORETYPE=${detected} (from /proc/cpuinfo; our OpenBLAS is not loaded)`,
      env: { OPENBLAS_CORETYPE: detected },
    }
    : { value: null, note: "OPENBLAS_CORETYPE left to OpenBLAS's own detection", env: {} };
}

/**
 * Finds a Python with torch (see the module doc) and asks bench_torch.py --suite info what it
 * is, under `env` (the core type, so that the BLAS it reports is the one the benches use).
 */
export async function findTorch(env: Record<string, string> = {}): Promise<TorchProbe> {
  const forced = processEnvGet("INFOPLANE_PYTHON")?.trim();
  const candidates = forced ? [forced] : ["python3", "/usr/bin/python3", "python"];
  const tried: string[] = [];
  for (const py of candidates) {
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command(py, {
        args: ["-c", "import torch, numpy"],
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch (e) {
      tried.push(
        `${py}: ${e instanceof Deno.errors.NotFound ? "not found" : (e as Error).message}`,
      );
      continue;
    }
    if (!out.success) {
      tried.push(`${py}: ${lastLine(out.stderr) || `exit ${out.code}`}`);
      continue;
    }
    const info = await new Deno.Command(py, {
      args: [BENCH_TORCH, "--suite", "info"],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    try {
      if (!info.success) throw new Error(lastLine(info.stderr) || `exit ${info.code}`);
      return { ok: true, python: py, info: JSON.parse(lastLine(info.stdout)), tried };
    } catch (e) {
      tried.push(`${py}: bench_torch.py --suite info failed: ${(e as Error).message}`);
    }
  }
  const via = forced ? " (INFOPLANE_PYTHON)" : "";
  return { ok: false, reason: `no Python with torch${via}: ${tried.join("; ")}`, tried };
}

/** True when torch runs its matmuls on OpenBLAS (whose threads are then worth splitting). */
export function usesOpenBlas(info: TorchInfo): boolean {
  return info.openblas_config !== null;
}

/** e.g. "1.13.0a0 (Debian, OpenBLAS 0.3.21 SkylakeX)" or "2.3.1 (MKL)". */
export function describeTorch(info: TorchInfo): string {
  const origin = info.file.startsWith("/usr/lib/python3/dist-packages/") ? "Debian, " : "";
  let blas: string;
  if (info.openblas_config) {
    const v = /OpenBLAS\s+([0-9][\w.]*)/.exec(info.openblas_config)?.[1] ?? "";
    blas = `OpenBLAS ${v ? `${v} ` : ""}${info.openblas_core ?? "?"}`;
  } else if (info.mkl || info.blas_info === "mkl") {
    blas = "MKL";
  } else {
    blas = `BLAS ${info.blas_info ?? "unknown"}${info.blas_lib ? ` (${info.blas_lib})` : ""}`;
  }
  return `${info.torch} (${origin}${blas})`;
}

/**
 * The thread configurations to try: "omp" (torch threads = cores, OPENBLAS_NUM_THREADS=1) and,
 * when torch runs on OpenBLAS and there is more than one core, "blas" (torch threads = 1,
 * OPENBLAS_NUM_THREADS = cores). `only` (names, comma-separated) keeps a subset.
 */
export function torchThreadConfigs(info: TorchInfo, cores: number, only?: string): TorchConfig[] {
  const make = (name: string, torchThreads: number, blasThreads: number): TorchConfig => ({
    name,
    torchThreads,
    blasThreads,
    label: `torch threads ${torchThreads}, OPENBLAS_NUM_THREADS=${blasThreads}`,
  });
  const all = [make("omp", cores, 1)];
  if (usesOpenBlas(info) && cores > 1) all.push(make("blas", 1, cores));
  if (!only) return all;
  const names = only.split(",").map((s) => s.trim()).filter((s) => s);
  const bad = names.filter((n) => n !== "omp" && n !== "blas");
  if (bad.length) throw new Error(`unknown torch config ${bad}; configs: omp, blas`);
  const kept = all.filter((c) => names.includes(c.name));
  if (!kept.length) {
    throw new Error(`torch configs ${only}: none applies here (${all.map((c) => c.name)})`);
  }
  return kept;
}

/** The child environment of one configuration on top of `base` (the core type). */
export function torchEnv(base: Record<string, string>, cfg: TorchConfig): Record<string, string> {
  return { ...base, OPENBLAS_NUM_THREADS: String(cfg.blasThreads) };
}

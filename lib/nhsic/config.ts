/** Estimator settings: every result records the full configuration it was computed with. */
import { z } from "zod";

/** How a kernel matrix is centred before the regularised inverse. */
export type Centring = "right" | "both" | "none";

/** Complete estimator configuration (all fields resolved; see docs/metrics.md). */
export interface EstimatorConfig {
  /** Kernel on inputs X and activations T. */
  kernel: "gaussian" | "linear";
  /** Distance inside the Gaussian: squared Euclidean (default) or the plain distance of early code. */
  distance: "squared" | "plain";
  /** Gaussian width, scaled by sqrt(d) (k = exp(-D / (2 sigma^2 d))), or the median heuristic. */
  sigma: number | "median";
  /** Regulariser: the inverse uses eps * m on the diagonal. */
  eps: number;
  /** Centring of the X and T kernels. */
  centring: Centring;
  /** Kernel on one-hot labels. */
  label_kernel: "linear" | "gaussian";
  /** Centring of the label kernel. */
  label_centring: Centring;
  /** Mini-batch size to average over, or null for the exact estimate on all m samples. */
  batch_size: number | null;
}

/** Defaults of the paper's code lineage (PAPER.md, "Normalized HSIC"). */
export const DEFAULT_ESTIMATOR: Readonly<EstimatorConfig> = Object.freeze({
  kernel: "gaussian",
  distance: "squared",
  sigma: 5,
  eps: 1e-5,
  centring: "right",
  label_kernel: "linear",
  label_centring: "none",
  batch_size: null,
});

/** Fills unset fields of a partial configuration with the defaults. */
export function resolveEstimator(partial: Partial<EstimatorConfig> = {}): EstimatorConfig {
  const out = { ...DEFAULT_ESTIMATOR };
  for (const [k, v] of Object.entries(partial)) {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

const centring = z.enum(["right", "both", "none"]);

/**
 * Estimator settings a caller may send (every field optional, unknown fields rejected). Widths
 * and regularisers below 1e-12 are refused: they cannot mean anything in float64 (a kernel of
 * exact zeros off the diagonal, or no regularisation at all).
 */
export const EstimatorSchema = z.object({
  kernel: z.enum(["gaussian", "linear"]).optional().describe("Kernel on X and T."),
  distance: z.enum(["squared", "plain"]).optional().describe(
    "Distance in the Gaussian: squared (default) or the plain distance of early code.",
  ),
  sigma: z.union([z.number().min(1e-12).max(1e12), z.literal("median")]).optional().describe(
    'Gaussian width, scaled by sqrt(d); or "median" for the median heuristic.',
  ),
  eps: z.number().min(1e-12).max(1).optional().describe(
    "Regulariser: eps * m is added to the diagonal.",
  ),
  centring: centring.optional().describe("Centring of X and T kernels."),
  label_kernel: z.enum(["linear", "gaussian"]).optional(),
  label_centring: centring.optional(),
  batch_size: z.number().int().min(4).nullable().optional().describe(
    "Average over consecutive batches of this size (at most m); null = exact on all m.",
  ),
}).strict().describe("Estimator settings (docs/metrics.md)");

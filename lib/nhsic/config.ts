/** Estimator settings: every result records the full configuration it was computed with. */

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

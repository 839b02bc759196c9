/**
 * Layer-differentiation and information-bottleneck summaries of an nHSIC table. Exact
 * definitions (and why they are these) are in docs/metrics.md; keep both in step.
 */

/** One layer's normalised dependence at one checkpoint. */
export interface LayerPoint {
  name: string;
  nhsic_x: number;
  nhsic_y: number;
}

/** Input of {@link summarise}: normalisers and per-checkpoint layer values, sorted by step. */
export interface SummaryInput {
  reference: { nhsic_x_x: number; nhsic_y_y: number };
  checkpoints: Array<{ step: number; layers: LayerPoint[] }>;
}

/** Thresholds of the information-bottleneck verdict. */
export interface IbThresholds {
  /** Minimum compression (in units of nHSIC(X;X)). */
  compression: number;
  /** Minimum label retention (fraction of the layer's own peak). */
  label_retention: number;
}

/** The thresholds: compression >= 0.05 and label retention >= 0.9. */
export const DEFAULT_THRESHOLDS: Readonly<IbThresholds> = Object.freeze({
  compression: 0.05,
  label_retention: 0.9,
});

/** Per-layer dynamics over the checkpoints. */
export interface LayerSummary {
  name: string;
  /** xh_l(T): nHSIC(X;T_l) / nHSIC(X;X) at the last checkpoint. */
  final_x: number;
  /** yh_l(T): nHSIC(Y;T_l) / nHSIC(Y;Y) at the last checkpoint. */
  final_y: number;
  /** max_t xh_l(t). Null without dynamics, as are the fields below. */
  peak_x: number | null;
  /** Step of the first checkpoint where xh_l peaks. */
  peak_step: number | null;
  /** max_t xh_l(t) - xh_l(T). */
  compression: number | null;
  /** yh_l(T) / max_t yh_l(t). */
  label_retention: number | null;
  /** yh_l(T) - yh_l(t_0): label dependence gained over training. */
  fitting: number | null;
  /** compression >= threshold, retention >= threshold and peak before the last checkpoint. */
  follows_ib: boolean | null;
}

/** What {@link summarise} returns. */
export interface Summary {
  /** False with a single checkpoint: only the static depth profile is meaningful. */
  dynamics: boolean;
  note: string | null;
  checkpoints: number;
  first_step: number;
  last_step: number;
  thresholds: IbThresholds;
  layers: LayerSummary[];
  /** Population standard deviation of compression over layers, with its components. */
  differentiation: {
    score: number;
    mean_compression: number;
    components: Array<{ name: string; compression: number }>;
  } | null;
  /** The last layer's information-bottleneck verdict and the numbers behind it. */
  last_layer: {
    name: string;
    follows_ib: boolean | null;
    compression: number | null;
    label_retention: number | null;
    peak_step: number | null;
    final_x: number;
    final_y: number;
  };
  /** Final normalised values by depth (the static profile). */
  depth_profile: Array<{ name: string; x: number; y: number }>;
}

/** Population standard deviation (uniform behaviour scores 0). */
export function populationStd(v: number[]): number {
  if (v.length === 0) return 0;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return Math.sqrt(v.reduce((a, b) => a + (b - mean) * (b - mean), 0) / v.length);
}

/** Computes the summary measures of an nHSIC table (one or more checkpoints). */
export function summarise(
  input: SummaryInput,
  thresholds: IbThresholds = DEFAULT_THRESHOLDS,
): Summary {
  const cps = input.checkpoints;
  if (cps.length === 0) throw new Error("summarise: no checkpoints");
  const { nhsic_x_x: xx, nhsic_y_y: yy } = input.reference;
  const dynamics = cps.length > 1;
  const last = cps.length - 1;

  const layers: LayerSummary[] = cps[0].layers.map((l, li) => {
    const xh = cps.map((cp) => cp.layers[li].nhsic_x / xx);
    const yh = cps.map((cp) => cp.layers[li].nhsic_y / yy);
    const base = { name: l.name, final_x: xh[last], final_y: yh[last] };
    if (!dynamics) {
      return {
        ...base,
        peak_x: null,
        peak_step: null,
        compression: null,
        label_retention: null,
        fitting: null,
        follows_ib: null,
      };
    }
    const peakAt = argmax(xh);
    const peakX = xh[peakAt];
    const peakY = Math.max(...yh);
    const compression = peakX - xh[last];
    const retention = peakY > 0 ? yh[last] / peakY : 0;
    return {
      ...base,
      peak_x: peakX,
      peak_step: cps[peakAt].step,
      compression,
      label_retention: retention,
      fitting: yh[last] - yh[0],
      follows_ib: compression >= thresholds.compression &&
        retention >= thresholds.label_retention && peakAt !== last,
    };
  });

  const comps = layers.map((l) => ({ name: l.name, compression: l.compression ?? 0 }));
  const lastLayer = layers[layers.length - 1];
  return {
    dynamics,
    note: dynamics ? null : "one checkpoint: no dynamics available, only the static depth profile",
    checkpoints: cps.length,
    first_step: cps[0].step,
    last_step: cps[last].step,
    thresholds: { ...thresholds },
    layers,
    differentiation: dynamics
      ? {
        score: populationStd(comps.map((c) => c.compression)),
        mean_compression: comps.reduce((a, c) => a + c.compression, 0) / comps.length,
        components: comps,
      }
      : null,
    last_layer: {
      name: lastLayer.name,
      follows_ib: lastLayer.follows_ib,
      compression: lastLayer.compression,
      label_retention: lastLayer.label_retention,
      peak_step: lastLayer.peak_step,
      final_x: lastLayer.final_x,
      final_y: lastLayer.final_y,
    },
    depth_profile: layers.map((l) => ({ name: l.name, x: l.final_x, y: l.final_y })),
  };
}

/** Index of the first maximum. */
function argmax(v: number[]): number {
  let k = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[k]) k = i;
  return k;
}

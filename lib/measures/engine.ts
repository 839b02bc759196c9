/**
 * Extra measures and similarity maps for a whole dump, computed alongside the nHSIC estimator:
 * measureDump hands every Gram matrix, kernel and NOCCO operator it builds to an observer here,
 * so each layer's Gram (m^2 d) and inverse (m^3) are paid once, whatever is asked; every further
 * measure costs O(m^2) per layer and every similarity pair one O(m^2) product.
 *
 * Memory: a similarity map holds one m x m matrix per requested similarity measure for x and
 * every layer of the current checkpoint; checkpoint-by-checkpoint maps keep those of every
 * checkpoint when that fits `memoryBudget`, and otherwise come from a second, layer-major pass
 * that recomputes the Grams (and the operators for nHSIC).
 *
 * @module
 */
import type { Dump } from "../dump/mod.ts";
import { InputError } from "../errors.ts";
import type { Linalg } from "../linalg/mod.ts";
import type { EstimatorConfig } from "../nhsic/mod.ts";
import { gaussianFromGram } from "../nhsic/mod.ts";
import {
  batchRanges,
  type DependenceTable,
  labelSelfAlignment,
  measureDump,
  type MeasureObserver,
  type ObservedMatrix,
  operatorOf,
  rowsAsFloat64,
} from "../nhsic/mod.ts";
import { traceOfProduct } from "../nhsic/mod.ts";
import {
  _binIndices,
  _binnedInformation,
  _Centred,
  _centred,
  _centredSelfNorm,
  _Debiased,
  _debiased,
  _debiasedCka,
  _dot,
  _hsicUnbiasedParts,
  _hsicUnbiasedWithLabels,
  _kdeBounds,
  _labelAlignment,
  _labelDebiased,
  _rowSymbols,
  _safeRatio,
} from "./_stats.ts";
import { valueRange } from "./information.ts";
import {
  type AnalysisRequest,
  measureField,
  type MeasureName,
  type SimilarityName,
} from "./request.ts";

/** A layer-by-layer similarity map at one checkpoint. */
export interface SimilarityMap {
  /** The checkpoint's step. */
  step: number;
  /** The checkpoint's name when the dump named it (e.g. "epoch1"). */
  name?: string;
  /** The similarity measure. */
  measure: SimilarityName;
  /** Row and column names: "x", then the layers in depth order (the last is the output). */
  layers: string[];
  /** Symmetric (L+1) x (L+1) matrix, rows and columns in `layers` order. */
  matrix: number[][];
}

/** A checkpoint-by-checkpoint similarity map of one layer. */
export interface CheckpointSimilarity {
  /** The layer. */
  layer: string;
  /** The similarity measure. */
  measure: SimilarityName;
  /** The checkpoints' steps, rows and columns in this order. */
  steps: number[];
  /** Checkpoint names when the dump named them. */
  names?: string[];
  /** Symmetric C x C matrix. */
  matrix: number[][];
}

/** What {@link measureWithExtras} returns. */
export interface ExtrasTable {
  /** nHSIC and linear CKA, as measureDump returns them. */
  table: DependenceTable;
  /** Per checkpoint, per layer: `<field>_x` and `<field>_y` of every extra measure. */
  layers: Array<Array<Record<string, number>>>;
  /** Layer-by-layer maps, checkpoint by checkpoint. */
  similarity: SimilarityMap[];
  /** Checkpoint-by-checkpoint maps, layer by layer (empty for one checkpoint). */
  checkpoint_similarity: CheckpointSimilarity[];
}

/** Options of {@link measureWithExtras}. */
export interface ExtrasOptions {
  /** Linear-algebra backend. */
  linalg: Linalg;
  /** Called with (done, total) units of work. */
  onProgress?: (done: number, total: number) => void;
  /** Bytes the checkpoint-by-checkpoint maps may keep between passes (default 1 GiB). */
  memoryBudget?: number;
}

/** Largest working set a similarity map may need before it is refused as too large. */
const MAP_LIMIT_BYTES = 6 * 2 ** 30;

/** Measures computed here (nhsic and cka_linear come from measureDump itself). */
const EXTRA: ReadonlySet<MeasureName> = new Set([
  "hsic",
  "cka_gaussian",
  "cka_debiased",
  "mi_binning",
  "mi_kde",
]);

/** What a similarity map keeps of one representation. */
type Rep = Partial<{
  cka_linear: _Centred;
  cka_gaussian: _Centred;
  hsic: _Centred;
  cka_debiased: _Debiased;
  nhsic: Float64Array;
}>;

/**
 * Lazily derived statistics of one observed matrix, shared by the measures and the maps that
 * need them (each computed at most once per matrix and batch).
 */
class Views {
  #g?: Float64Array;
  #cg?: _Centred;
  #ck?: _Centred;
  #deb?: _Debiased;

  constructor(readonly v: ObservedMatrix, readonly cfg: EstimatorConfig) {}

  /** Gaussian kernel with the estimator's sigma and distance, whatever the estimator's kernel. */
  gaussian(): Float64Array {
    if (this.#g) return this.#g;
    if (this.cfg.kernel === "gaussian") return this.#g = this.v.kernel;
    const g = this.v.gram.slice(0, this.v.n * this.v.n);
    gaussianFromGram(g, this.v.n, this.v.d, this.cfg.sigma, this.cfg.distance);
    return this.#g = g;
  }
  centredGram(): _Centred {
    return this.#cg ??= _centred(this.v.gram, this.v.n);
  }
  centredGaussian(): _Centred {
    if (this.cfg.kernel === "gaussian") return this.centredKernel();
    return this.#ck ??= _centred(this.gaussian(), this.v.n);
  }
  /** H K H of the estimator's kernel (linear: the centred Gram). */
  centredKernel(): _Centred {
    if (this.cfg.kernel === "linear") return this.centredGram();
    return this.#ck ??= _centred(this.v.kernel, this.v.n);
  }
  debiased(): _Debiased {
    return this.#deb ??= _debiased(this.v.gram, this.v.n);
  }

  rep(measures: readonly SimilarityName[]): Rep {
    const r: Rep = {};
    for (const s of measures) {
      if (s === "cka_linear") r.cka_linear = this.centredGram();
      else if (s === "cka_gaussian") r.cka_gaussian = this.centredGaussian();
      else if (s === "hsic") r.hsic = this.centredKernel();
      else if (s === "cka_debiased") r.cka_debiased = this.debiased();
      else r.nhsic = this.v.operator.slice(0, this.v.n * this.v.n);
    }
    return r;
  }
}

/** The value of similarity measure `s` between two representations of one batch of n. */
function pair(s: SimilarityName, a: Rep, b: Rep, n: number): number {
  switch (s) {
    case "cka_linear":
    case "cka_gaussian": {
      const p = a[s]!, q = b[s]!;
      return _safeRatio(_dot(p.kc, q.kc), Math.sqrt(p.self * q.self));
    }
    case "hsic":
      return _dot(a.hsic!.kc, b.hsic!.kc) / ((n - 1) * (n - 1));
    case "cka_debiased": {
      const p = a.cka_debiased!, q = b.cka_debiased!;
      return _debiasedCka(_hsicUnbiasedParts(p, q, n), p.self, q.self);
    }
    case "nhsic":
      return traceOfProduct(a.nhsic!, b.nhsic!, n);
  }
}

/** Adds the symmetric matrix of pairwise values of `reps` into `sum` (k x k, row-major). */
function accumulatePairs(
  s: SimilarityName,
  reps: Rep[],
  n: number,
  sum: Float64Array,
): void {
  const k = reps.length;
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      const v = pair(s, reps[i], reps[j], n);
      sum[i * k + j] += v;
      if (j !== i) sum[j * k + i] += v;
    }
  }
}

function toRows(sum: Float64Array, k: number, batches: number): number[][] {
  return Array.from(
    { length: k },
    (_, i) => Array.from(sum.subarray(i * k, i * k + k), (v) => v / batches),
  );
}

/** Distinct m x m matrices one representation keeps for the requested maps. */
function matricesPerRep(sim: readonly SimilarityName[], cfg: EstimatorConfig): number {
  const kinds = new Set(sim.map((s) => {
    if (s === "hsic") return cfg.kernel === "linear" ? "cka_linear" : "cka_gaussian";
    if (s === "cka_gaussian" && cfg.kernel === "gaussian") return "cka_gaussian";
    return s;
  }));
  return kinds.size;
}

/**
 * Runs the nHSIC estimator over a dump and, from the matrices it builds, the extra measures and
 * similarity maps a request asks for. With nothing extra asked this is exactly measureDump.
 *
 * @param dump The validated dump.
 * @param cfg Estimator settings (also the kernels of hsic, cka_gaussian and the nhsic maps).
 * @param req Measures, their options and the similarity maps.
 * @param opts Backend, progress and the memory budget of checkpoint maps.
 * @returns The nHSIC table, the extra per-layer values and the maps.
 * @throws {InputError} `too-large` when one map's working set would exceed 6 GiB.
 */
export function measureWithExtras(
  dump: Dump,
  cfg: EstimatorConfig,
  req: Pick<AnalysisRequest, "measures" | "measure_options" | "similarity">,
  opts: ExtrasOptions,
): ExtrasTable {
  const extra = req.measures.filter((m) => EXTRA.has(m));
  const sim = req.similarity;
  const C = dump.checkpoints.length, L = dump.checkpoints[0].layers.length;
  const ranges = batchRanges(dump.x.rows, cfg.batch_size);
  const nMax = Math.max(...ranges.map(([s, e]) => e - s));
  const perRep = matricesPerRep(sim, cfg) * nMax * nMax * 8;
  if (sim.length > 0 && perRep * (L + 1) > MAP_LIMIT_BYTES) {
    throw new InputError(
      "too-large",
      `similarity: ${sim.length} map(s) over ${L + 1} representations of ${nMax} samples need ` +
        `about ${Math.ceil((perRep * (L + 1)) / 2 ** 30)} GiB; set estimator.batch_size (e.g. ` +
        `512) or ask for fewer measures`,
      "similarity",
    );
  }
  const wantCheckpointMaps = sim.length > 0 && C > 1;
  const retain = wantCheckpointMaps &&
    perRep * C * L <= (opts.memoryBudget ?? 2 ** 30);
  const secondPass = wantCheckpointMaps && !retain;

  const c = dump.classes;
  const bins = req.measure_options.bins, s2 = req.measure_options.noise_variance;
  // Binning ranges are per layer, over all checkpoints, so bins stay fixed through training.
  const binRange = extra.includes("mi_binning")
    ? dump.checkpoints[0].layers.map((_, li) => {
      let lo = Infinity, hi = -Infinity;
      for (const cp of dump.checkpoints) {
        const [a, b] = valueRange(cp.layers[li].values);
        lo = Math.min(lo, a);
        hi = Math.max(hi, b);
      }
      return [lo, hi] as [number, number];
    })
    : [];

  const sums = dump.checkpoints.map((cp) =>
    cp.layers.map(() => Object.fromEntries(extra.flatMap((m) => [[`${m}_x`, 0], [`${m}_y`, 0]])))
  );
  const mapSums = dump.checkpoints.map(() => sim.map(() => new Float64Array((L + 1) * (L + 1))));
  const cpSums = Array.from({ length: L }, () => sim.map(() => new Float64Array(C * C)));

  // Per-batch state.
  let n = 0, labels: Int32Array = new Int32Array(0);
  let x: Views | null = null;
  let xRep: Rep = {};
  let current: Rep[] = [];
  let retained: Rep[][] = [];
  const xs: {
    kernelC?: _Centred;
    labelC?: _Centred;
    gaussC?: _Centred;
    ySelf?: number;
    deb?: _Debiased;
    labDeb?: ReturnType<typeof _labelDebiased>;
    sym?: { ids: Int32Array; count: number };
  } = {};

  const observer: MeasureObserver = {
    batch(_i, s, e) {
      n = e - s;
      labels = dump.labels.subarray(s, e);
      retained = retain ? dump.checkpoints.map(() => []) : [];
    },
    input(v) {
      x = new Views(v, cfg);
      for (const k of Object.keys(xs)) delete xs[k as keyof typeof xs];
      if (extra.includes("hsic")) {
        xs.kernelC = x.centredKernel();
        xs.labelC = _centred(labelKernel(labels, c, cfg), n);
      }
      if (extra.includes("cka_gaussian")) {
        xs.gaussC = x.centredGaussian();
        xs.ySelf = labelSelfAlignment(labels, c);
      }
      if (extra.includes("cka_debiased")) {
        xs.deb = x.debiased();
        xs.labDeb = _labelDebiased(labels, c);
      }
      if (extra.includes("mi_binning")) xs.sym = _rowSymbols(v.features, n, v.d);
      xRep = x.rep(sim);
    },
    layer(ci, li, v) {
      const t = new Views(v, cfg);
      const acc = sums[ci][li];
      for (const m of extra) {
        let vx = 0, vy = 0;
        if (m === "hsic") {
          const den = (n - 1) * (n - 1);
          vx = _dot(xs.kernelC!.kc, v.kernel, n * n) / den;
          vy = _dot(xs.labelC!.kc, v.kernel, n * n) / den;
        } else if (m === "cka_gaussian") {
          const k = t.gaussian();
          const self = _centredSelfNorm(k, n);
          vx = _safeRatio(_dot(xs.gaussC!.kc, k, n * n), Math.sqrt(xs.gaussC!.self * self));
          vy = _safeRatio(_labelAlignment(k, n, labels, c), Math.sqrt(xs.ySelf! * self));
        } else if (m === "cka_debiased") {
          const d = t.debiased();
          vx = _debiasedCka(_hsicUnbiasedParts(xs.deb!, d, n), xs.deb!.self, d.self);
          vy = _debiasedCka(
            _hsicUnbiasedWithLabels(d, xs.labDeb!, labels),
            xs.labDeb!.self,
            d.self,
          );
        } else if (m === "mi_kde") {
          const b = _kdeBounds(v.gram, n, labels, c, s2);
          vx = b.x / Math.LN2;
          vy = b.y / Math.LN2;
        } else if (m === "mi_binning") {
          const [lo, hi] = binRange[li];
          const b = _binnedInformation(
            _binIndices(v.features, n * v.d, lo, hi, bins),
            n,
            v.d,
            xs.sym!,
            labels,
            c,
          );
          vx = b.x;
          vy = b.y;
        }
        acc[`${m}_x`] += vx;
        acc[`${m}_y`] += vy;
      }
      if (sim.length === 0) return;
      const rep = t.rep(sim);
      current[li] = rep;
      if (retain) retained[ci][li] = rep;
      if (li === L - 1) {
        const reps = [xRep, ...current];
        sim.forEach((s, k) => accumulatePairs(s, reps, n, mapSums[ci][k]));
        current = [];
      }
    },
    batchEnd() {
      if (retain) {
        for (let li = 0; li < L; li++) {
          const reps = retained.map((r) => r[li]);
          sim.forEach((s, k) => accumulatePairs(s, reps, n, cpSums[li][k]));
        }
      }
      retained = [];
      xRep = {};
      x = null;
    },
  };

  const layerUnits = ranges.length * C * L;
  const firstTotal = ranges.length * (C * L + 2);
  const total = firstTotal + (secondPass ? layerUnits : 0);
  const table = measureDump(dump, cfg, {
    linalg: opts.linalg,
    onProgress: opts.onProgress ? (d) => opts.onProgress!(d, total) : undefined,
    observer: extra.length > 0 || sim.length > 0 ? observer : undefined,
  });
  if (secondPass) {
    let done = firstTotal;
    checkpointMapsLayerMajor(dump, cfg, sim, opts.linalg, cpSums, () => {
      opts.onProgress?.(++done, total);
    });
  }

  const b = ranges.length;
  const names = dump.checkpoints.some((cp) => cp.name !== undefined)
    ? dump.checkpoints.map((cp) => cp.name ?? String(cp.step))
    : undefined;
  const layerNames = dump.checkpoints[0].layers.map((l) => l.name);
  return {
    table,
    layers: sums.map((cp) =>
      cp.map((acc) =>
        Object.fromEntries(
          extra.flatMap((m) => {
            const f = measureField(m);
            return [[`${f}_x`, acc[`${m}_x`] / b], [`${f}_y`, acc[`${m}_y`] / b]];
          }),
        )
      )
    ),
    similarity: dump.checkpoints.flatMap((cp, ci) =>
      sim.map((s, k) => ({
        step: cp.step,
        ...(cp.name !== undefined ? { name: cp.name } : {}),
        measure: s,
        layers: ["x", ...layerNames],
        matrix: toRows(mapSums[ci][k], L + 1, b),
      }))
    ),
    checkpoint_similarity: wantCheckpointMaps
      ? layerNames.flatMap((layer, li) =>
        sim.map((s, k) => ({
          layer,
          measure: s,
          steps: dump.checkpoints.map((cp) => cp.step),
          ...(names ? { names } : {}),
          matrix: toRows(cpSums[li][k], C, b),
        }))
      )
      : [],
  };
}

/** The estimator's label kernel on one-hot rows: Y Y^T, or the Gaussian of the one-hot rows. */
function labelKernel(labels: Int32Array, c: number, cfg: EstimatorConfig): Float64Array {
  const n = labels.length;
  const k = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) k[i * n + j] = labels[i] === labels[j] ? 1 : 0;
  }
  if (cfg.label_kernel === "gaussian") {
    // The Gram of one-hot rows is Y Y^T itself.
    gaussianFromGram(k, n, c, cfg.sigma, cfg.distance);
  }
  return k;
}

/**
 * Checkpoint-by-checkpoint maps in a second pass, one layer at a time: each representation's
 * Gram (and operator, for nHSIC) is recomputed, so at most one layer's checkpoints are held.
 */
function checkpointMapsLayerMajor(
  dump: Dump,
  cfg: EstimatorConfig,
  sim: readonly SimilarityName[],
  la: Linalg,
  cpSums: Float64Array[][],
  tick: () => void,
): void {
  const ranges = batchRanges(dump.x.rows, cfg.batch_size);
  const nMax = Math.max(...ranges.map(([s, e]) => e - s));
  const dMax = Math.max(...dump.checkpoints.flatMap((cp) => cp.layers.map((l) => l.values.cols)));
  const fBuf = new Float64Array(nMax * dMax);
  const gBuf = new Float64Array(nMax * nMax);
  const scratch = { gram: new Float64Array(nMax * nMax), kernel: new Float64Array(nMax * nMax) };
  const needOperator = sim.includes("nhsic");
  const L = dump.checkpoints[0].layers.length;
  for (const [s, e] of ranges) {
    const n = e - s;
    for (let li = 0; li < L; li++) {
      const reps = dump.checkpoints.map((cp) => {
        const layer = cp.layers[li].values;
        const f = rowsAsFloat64(layer, s, e, fBuf);
        let rep: Rep = {};
        const see = (v: ObservedMatrix) => {
          rep = new Views(v, cfg).rep(sim);
        };
        if (needOperator) {
          operatorOf(f, n, layer.cols, cfg, la, gBuf, () => {}, see, scratch);
        } else {
          const g = la.gram(f, n, layer.cols, gBuf);
          let kernel = g;
          if (cfg.kernel === "gaussian" && (sim.includes("hsic") || sim.includes("cka_gaussian"))) {
            kernel = scratch.kernel.subarray(0, n * n);
            kernel.set(g.subarray(0, n * n));
            gaussianFromGram(kernel, n, layer.cols, cfg.sigma, cfg.distance);
          }
          see({ features: f, n, d: layer.cols, gram: g, kernel, operator: new Float64Array(0) });
        }
        tick();
        return rep;
      });
      sim.forEach((sname, k) => accumulatePairs(sname, reps, n, cpSums[li][k]));
    }
  }
}

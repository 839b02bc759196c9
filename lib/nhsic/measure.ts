/**
 * nHSIC of every layer of a dump against the inputs and the labels. The operators R_X and R_Y
 * are built once per batch and shared by every layer and checkpoint; each layer then costs one
 * Gram matrix, one regularised inverse and an O(m^2) trace.
 */
import type { Dump, Matrix } from "../dump/types.ts";
import type { Linalg } from "../linalg/types.ts";
import type { EstimatorConfig } from "./config.ts";
import { gaussianFromGram } from "./kernels.ts";
import { noccoFromFeatures, noccoFromKernel, traceOfProduct } from "./nocco.ts";
import { centredAlignment, type CentredStats, centredStats } from "./hsic.ts";

/** Dependence of one layer on the inputs and the labels (averaged over batches). */
export interface LayerDependence {
  name: string;
  /** nHSIC(X; T_l). */
  nhsic_x: number;
  /** nHSIC(Y; T_l). */
  nhsic_y: number;
  /** Linear CKA between X and T_l (bounded in [0, 1]; a familiar cross-check). */
  cka_x: number;
  /** Linear CKA between one-hot Y and T_l. */
  cka_y: number;
}

/** What {@link measureDump} returns. */
export interface DependenceTable {
  /** Samples in the dump. */
  m: number;
  /** Number of batches averaged over (1 for the exact estimate). */
  batches: number;
  /** Samples that entered the estimate (a trailing partial batch of fewer than 4 is dropped). */
  samples_used: number;
  reference: { nhsic_x_x: number; nhsic_y_y: number };
  checkpoints: Array<{ step: number; layers: LayerDependence[] }>;
}

/** Options of {@link measureDump}. */
export interface MeasureOptions {
  linalg: Linalg;
  /** Called after each layer of each batch with (done, total) units of work. */
  onProgress?: (done: number, total: number) => void;
}

/** Smallest batch that still gives a meaningful estimate. */
export const MIN_SAMPLES = 4;

/** Consecutive [start, end) sample ranges of the configured batch size. */
export function batchRanges(m: number, batchSize: number | null): Array<[number, number]> {
  if (batchSize === null || batchSize >= m) return [[0, m]];
  const out: Array<[number, number]> = [];
  for (let s = 0; s < m; s += batchSize) {
    const e = Math.min(s + batchSize, m);
    if (e - s >= MIN_SAMPLES) out.push([s, e]);
  }
  return out;
}

/** Rows [start, end) of a matrix as a fresh float64 array. */
export function rowsAsFloat64(a: Matrix, start: number, end: number): Float64Array {
  const out = new Float64Array((end - start) * a.cols);
  out.set(a.data.subarray(start * a.cols, end * a.cols));
  return out;
}

/** One-hot float64 matrix (n x c) of class indices [start, end). */
function oneHot(labels: Int32Array, c: number, start: number, end: number): Float64Array {
  const out = new Float64Array((end - start) * c);
  for (let i = start; i < end; i++) out[(i - start) * c + labels[i]] = 1;
  return out;
}

/**
 * R of a data matrix (n x d) under the X/T kernel settings. `inspect` sees the linear Gram
 * matrix A A^T and its centred statistics before the matrix is overwritten by the kernel.
 */
function operatorOf(
  f: Float64Array,
  n: number,
  d: number,
  cfg: EstimatorConfig,
  la: Linalg,
  inspect: (gram: Float64Array, stats: CentredStats) => void,
): Float64Array {
  const g = la.gram(f, n, d);
  inspect(g, centredStats(g, n));
  if (cfg.kernel === "linear" && d < n) {
    return noccoFromFeatures(f, n, d, cfg.eps, cfg.centring, la);
  }
  if (cfg.kernel === "gaussian") gaussianFromGram(g, n, d, cfg.sigma, cfg.distance);
  return noccoFromKernel(g, n, cfg.eps, cfg.centring, la);
}

/** R of the one-hot labels (n x c) under the label kernel settings. */
function labelOperator(y: Float64Array, n: number, c: number, cfg: EstimatorConfig, la: Linalg) {
  if (cfg.label_kernel === "linear") {
    return noccoFromFeatures(y, n, c, cfg.eps, cfg.label_centring, la);
  }
  const g = la.gram(y, n, c);
  gaussianFromGram(g, n, c, cfg.sigma, cfg.distance);
  return noccoFromKernel(g, n, cfg.eps, cfg.label_centring, la);
}

/** Linear-CKA ingredients of the labels: column-centred one-hot matrix and ||H Y Y^T H||_F^2. */
function labelAlignment(y: Float64Array, n: number, c: number) {
  const yc = new Float64Array(n * c);
  const mean = new Float64Array(c);
  for (let i = 0; i < n; i++) for (let a = 0; a < c; a++) mean[a] += y[i * c + a] / n;
  for (let i = 0; i < n; i++) for (let a = 0; a < c; a++) yc[i * c + a] = y[i * c + a] - mean[a];
  // ||Yc Yc^T||_F^2 = ||Yc^T Yc||_F^2, a c x c product.
  let self = 0;
  for (let a = 0; a < c; a++) {
    for (let b = 0; b < c; b++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += yc[i * c + a] * yc[i * c + b];
      self += s * s;
    }
  }
  return { yc, self };
}

/** tr(Yc^T G Yc) = <H Y Y^T H, G>_F for symmetric G, in O(n^2 c). */
function labelGramAlignment(g: Float64Array, yc: Float64Array, n: number, c: number): number {
  const gy = new Float64Array(c);
  let s = 0;
  for (let i = 0; i < n; i++) {
    gy.fill(0);
    const row = i * n;
    for (let j = 0; j < n; j++) {
      const gij = g[row + j];
      for (let a = 0; a < c; a++) gy[a] += gij * yc[j * c + a];
    }
    for (let a = 0; a < c; a++) s += yc[i * c + a] * gy[a];
  }
  return s;
}

/** Computes nHSIC(X;T), nHSIC(Y;T) and linear CKA for every layer and checkpoint of a dump. */
export function measureDump(
  dump: Dump,
  cfg: EstimatorConfig,
  opts: MeasureOptions,
): DependenceTable {
  const la = opts.linalg;
  const m = dump.x.rows, c = dump.numClasses;
  const ranges = batchRanges(m, cfg.batch_size);
  const layerCount = dump.checkpoints.reduce((s, cp) => s + cp.layers.length, 0);
  const total = ranges.length * (layerCount + 2);
  let done = 0;
  const tick = () => opts.onProgress?.(++done, total);

  const sums = dump.checkpoints.map((cp) => cp.layers.map(() => ({ nx: 0, ny: 0, cx: 0, cy: 0 })));
  let xx = 0, yy = 0;
  for (const [s, e] of ranges) {
    const n = e - s;
    const xf = rowsAsFloat64(dump.x, s, e);
    let xGram = new Float64Array(0);
    let xStats!: CentredStats;
    const rx = operatorOf(xf, n, dump.x.cols, cfg, la, (g, st) => {
      xGram = g.slice();
      xStats = st;
    });
    tick();
    const yf = oneHot(dump.labels, c, s, e);
    const ry = labelOperator(yf, n, c, cfg, la);
    const ya = labelAlignment(yf, n, c);
    tick();
    xx += traceOfProduct(rx, rx, n);
    yy += traceOfProduct(ry, ry, n);
    dump.checkpoints.forEach((cp, ci) => {
      cp.layers.forEach((layer, li) => {
        const tf = rowsAsFloat64(layer.values, s, e);
        const acc = sums[ci][li];
        const rt = operatorOf(tf, n, layer.values.cols, cfg, la, (g, st) => {
          const norm = Math.sqrt(xStats.selfAlignment * st.selfAlignment);
          acc.cx += safeRatio(centredAlignment(xGram, xStats, g, n), norm);
          acc.cy += safeRatio(
            labelGramAlignment(g, ya.yc, n, c),
            Math.sqrt(ya.self * st.selfAlignment),
          );
        });
        acc.nx += traceOfProduct(rx, rt, n);
        acc.ny += traceOfProduct(ry, rt, n);
        tick();
      });
    });
  }
  const b = ranges.length;
  return {
    m,
    batches: b,
    samples_used: ranges.reduce((t, [s, e]) => t + e - s, 0),
    reference: { nhsic_x_x: xx / b, nhsic_y_y: yy / b },
    checkpoints: dump.checkpoints.map((cp, ci) => ({
      step: cp.step,
      layers: cp.layers.map((l, li) => {
        const a = sums[ci][li];
        return {
          name: l.name,
          nhsic_x: a.nx / b,
          nhsic_y: a.ny / b,
          cka_x: a.cx / b,
          cka_y: a.cy / b,
        };
      }),
    })),
  };
}

/** num / den, or 0 when the denominator vanishes (a constant representation carries nothing). */
function safeRatio(num: number, den: number): number {
  return den > 0 && Number.isFinite(den) ? num / den : 0;
}

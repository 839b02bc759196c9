/**
 * nHSIC of every layer of a dump against the inputs and the labels. The operators R_X and R_Y
 * are built once per batch and shared by every layer and checkpoint; each layer then costs one
 * Gram matrix, one regularised inverse and an O(m^2) trace.
 */
import { InputError } from "../errors.ts";
import type { Dump, Matrix } from "../dump/mod.ts";
import { MIN_SAMPLES } from "../dump/mod.ts";
import type { Linalg } from "../linalg/mod.ts";
import type { EstimatorConfig } from "./config.ts";
import { centreBoth, gaussianFromGram, transposeInPlace } from "./kernels.ts";
import { noccoFromFeatures, noccoFromKernel, traceOfProduct } from "./nocco.ts";

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

/**
 * What measureDump shows an observer of one matrix (X or a layer) in one batch. Every array is a
 * transient view into a workspace that is overwritten afterwards: copy what you keep.
 */
export interface ObservedMatrix {
  /** Rows [start, end) of the batch as float64, n x d. */
  features: Float64Array;
  n: number;
  d: number;
  /** Linear Gram matrix A A^T (n x n), before any kernel is applied. */
  gram: Float64Array;
  /** The estimator's kernel matrix K (n x n): the Gaussian of the Gram, or the Gram itself. */
  kernel: Float64Array;
  /** R = K_c (K_c + eps n I)^-1 (n x n, row-major, not transposed). */
  operator: Float64Array;
}

/**
 * Hooks through which other measures reuse the Gram matrices, kernels and NOCCO operators that
 * measureDump computes anyway (lib/measures). Absent hooks cost nothing and change nothing.
 */
export interface MeasureObserver {
  /** A batch [start, end) begins (index in batch order). */
  batch?(index: number, start: number, end: number): void;
  /** The inputs X of the current batch. */
  input?(x: ObservedMatrix): void;
  /** Layer `li` of checkpoint `ci` in the current batch. */
  layer?(ci: number, li: number, t: ObservedMatrix): void;
  /** The current batch is finished. */
  batchEnd?(index: number): void;
}

/** Options of {@link measureDump}. */
export interface MeasureOptions {
  linalg: Linalg;
  /** Called after each layer of each batch with (done, total) units of work. */
  onProgress?: (done: number, total: number) => void;
  /** Sees every Gram, kernel and operator as it is computed (see {@link MeasureObserver}). */
  observer?: MeasureObserver;
}

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

/** Rows [start, end) of a matrix as float64, into `out` when given (reused across layers). */
export function rowsAsFloat64(
  a: Matrix,
  start: number,
  end: number,
  out?: Float64Array,
): Float64Array {
  const n = (end - start) * a.cols;
  const dst = out ? out.subarray(0, n) : new Float64Array(n);
  const src = a.data, off = start * a.cols;
  // A plain loop: TypedArray.set across element types is several times slower in V8.
  for (let i = 0; i < n; i++) dst[i] = src[off + i];
  return dst;
}

/** One-hot float64 matrix (n x c) of class indices [start, end). */
export function oneHot(labels: Int32Array, c: number, start: number, end: number): Float64Array {
  const out = new Float64Array((end - start) * c);
  for (let i = start; i < end; i++) out[(i - start) * c + labels[i]] = 1;
  return out;
}

/**
 * R of a data matrix (n x d) under the X/T kernel settings, written into `g`, which first
 * receives the linear Gram matrix A A^T; `inspect` sees that Gram matrix before the kernel
 * overwrites it. The low-rank path for linear kernels returns a new array instead. With
 * `observe`, the Gram and kernel are kept in scratch copies long enough to show them with R.
 */
export function operatorOf(
  f: Float64Array,
  n: number,
  d: number,
  cfg: EstimatorConfig,
  la: Linalg,
  g: Float64Array,
  inspect: (gram: Float64Array) => void,
  observe?: (m: ObservedMatrix) => void,
  scratch?: { gram: Float64Array; kernel: Float64Array },
): Float64Array {
  la.gram(f, n, d, g);
  inspect(g);
  const nn = n * n;
  let gram = g, kernel = g;
  if (observe) {
    gram = scratch!.gram.subarray(0, nn);
    gram.set(g.subarray(0, nn));
  }
  if (cfg.kernel === "linear" && d < n) {
    const r = noccoFromFeatures(f, n, d, cfg.eps, cfg.centring, la);
    observe?.({ features: f, n, d, gram, kernel: gram, operator: r });
    return r;
  }
  if (cfg.kernel === "gaussian") gaussianFromGram(g, n, d, cfg.sigma, cfg.distance);
  if (observe) {
    kernel = cfg.kernel === "gaussian" ? scratch!.kernel.subarray(0, nn) : gram;
    if (kernel !== gram) kernel.set(g.subarray(0, nn));
  }
  const r = noccoFromKernel(g, n, cfg.eps, cfg.centring, la);
  observe?.({ features: f, n, d, gram, kernel, operator: r });
  return r;
}

/** R of the one-hot labels (n x c) under the label kernel settings. */
export function labelOperator(
  y: Float64Array,
  n: number,
  c: number,
  cfg: EstimatorConfig,
  la: Linalg,
) {
  if (cfg.label_kernel === "linear") {
    return noccoFromFeatures(y, n, c, cfg.eps, cfg.label_centring, la);
  }
  const g = la.gram(y, n, c);
  gaussianFromGram(g, n, c, cfg.sigma, cfg.distance);
  return noccoFromKernel(g, n, cfg.eps, cfg.label_centring, la);
}

/** sum_ij A_ij B_ij. */
export function dot(a: Float64Array, b: Float64Array, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i++) s += a[i] * b[i];
  return s;
}

/** Computes nHSIC(X;T), nHSIC(Y;T) and linear CKA for every layer and checkpoint of a dump. */
export function measureDump(
  dump: Dump,
  cfg: EstimatorConfig,
  opts: MeasureOptions,
): DependenceTable {
  const la = opts.linalg;
  const m = dump.x.rows, c = dump.classes;
  const ranges = batchRanges(m, cfg.batch_size);
  const layerCount = dump.checkpoints.reduce((s, cp) => s + cp.layers.length, 0);
  const total = ranges.length * (layerCount + 2);
  let done = 0;
  const tick = () => opts.onProgress?.(++done, total);

  // Workspaces reused by every layer: a float64 copy of the activations and the m x m matrix.
  const nMax = Math.max(...ranges.map(([s, e]) => e - s));
  const dMax = Math.max(
    dump.x.cols,
    ...dump.checkpoints.flatMap((cp) => cp.layers.map((l) => l.values.cols)),
  );
  const fBuf = new Float64Array(nMax * dMax);
  const gBuf = new Float64Array(nMax * nMax);
  const obs = opts.observer;
  // Only observers need the Gram and the kernel to outlive the in-place operator computation.
  const scratch = obs
    ? { gram: new Float64Array(nMax * nMax), kernel: new Float64Array(nMax * nMax) }
    : undefined;
  const seeInput = obs?.input ? (v: ObservedMatrix) => obs.input!(v) : undefined;

  const sums = dump.checkpoints.map((cp) => cp.layers.map(() => ({ nx: 0, ny: 0, cx: 0, cy: 0 })));
  let xx = 0, yy = 0;
  for (const [bi, [s, e]] of ranges.entries()) {
    const n = e - s, nn = n * n;
    const labels = dump.labels.subarray(s, e);
    obs?.batch?.(bi, s, e);
    // X: H G_X H (for CKA) and R_X^T; Y: R_Y^T. Transposed so that Tr(R_X R_T) = sum R_X^T . R_T.
    let cx = new Float64Array(0);
    const rxT = usable("x", "x", () =>
      operatorOf(
        rowsAsFloat64(dump.x, s, e, fBuf),
        n,
        dump.x.cols,
        cfg,
        la,
        gBuf,
        (g) => {
          cx = g.slice(0, nn);
          centreBoth(cx, n);
        },
        seeInput,
        scratch,
      )).slice(0, nn);
    const xSelf = dot(cx, cx, nn);
    xx += traceOfProduct(rxT, rxT, n);
    transposeInPlace(rxT, n);
    tick();
    const ryT = usable("y", "y", () => labelOperator(oneHot(dump.labels, c, s, e), n, c, cfg, la));
    yy += traceOfProduct(ryT, ryT, n);
    transposeInPlace(ryT, n);
    const ySelf = labelSelfAlignment(labels, c);
    tick();
    dump.checkpoints.forEach((cp, ci) => {
      cp.layers.forEach((layer, li) => {
        const d = layer.values.cols;
        const acc = sums[ci][li];
        const key = dump.checkpoints.length > 1
          ? `${cp.name ?? cp.step}/${layer.name}`
          : layer.name;
        const rt = usable(`layer "${key}"`, key, () =>
          operatorOf(
            rowsAsFloat64(layer.values, s, e, fBuf),
            n,
            d,
            cfg,
            la,
            gBuf,
            (g) => {
              const st = gramAlignments(g, n, cx, labels, c);
              acc.cx += safeRatio(st.withX, Math.sqrt(xSelf * st.self));
              acc.cy += safeRatio(st.withY, Math.sqrt(ySelf * st.self));
            },
            obs?.layer ? (v) => obs.layer!(ci, li, v) : undefined,
            scratch,
          ));
        acc.nx += dot(rxT, rt, nn);
        acc.ny += dot(ryT, rt, nn);
        tick();
      });
    });
    obs?.batchEnd?.(bi);
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

/** ||H Y Y^T H||_F^2 for one-hot labels: ||Yc^T Yc||_F^2 with class counts n_c, mu_c = n_c / n. */
export function labelSelfAlignment(labels: Int32Array, c: number): number {
  const n = labels.length;
  const count = new Float64Array(c);
  for (let i = 0; i < n; i++) count[labels[i]]++;
  // (Yc^T Yc)_ab = n_a [a = b] - n_a n_b / n.
  let s = 0;
  for (let a = 0; a < c; a++) {
    for (let b = 0; b < c; b++) {
      const v = (a === b ? count[a] : 0) - (count[a] * count[b]) / n;
      s += v * v;
    }
  }
  return s;
}

/**
 * One pass over a symmetric linear Gram matrix G for linear CKA: ||HGH||_F^2, <H G_X H, G>_F (cx
 * is H G_X H) and <H Y Y^T H, G>_F, the latter from within-class block sums: with one-hot Y,
 * tr(Yc^T G Yc) = sum_c [B_c - 2 mu_c S_c + mu_c^2 S], B_c the sum of G over class c x class c,
 * S_c the sum of G's rows of class c, S the total.
 */
export function gramAlignments(
  g: Float64Array,
  n: number,
  cx: Float64Array,
  labels: Int32Array,
  c: number,
): { self: number; withX: number; withY: number } {
  const rowSum = new Float64Array(n);
  const block = new Float64Array(c);
  let sq = 0, withX = 0;
  for (let i = 0; i < n; i++) {
    const row = i * n, li = labels[i];
    let rs = 0, within = 0;
    for (let j = 0; j < n; j++) {
      const v = g[row + j];
      rs += v;
      sq += v * v;
      withX += cx[row + j] * v;
      if (labels[j] === li) within += v;
    }
    rowSum[i] = rs;
    block[li] += within;
  }
  let total = 0, rm2 = 0;
  const classRows = new Float64Array(c), count = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    total += rowSum[i];
    rm2 += rowSum[i] * rowSum[i];
    classRows[labels[i]] += rowSum[i];
    count[labels[i]]++;
  }
  // ||HGH||^2 = ||G||^2 - (2/n) sum_i r_i^2 + S^2 / n^2 (r_i row sums).
  const self = sq - (2 / n) * rm2 + (total * total) / (n * n);
  let withY = 0;
  for (let a = 0; a < c; a++) {
    const mu = count[a] / n;
    withY += block[a] - 2 * mu * classRows[a] + mu * mu * total;
  }
  return { self, withX, withY };
}

/** num / den, or 0 when the denominator vanishes (a constant representation carries nothing). */
export function safeRatio(num: number, den: number): number {
  return den > 0 && Number.isFinite(den) ? num / den : 0;
}

/**
 * Runs an operator computation, turning a failed factorisation into the input error it is: the
 * regularised kernel of that array is not positive definite in float64 (near-duplicate samples
 * with a tiny eps, or values at the edge of the range), which says something about the data.
 */
function usable<T>(what: string, field: string, compute: () => T): T {
  try {
    return compute();
  } catch (e) {
    if (!/not positive definite/.test((e as Error)?.message ?? "")) throw e;
    throw new InputError(
      "degenerate-input",
      `${what}: its regularised kernel matrix is not positive definite in float64, so nHSIC ` +
        "cannot be computed; check it for repeated or extreme values, or raise estimator.eps",
      field,
    );
  }
}

/**
 * Robustness sweep: the same dump analysed under every combination of estimator values, so that
 * a conclusion can be checked against the estimator's free choices (PAPER.md: values move with
 * sigma, the distance form, eps and m, and even trends can flip).
 *
 * Work is shared wherever the mathematics allows. Within one batch size, each matrix (X and
 * every layer of every checkpoint) gets one Gram matrix and one distance matrix for all
 * settings; each distinct kernel (kernel, sigma, distance) is built once and serves every eps;
 * linear kernels ignore sigma and the distance form, so settings that differ only there are
 * computed once; linear CKA depends on none of the swept values except the batch size and is
 * computed once per batch size; R_X and R_Y are built once per setting and shared by every
 * layer, as in the single analysis. What remains per setting and layer is one Cholesky inverse
 * (m^3) and O(m^2) passes: each layer's traces come straight from the inverse (R_T is never
 * formed).
 *
 * @module
 */
import type { LayerResult } from "../analysis.ts";
import type { Dump } from "../dump/mod.ts";
import type { Linalg } from "../linalg/mod.ts";
import type { EstimatorConfig } from "../nhsic/mod.ts";
import { centreBoth, transposeInPlace } from "../nhsic/mod.ts";
import {
  batchRanges,
  dot,
  gramAlignments,
  labelOperator,
  labelSelfAlignment,
  oneHot,
  rowsAsFloat64,
  safeRatio,
} from "../nhsic/mod.ts";
import { noccoFromFeatures, noccoFromKernel, traceOfProduct } from "../nhsic/mod.ts";
import { summarise, type Summary } from "../summary.ts";
import { checkSweepSize, type SweepSpec } from "./request.ts";

/** One layer at one checkpoint under one setting (the fields of a plain analysis). */
export type SweepLayer = Pick<
  LayerResult,
  "name" | "nhsic_x" | "nhsic_y" | "nhsic_x_norm" | "nhsic_y_norm" | "cka_x" | "cka_y"
>;

/** The analysis of the dump under one setting of the sweep. */
export interface SweepEntry {
  /** The setting, with the batches and samples it used. */
  estimator: EstimatorConfig & { batches: number; samples_used: number };
  /** nHSIC(X;X) and nHSIC(Y;Y) under the setting. */
  reference: { nhsic_x_x: number; nhsic_y_y: number };
  /** Per checkpoint, the layers' values under the setting. */
  checkpoints: Array<{ step: number; name?: string; layers: SweepLayer[] }>;
  /** The summary under the setting. */
  summary: Summary;
}

/** Options of {@link runSweep}. */
export interface SweepOptions {
  /** Linear-algebra backend. */
  linalg: Linalg;
  /** Called with (done, total) units of work. */
  onProgress?: (done: number, total: number) => void;
  /** Bytes the per-setting operators R_X and R_Y may occupy at once (default 1 GiB). */
  memoryBudget?: number;
}

/**
 * Every combination of a sweep's values over a base configuration, in a fixed order: kernel,
 * then sigma, distance, eps and batch_size (the last varying fastest). Keys the sweep leaves out
 * keep the base's value.
 *
 * @example Usage
 * ```ts
 * import { resolveEstimator } from "../nhsic/mod.ts";
 * import { sweepSettings } from "./mod.ts";
 * sweepSettings(resolveEstimator(), { sigma: [1, 5], eps: [1e-5, 1e-3] }).length; // 4
 * ```
 *
 * @param base The request's estimator.
 * @param spec Lists of values.
 * @returns One complete configuration per setting.
 * @throws {InputError} `invalid-request` (field `sweep`) beyond 64 settings.
 */
export function sweepSettings(base: EstimatorConfig, spec: SweepSpec): EstimatorConfig[] {
  checkSweepSize(spec);
  const uniq = <T>(v: T[] | undefined, own: T): T[] => {
    if (!v) return [own];
    const seen = new Set<string>();
    return v.filter((x) => !seen.has(JSON.stringify(x)) && !!seen.add(JSON.stringify(x)));
  };
  const out: EstimatorConfig[] = [];
  for (const kernel of uniq(spec.kernel, base.kernel)) {
    for (const sigma of uniq(spec.sigma, base.sigma)) {
      for (const distance of uniq(spec.distance, base.distance)) {
        for (const eps of uniq(spec.eps, base.eps)) {
          for (const batch_size of uniq(spec.batch_size, base.batch_size)) {
            out.push({ ...base, kernel, sigma, distance, eps, batch_size });
          }
        }
      }
    }
  }
  return out;
}

/** The kernel a setting builds for X and T (linear kernels ignore sigma and the distance). */
function kernelKey(c: EstimatorConfig): string {
  return c.kernel === "linear" ? "linear" : `gaussian|${c.sigma}|${c.distance}`;
}

/** The label operator a setting needs. */
function labelKey(c: EstimatorConfig): string {
  return c.label_kernel === "linear"
    ? `linear|${c.eps}`
    : `gaussian|${c.sigma}|${c.distance}|${c.eps}`;
}

/** Distinct (R_X, R_Y) pairs (kernel, eps, label operator): one "slot" of per-setting state. */
interface Slot {
  cfg: EstimatorConfig;
  kernel: string;
  labelSlot: number;
}

/**
 * Analyses a dump under every setting of a sweep (see the module doc for what is shared).
 * Each entry equals what a plain analysis with that estimator returns, up to rounding (the
 * traces are summed in another order).
 *
 * @example Usage
 * ```ts ignore
 * const entries = runSweep(dump, resolveEstimator(), { sigma: [1, 5, "median"] }, { linalg });
 * entries.map((e) => e.summary.last_layer.follows_ib);
 * ```
 *
 * @param dump The validated dump.
 * @param base The request's estimator (values the sweep leaves out).
 * @param spec Lists of values.
 * @param opts Backend, progress and the memory budget.
 * @returns One entry per setting, in {@link sweepSettings} order.
 */
export function runSweep(
  dump: Dump,
  base: EstimatorConfig,
  spec: SweepSpec,
  opts: SweepOptions,
): SweepEntry[] {
  const la = opts.linalg;
  const c = dump.classes;
  const L = dump.checkpoints[0].layers.length;
  const { settings, plans, total } = planSweep(dump, base, spec, opts.memoryBudget);
  const entries = new Map<EstimatorConfig, SweepEntry>();
  let done = 0;
  const tick = () => opts.onProgress?.(++done, total);

  for (const plan of plans) {
    const { group, ranges, nMax, slots, labelCfgs, slotOf, chunks } = plan;
    const dMax = Math.max(
      dump.x.cols,
      ...dump.checkpoints.flatMap((cp) => cp.layers.map((l) => l.values.cols)),
    );
    const fBuf = new Float64Array(nMax * dMax);
    const gBuf = new Float64Array(nMax * nMax);
    const work = new Workspace(nMax);

    const nx = slots.map(() => dump.checkpoints.map(() => new Float64Array(L)));
    const ny = slots.map(() => dump.checkpoints.map(() => new Float64Array(L)));
    const xx = new Float64Array(slots.length);
    const yy = new Float64Array(labelCfgs.length);
    const cx = dump.checkpoints.map(() => new Float64Array(L));
    const cy = dump.checkpoints.map(() => new Float64Array(L));

    // Label operators recomputed by a later chunk must not count twice in nHSIC(Y;Y).
    const labelCounted = new Set<number>();
    chunks.forEach((chunk, chunkIndex) => {
      const kernels = [...new Set(chunk.map((i) => slots[i].kernel))];
      const labelsNeeded = [...new Set(chunk.map((i) => slots[i].labelSlot))];
      const countLabels = labelsNeeded.filter((li) => !labelCounted.has(li));
      countLabels.forEach((li) => labelCounted.add(li));
      for (const [s, e] of ranges) {
        const n = e - s, nn = n * n;
        const labels = dump.labels.subarray(s, e);
        // X: Gram once, then every kernel of the chunk and every eps of each kernel.
        const fx = rowsAsFloat64(dump.x, s, e, fBuf);
        la.gram(fx, n, dump.x.cols, gBuf);
        const cxMat = gBuf.slice(0, nn);
        centreBoth(cxMat, n);
        const xSelf = dot(cxMat, cxMat, nn);
        work.setGram(gBuf, n);
        const rxT = new Map<number, Float64Array>();
        for (const key of kernels) {
          const kx = work.kernel(
            key,
            slots[chunk.find((i) => slots[i].kernel === key)!].cfg,
            dump.x.cols,
          );
          for (const i of chunk) {
            if (slots[i].kernel !== key) continue;
            const cfg = slots[i].cfg;
            const r = cfg.kernel === "linear" && dump.x.cols < n
              ? noccoFromFeatures(fx, n, dump.x.cols, cfg.eps, cfg.centring, la)
              : noccoFromKernel(kx.slice(0, nn), n, cfg.eps, cfg.centring, la);
            xx[i] += traceOfProduct(r, r, n);
            transposeInPlace(r, n);
            rxT.set(i, r);
          }
        }
        const ryT = new Map<number, Float64Array>();
        const y1 = oneHot(dump.labels, c, s, e);
        for (const li of labelsNeeded) {
          const r = labelOperator(y1, n, c, labelCfgs[li], la);
          if (countLabels.includes(li)) yy[li] += traceOfProduct(r, r, n);
          transposeInPlace(r, n);
          ryT.set(li, r);
        }
        const ySelf = labelSelfAlignment(labels, c);
        tick();

        dump.checkpoints.forEach((cp, ci) => {
          cp.layers.forEach((layer, li) => {
            const d = layer.values.cols;
            const f = rowsAsFloat64(layer.values, s, e, fBuf);
            la.gram(f, n, d, gBuf);
            if (chunkIndex === 0) {
              const st = gramAlignments(gBuf, n, cxMat, labels, c);
              cx[ci][li] += safeRatio(st.withX, Math.sqrt(xSelf * st.self));
              cy[ci][li] += safeRatio(st.withY, Math.sqrt(ySelf * st.self));
            }
            work.setGram(gBuf, n);
            for (const key of kernels) {
              const first = slots[chunk.find((i) => slots[i].kernel === key)!].cfg;
              const lowRank = first.kernel === "linear" && d < n;
              const kt = lowRank ? null : work.kernel(key, first, d);
              for (const i of chunk) {
                if (slots[i].kernel !== key) continue;
                const cfg = slots[i].cfg;
                const rx = rxT.get(i)!, ry = ryT.get(slots[i].labelSlot)!;
                let a: number, b: number;
                if (lowRank) {
                  const r = noccoFromFeatures(f, n, d, cfg.eps, cfg.centring, la);
                  a = dot(rx, r, nn);
                  b = dot(ry, r, nn);
                } else {
                  [a, b] = work.traces(kt!, n, cfg, rx, ry, la);
                }
                nx[i][ci][li] += a;
                ny[i][ci][li] += b;
              }
            }
            tick();
          });
        });
      }
    });

    const b = ranges.length;
    const samplesUsed = ranges.reduce((t, [s, e]) => t + e - s, 0);
    for (const setting of group) {
      const i = slotOf.get(setting)!;
      const ref = { nhsic_x_x: xx[i] / b, nhsic_y_y: yy[slots[i].labelSlot] / b };
      const checkpoints = dump.checkpoints.map((cp, ci) => ({
        step: cp.step,
        ...(cp.name !== undefined ? { name: cp.name } : {}),
        layers: cp.layers.map((l, li): SweepLayer => ({
          name: l.name,
          nhsic_x: nx[i][ci][li] / b,
          nhsic_y: ny[i][ci][li] / b,
          nhsic_x_norm: nx[i][ci][li] / b / ref.nhsic_x_x,
          nhsic_y_norm: ny[i][ci][li] / b / ref.nhsic_y_y,
          cka_x: cx[ci][li] / b,
          cka_y: cy[ci][li] / b,
        })),
      }));
      entries.set(setting, {
        estimator: { ...setting, batches: b, samples_used: samplesUsed },
        reference: ref,
        checkpoints,
        summary: summarise({ reference: ref, checkpoints }),
      });
    }
  }
  return settings.map((s) => entries.get(s)!);
}

/**
 * How a sweep is split into work: settings grouped by batch size, each group's distinct
 * operators ("slots") in chunks whose R_X and R_Y fit the memory budget.
 */
function planSweep(dump: Dump, base: EstimatorConfig, spec: SweepSpec, memoryBudget?: number) {
  const settings = sweepSettings(base, spec);
  const m = dump.x.rows;
  const C = dump.checkpoints.length, L = dump.checkpoints[0].layers.length;
  const budget = memoryBudget ?? 2 ** 30;
  const groups = new Map<string, EstimatorConfig[]>();
  for (const s of settings) {
    const k = String(s.batch_size);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(s);
  }
  const plans = [...groups.values()].map((group) => {
    const ranges = batchRanges(m, group[0].batch_size);
    const nMax = Math.max(...ranges.map(([s, e]) => e - s));
    const { slots, labelCfgs, slotOf } = planSlots(group);
    const perSlot = nMax * nMax * 8;
    const chunkSize = Math.max(1, Math.floor(budget / perSlot) - labelCfgs.length);
    const chunks: number[][] = [];
    for (let i = 0; i < slots.length; i += chunkSize) {
      chunks.push(slots.slice(i, i + chunkSize).map((_, k) => i + k));
    }
    return { group, ranges, nMax, slots, labelCfgs, slotOf, chunks };
  });
  // Progress: one unit per matrix (X and each layer) per batch per chunk.
  const total = plans.reduce((t, p) => t + p.chunks.length * p.ranges.length * (C * L + 1), 0);
  return { settings, plans, total };
}

/**
 * Units of work {@link runSweep} reports progress in (for a caller that combines it with other
 * work).
 */
export function sweepWorkUnits(
  dump: Dump,
  base: EstimatorConfig,
  spec: SweepSpec,
  memoryBudget?: number,
): number {
  return planSweep(dump, base, spec, memoryBudget).total;
}

/** Slots (distinct kernel and eps) and label operators of one batch-size group. */
function planSlots(group: EstimatorConfig[]) {
  const slots: Slot[] = [];
  const slotKeys = new Map<string, number>();
  const labelCfgs: EstimatorConfig[] = [];
  const labelKeys = new Map<string, number>();
  const slotOf = new Map<EstimatorConfig, number>();
  for (const s of group) {
    const lk = labelKey(s);
    if (!labelKeys.has(lk)) {
      labelKeys.set(lk, labelCfgs.length);
      labelCfgs.push(s);
    }
    // A Gaussian label kernel depends on sigma and the distance even when X's kernel is linear.
    const key = `${kernelKey(s)}|${s.eps}|${lk}`;
    if (!slotKeys.has(key)) {
      slotKeys.set(key, slots.length);
      slots.push({ cfg: s, kernel: kernelKey(s), labelSlot: labelKeys.get(lk)! });
    }
    slotOf.set(s, slotKeys.get(key)!);
  }
  return { slots, labelCfgs, slotOf };
}

/**
 * Per-matrix working memory of the sweep: the squared-distance matrix (and its square roots)
 * derived once from a Gram, the current kernel, and the matrix being inverted.
 */
class Workspace {
  readonly #gram: Float64Array;
  readonly #dsq: Float64Array;
  readonly #dplain: Float64Array;
  readonly #kernel: Float64Array;
  readonly #s: Float64Array;
  readonly #w: Float64Array;
  #n = 0;
  #haveDsq = false;
  #havePlain = false;
  #middle: { lo: number; hi: number; odd: boolean } | null = null;
  #kernelKey = "";

  constructor(nMax: number) {
    const nn = nMax * nMax;
    this.#gram = new Float64Array(nn);
    this.#dsq = new Float64Array(nn);
    this.#dplain = new Float64Array(nn);
    this.#kernel = new Float64Array(nn);
    this.#s = new Float64Array(nn);
    this.#w = new Float64Array(nMax);
  }

  /** A new matrix: keeps a copy of its Gram; distances are derived on demand. */
  setGram(g: Float64Array, n: number): void {
    this.#n = n;
    this.#gram.set(g.subarray(0, n * n));
    this.#haveDsq = this.#havePlain = false;
    this.#middle = null;
    this.#kernelKey = "";
  }

  /** Squared distances D_ij = G_ii + G_jj - 2 G_ij clamped at 0, zero diagonal (kernels.ts). */
  #squared(): Float64Array {
    const n = this.#n, g = this.#gram, out = this.#dsq;
    if (this.#haveDsq) return out;
    for (let i = 0; i < n; i++) {
      const row = i * n, gi = g[row + i];
      for (let j = i + 1; j < n; j++) {
        let d = gi + g[j * n + j] - 2 * g[row + j];
        if (d < 0) d = 0;
        out[row + j] = d;
        out[j * n + i] = d;
      }
      out[row + i] = 0;
    }
    this.#haveDsq = true;
    return out;
  }

  #plain(): Float64Array {
    const n = this.#n, out = this.#dplain;
    if (this.#havePlain) return out;
    const dsq = this.#squared();
    for (let i = 0; i < n * n; i++) out[i] = Math.sqrt(dsq[i]);
    this.#havePlain = true;
    return out;
  }

  /**
   * The kernel of `key` for the current matrix (d its width), reusing the last one when the key
   * is unchanged. Values are those of gaussianFromGram: the same operations in the same order.
   */
  kernel(key: string, cfg: EstimatorConfig, d: number): Float64Array {
    const n = this.#n, nn = n * n, k = this.#kernel;
    if (this.#kernelKey === key) return k;
    this.#kernelKey = key;
    if (cfg.kernel === "linear") {
      k.set(this.#gram.subarray(0, nn));
      return k;
    }
    const plain = cfg.distance === "plain";
    const dist = plain ? this.#plain() : this.#squared();
    let s2: number;
    if (cfg.sigma === "median") {
      // One selection serves both forms: sqrt keeps the order, so the plain distances' middle
      // values are the square roots of the squared ones' (medianOffDiagonal's result exactly).
      const mid = this.#middle ??= middlePair(this.#squared(), n);
      s2 = mid.odd
        ? (plain ? Math.sqrt(mid.hi) : mid.hi)
        : (plain ? 0.5 * (Math.sqrt(mid.lo) + Math.sqrt(mid.hi)) : 0.5 * (mid.lo + mid.hi));
      if (!(s2 > 0)) s2 = 1;
    } else {
      s2 = cfg.sigma * cfg.sigma * d;
    }
    // exp over one triangle, mirrored: the distance matrix is exactly symmetric.
    const cc = -1 / (2 * s2);
    for (let i = 0; i < n; i++) {
      const row = i * n;
      for (let j = i + 1; j < n; j++) {
        const v = Math.exp(cc * dist[row + j]);
        k[row + j] = v;
        k[j * n + i] = v;
      }
      k[row + i] = 1;
    }
    return k;
  }

  /**
   * Tr(R_X R_T) and Tr(R_Y R_T) for the kernel `kt` of a layer, given R_X^T and R_Y^T, from the
   * inverse S^-1 of K_c + delta I alone: with R_T = I - delta S^-1 - a wn^T (right centring,
   * a = 1 - delta S^-1 1, wn = S^-1 1 / 1'S^-1 1; a = 0 otherwise),
   * Tr(R_A R_T) = tr(R_A^T) - delta <R_A^T, S^-1> - sum_i a_i (R_A^T wn)_i.
   */
  traces(
    kt: Float64Array,
    n: number,
    cfg: EstimatorConfig,
    rxT: Float64Array,
    ryT: Float64Array,
    la: Linalg,
  ): [number, number] {
    const nn = n * n, s = this.#s.subarray(0, nn), w = this.#w;
    const delta = cfg.eps * n;
    s.set(kt.subarray(0, nn));
    if (cfg.centring === "both") centreBoth(s, n);
    for (let i = 0; i < n; i++) s[i * n + i] += delta;
    la.spdInverse(s, n);
    const right = cfg.centring === "right";
    let sumW = 0;
    if (right) {
      for (let i = 0; i < n; i++) {
        let t = 0;
        const row = i * n;
        for (let j = 0; j < n; j++) t += s[row + j];
        w[i] = t;
        sumW += t;
      }
    }
    let trX = 0, trY = 0, sx = 0, sy = 0, rankX = 0, rankY = 0;
    for (let i = 0; i < n; i++) {
      const row = i * n;
      trX += rxT[row + i];
      trY += ryT[row + i];
      let ax = 0, ay = 0, tx = 0, ty = 0;
      for (let j = 0; j < n; j++) {
        const v = s[row + j], px = rxT[row + j], py = ryT[row + j];
        ax += px * v;
        ay += py * v;
        if (right) {
          tx += px * w[j];
          ty += py * w[j];
        }
      }
      sx += ax;
      sy += ay;
      if (right) {
        const ai = 1 - delta * w[i];
        rankX += ai * tx;
        rankY += ai * ty;
      }
    }
    if (right) {
      rankX /= sumW;
      rankY /= sumW;
    }
    return [trX - delta * sx - rankX, trY - delta * sy - rankY];
  }
}

/**
 * The two middle values over pairs i < j of a symmetric matrix (lo <= hi; for an odd count only
 * hi is the median). Sample-bracketed selection instead of medianOffDiagonal's full sort: a
 * sorted sample of the upper triangle gives two values that bracket the middle ranks, one pass
 * counts the values below the bracket and gathers those inside it, and only that small set is
 * sorted. If the bracket misses (it practically never does), a full selection decides. Either way
 * the result is the exact order statistics.
 */
function middlePair(a: Float64Array, n: number): { lo: number; hi: number; odd: boolean } {
  const count = (n * (n - 1)) / 2;
  const half = Math.floor(count / 2); // rank of hi; lo has rank half - 1 (even counts)
  const odd = count % 2 === 1;
  if (count > 20_000) {
    const s = 4096, step = count / s;
    const sample = new Float64Array(s);
    // Deterministic strided sample over the triangle's pairs, in row order.
    let next = 0, idx = 0, k = 0;
    for (let i = 0; i < n && k < s; i++) {
      for (let j = i + 1; j < n && k < s; j++, idx++) {
        if (idx >= next) {
          sample[k++] = a[i * n + j];
          next = Math.floor(k * step);
        }
      }
    }
    sample.subarray(0, k).sort();
    const centre = (half / count) * k, spread = 4 * Math.sqrt(k) + 8;
    const lowV = sample[Math.max(0, Math.floor(centre - spread))];
    const highV = sample[Math.min(k - 1, Math.ceil(centre + spread))];
    let below = 0;
    const inside: number[] = [];
    for (let i = 0; i < n; i++) {
      const row = i * n;
      for (let j = i + 1; j < n; j++) {
        const v = a[row + j];
        if (v < lowV) below++;
        else if (v <= highV) inside.push(v);
      }
    }
    if (below <= half - 1 && half < below + inside.length) {
      const mid = Float64Array.from(inside).sort();
      return { lo: mid[half - 1 - below], hi: mid[half - below], odd };
    }
  }
  const v = new Float64Array(count);
  let k = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) v[k++] = a[i * n + j];
  const hi = select(v, half);
  // After selection everything left of `half` is <= hi: the lower middle is their maximum.
  let lo = -Infinity;
  for (let i = 0; i < half; i++) if (v[i] > lo) lo = v[i];
  return { lo, hi, odd };
}

/** Hoare's selection: puts the k-th smallest value at index k (partial order around it). */
function select(v: Float64Array, k: number): number {
  let lo = 0, hi = v.length - 1;
  while (lo < hi) {
    const pivot = v[(lo + hi) >>> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        const t = v[i];
        v[i] = v[j];
        v[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return v[k];
  }
  return v[k];
}

/** For tests only: the exact middle pair of the upper triangle (see {@link middlePair}). */
export { middlePair as _middlePair };

// Request validation, the robustness sweep (every setting equals a plain analysis with that
// estimator), robustness fractions and verdicts, the differentiation ranking, the CSV, and the
// promise that a default analysis is exactly what it was.
import assert from "node:assert/strict";
import { analyseDump, type AnalysisOutput } from "../lib/analysis.ts";
import { analysisCsv } from "../lib/csv.ts";
import type { Dump, Matrix } from "../lib/dump/mod.ts";
import { InputError } from "../lib/errors.ts";
import { getLinalg } from "../lib/linalg/mod.ts";
import {
  AnalysisRequestSchema,
  analysisRequestWork,
  differentiationRobustness,
  MAX_SWEEP_SETTINGS,
  resolveAnalysisRequest,
  robustness,
  runSweep,
  sweepSettings,
  type SweepSpec,
  verdictOf,
} from "../lib/measures/mod.ts";
import { resolveEstimator } from "../lib/nhsic/mod.ts";
import { medianOffDiagonal } from "../lib/nhsic/kernels.ts";
import { _middlePair } from "../lib/measures/sweep.ts";
import { summarise, type Summary } from "../lib/summary.ts";

const la = getLinalg();

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

function random(rows: number, cols: number, seed: number): Matrix {
  const r = lcg(seed);
  return { rows, cols, data: Float32Array.from({ length: rows * cols }, r) };
}

/** m samples, three checkpoints, a wide layer (d > m), a narrow one and logits. */
function dumpOf(m: number): Dump {
  return {
    x: random(m, 24, 1),
    labels: Int32Array.from({ length: m }, (_, i) => i % 3),
    classes: 3,
    numClasses: 3,
    checkpoints: [0, 10, 30].map((step, ci) => ({
      step,
      layers: [[m + 6, "wide"], [5, "narrow"], [3, "logits"]].map(([d, name], li) => ({
        name: name as string,
        values: random(m, d as number, 100 * ci + li + 7),
      })),
    })),
  };
}

function assertInput(fn: () => unknown, field: string, includes?: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected an InputError, got ${e}`);
    assert.deepStrictEqual(e.status, 422, e.message);
    assert.deepStrictEqual(e.field, field, e.message);
    if (includes) assert.ok(e.message.includes(includes), e.message);
    return true;
  });
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

Deno.test("request: defaults, duplicates, and 422s that name the field", () => {
  const d = resolveAnalysisRequest(undefined);
  assert.deepStrictEqual(d, {
    measures: ["nhsic", "cka_linear"],
    measure_options: { bins: 30, noise_variance: 1e-3 },
    similarity: [],
    sweep: null,
  });
  const r = resolveAnalysisRequest({
    measures: ["mi_kde", "hsic", "mi_kde"],
    measure_options: { bins: 12 },
    similarity: ["nhsic", "nhsic"],
    sweep: { sigma: [1, 1, "median"] },
  });
  assert.deepStrictEqual(r.measures, ["mi_kde", "hsic"]);
  assert.deepStrictEqual(r.measure_options, { bins: 12, noise_variance: 1e-3 });
  assert.deepStrictEqual(r.similarity, ["nhsic"]);
  assert.deepStrictEqual(r.sweep, { sigma: [1, "median"] });
  assertInput(() => resolveAnalysisRequest({ measures: ["nhsic", "mine"] }), "measures[1]");
  assertInput(() => resolveAnalysisRequest({ measurez: [] }), "measurez", "measurez");
  assertInput(() => resolveAnalysisRequest({ sweep: { sigma: [0] } }), "sweep.sigma[0]");
  assertInput(() => resolveAnalysisRequest({ sweep: { centring: ["both"] } }), "sweep.centring");
  assertInput(
    () => resolveAnalysisRequest({ measure_options: { bins: 1 } }),
    "measure_options.bins",
  );
  assertInput(() => resolveAnalysisRequest({ similarity: ["mi_kde"] }), "similarity[0]");
  // 64 settings pass, 65 and more are refused naming `sweep` and the sizes.
  const big: SweepSpec = { sigma: [1, 2, 3, 4, 5, 6, 7, 8], eps: [1e-5, 1e-4, 1e-3, 1e-2] };
  assert.deepStrictEqual(
    sweepSettings(
      resolveEstimator(),
      resolveAnalysisRequest({
        sweep: { ...big, distance: ["squared", "plain"] },
      }).sweep!,
    ).length,
    MAX_SWEEP_SETTINGS,
  );
  assertInput(
    () =>
      resolveAnalysisRequest({
        sweep: { ...big, distance: ["squared", "plain"], kernel: ["gaussian", "linear"] },
      }),
    "sweep",
    "128 settings (kernel 2 x sigma 8 x distance 2 x eps 4); at most 64",
  );
  assertInput(
    () =>
      analyseDump(dumpOf(16), resolveEstimator(), {
        linalg: la,
        sweep: { ...big, batch_size: [null, 8, 16] },
      }),
    "sweep",
  );
  // The schema is plain zod, ready for the routes' OpenAPI document.
  assert.ok(AnalysisRequestSchema.safeParse({ measures: ["cka_debiased"] }).success);
});

Deno.test("sweep settings: fixed order, left-out keys keep the request's values", () => {
  const base = resolveEstimator({ eps: 1e-4, batch_size: 32 });
  const s = sweepSettings(base, { distance: ["plain", "squared"], sigma: [1, "median"] });
  assert.deepStrictEqual(s.map((c) => [c.sigma, c.distance]), [
    [1, "plain"],
    [1, "squared"],
    ["median", "plain"],
    ["median", "squared"],
  ]);
  assert.ok(s.every((c) => c.eps === 1e-4 && c.batch_size === 32 && c.kernel === "gaussian"));
  assert.deepStrictEqual(sweepSettings(base, {}), [base]);
});

Deno.test("sweep: every setting equals a plain analysis with that estimator", () => {
  const dump = dumpOf(40);
  const spec: SweepSpec = {
    kernel: ["gaussian", "linear"],
    sigma: [1, "median"],
    distance: ["squared", "plain"],
    eps: [1e-5, 1e-2],
    batch_size: [null, 16],
  };
  for (const centring of ["right", "both"] as const) {
    const base = resolveEstimator({
      centring,
      label_kernel: centring === "both" ? "gaussian" : "linear",
    });
    const entries = runSweep(dump, base, spec, { linalg: la });
    const chunked = runSweep(dump, base, spec, { linalg: la, memoryBudget: 1 });
    assert.deepStrictEqual(entries.length, 32);
    let worst = 0;
    entries.forEach((e, i) => {
      const { batches, samples_used, ...cfg } = e.estimator;
      const a = analyseDump(dump, cfg, { linalg: la });
      assert.deepStrictEqual([batches, samples_used], [
        a.estimator.batches,
        a.estimator.samples_used,
      ]);
      worst = Math.max(worst, rel(e.reference.nhsic_x_x, a.reference.nhsic_x_x));
      worst = Math.max(worst, rel(e.reference.nhsic_y_y, a.reference.nhsic_y_y));
      e.checkpoints.forEach((cp, ci) =>
        cp.layers.forEach((l, li) => {
          const b = a.checkpoints[ci].layers[li];
          for (const k of ["nhsic_x", "nhsic_y", "nhsic_x_norm", "nhsic_y_norm"] as const) {
            worst = Math.max(worst, rel(l[k], b[k]));
          }
          // Linear CKA comes from the same code on the same Gram: identical.
          assert.deepStrictEqual([l.cka_x, l.cka_y], [b.cka_x, b.cka_y]);
          assert.deepStrictEqual(chunked[i].checkpoints[ci].layers[li], l);
        })
      );
      assert.deepStrictEqual(e.summary.checkpoints, 3);
    });
    assert.ok(worst < 1e-9, `worst relative difference ${worst}`);
  }
});

Deno.test("analysis with a sweep: entries, robustness fractions and progress", () => {
  const dump = dumpOf(36);
  const seen: Array<[number, number]> = [];
  const out = analyseDump(dump, resolveEstimator(), {
    linalg: la,
    sweep: { sigma: [1, 5, "median"], distance: ["squared", "plain"] },
    onProgress: (d, t) => seen.push([d, t]),
  });
  assert.deepStrictEqual(out.sweep!.length, 6);
  const r = out.robustness!;
  assert.deepStrictEqual(r.settings, 6);
  assert.deepStrictEqual(r.conclusions.length, 2 * 3);
  for (const c of r.conclusions) {
    const li = out.summary.layers.findIndex((l) => l.name === c.layer);
    const holds = out.sweep!.filter((e) =>
      c.kind === "compression"
        ? e.summary.layers[li].compression! >= 0.05
        : e.summary.layers[li].follows_ib === true
    ).length;
    assert.deepStrictEqual(c.holds, holds, c.statement);
    assert.deepStrictEqual(c.fraction, holds / 6);
    assert.deepStrictEqual(c.verdict, verdictOf(holds / 6));
  }
  // Progress only moves forward and ends at its total.
  const total = seen[0][1];
  assert.ok(seen.every(([d, t], i) => t === total && (i === 0 || d === seen[i - 1][0] + 1)));
  assert.deepStrictEqual(seen[seen.length - 1][0], total);
  // The default-setting entry (sigma 5, squared) equals the analysis itself.
  const own = out.sweep![2];
  assert.deepStrictEqual([own.estimator.sigma, own.estimator.distance], [5, "squared"]);
  own.checkpoints.forEach((cp, ci) =>
    cp.layers.forEach((l, li) =>
      assert.ok(rel(l.nhsic_x, out.checkpoints[ci].layers[li].nhsic_x) < 1e-9)
    )
  );
});

/** A summary from per-layer series of normalised nHSIC(X;T) (Y fixed and rising). */
function summaryOf(xs: number[][]): Summary {
  const steps = xs[0].map((_, t) => t * 10);
  return summarise({
    reference: { nhsic_x_x: 1, nhsic_y_y: 1 },
    checkpoints: steps.map((step, t) => ({
      step,
      layers: xs.map((x, l) => ({ name: `l${l + 1}`, nhsic_x: x[t], nhsic_y: 0.5 + 0.1 * t })),
    })),
  });
}

Deno.test("robustness: verdicts from the fraction of settings", () => {
  assert.deepStrictEqual(
    [1, 0.9, 0.89, 0.5, 0.11, 0.1, 0].map(verdictOf),
    [
      "robust",
      "robust",
      "depends on the estimator",
      "depends on the estimator",
      "depends on the estimator",
      "absent",
      "absent",
    ],
  );
  // l1 always compresses (0.3), l2 compresses in 4 of 10 settings, l3 never does.
  const settings = Array.from(
    { length: 10 },
    (_, i) => summaryOf([[0.5, 0.9, 0.6], [0.5, 0.6, i < 4 ? 0.5 : 0.58], [0.2, 0.3, 0.4]]),
  );
  const r = robustness(settings[0], settings);
  const by = (kind: string, layer: string) =>
    r.conclusions.find((c) => c.kind === kind && c.layer === layer)!;
  assert.deepStrictEqual([by("compression", "l1").verdict, by("compression", "l1").fraction], [
    "robust",
    1,
  ]);
  assert.deepStrictEqual([by("compression", "l2").verdict, by("compression", "l2").holds], [
    "depends on the estimator",
    4,
  ]);
  assert.deepStrictEqual(by("compression", "l3").verdict, "absent");
  assert.deepStrictEqual(by("follows_ib", "l1").verdict, "robust");
  assert.deepStrictEqual(by("compression", "l2").baseline, true);
  const single = summaryOf([[0.5], [0.4]]);
  const none = robustness(single, [single]);
  assert.deepStrictEqual(none.conclusions, []);
  assert.ok(none.note!.includes("one checkpoint"));
});

Deno.test("differentiation ranking of several methods across settings", () => {
  // e2e: layers compress differently, except in 2 of 10 settings where all compress alike
  // (score 0, below layerwise's 0.024); flat never compresses (score 0).
  const e2e = Array.from(
    { length: 10 },
    (_, i) => summaryOf([[0.9, 0.95, 0.9], [0.6, 0.9, i < 2 ? 0.85 : 0.4], [0.3, 0.6, 0.55]]),
  );
  const lw = Array.from(
    { length: 10 },
    () => summaryOf([[0.9, 0.95, 0.8], [0.6, 0.7, 0.6], [0.3, 0.4, 0.3]]),
  );
  const flat = Array.from(
    { length: 10 },
    () => summaryOf([[0.9, 0.9, 0.9], [0.6, 0.6, 0.6], [0.3, 0.3, 0.3]]),
  );
  const r = differentiationRobustness([
    { name: "layerwise", summary: lw[0], sweep: lw },
    { name: "e2e", summary: e2e[5], sweep: e2e },
    { name: "flat", summary: flat[0], sweep: flat },
  ]);
  assert.deepStrictEqual(r.baseline_order, ["e2e", "layerwise", "flat"]);
  assert.deepStrictEqual(r.ranking, {
    holds: 8,
    fraction: 0.8,
    verdict: "depends on the estimator",
  });
  const pair = (a: string, b: string) => r.pairs.find((p) => p.higher === a && p.lower === b)!;
  assert.deepStrictEqual(pair("e2e", "layerwise").holds, 8);
  assert.deepStrictEqual(pair("layerwise", "flat").verdict, "robust");
  assert.deepStrictEqual(r.orders[0], {
    order: ["e2e", "layerwise", "flat"],
    holds: 8,
    fraction: 0.8,
  });
  assert.throws(
    () => differentiationRobustness([{ name: "a", summary: lw[0], sweep: lw }]),
    RangeError,
  );
  assert.throws(
    () =>
      differentiationRobustness([
        { name: "a", summary: lw[0], sweep: lw },
        { name: "b", summary: lw[0], sweep: lw.slice(1) },
      ]),
    RangeError,
  );
});

/** The output without its timing. */
function timeless(o: AnalysisOutput): string {
  return JSON.stringify({ ...o, compute: { ...o.compute, seconds: 0 } });
}

Deno.test("a default analysis is unchanged; asking for more leaves its fields untouched", () => {
  const dump = dumpOf(30);
  for (const cfg of [resolveEstimator(), resolveEstimator({ kernel: "linear", batch_size: 12 })]) {
    const plain = analyseDump(dump, cfg, { linalg: la });
    assert.deepStrictEqual(Object.keys(plain), [
      "m",
      "num_classes",
      "estimator",
      "reference",
      "checkpoints",
      "summary",
      "compute",
    ]);
    assert.deepStrictEqual(Object.keys(plain.checkpoints[0]), ["step", "layers"]);
    assert.deepStrictEqual(Object.keys(plain.checkpoints[0].layers[0]), [
      "name",
      "nhsic_x",
      "nhsic_y",
      "nhsic_x_norm",
      "nhsic_y_norm",
      "cka_x",
      "cka_y",
    ]);
    const explicit = analyseDump(dump, cfg, {
      linalg: la,
      measures: ["cka_linear", "nhsic"],
      similarity: [],
      sweep: null,
    });
    assert.deepStrictEqual(timeless(explicit), timeless(plain));
    const more = analyseDump(dump, cfg, {
      linalg: la,
      measures: ["nhsic", "mi_kde", "cka_debiased"],
      similarity: ["nhsic", "cka_linear"],
    });
    assert.deepStrictEqual(Object.keys(more.checkpoints[0].layers[0]).slice(7), [
      "mi_kde_x",
      "mi_kde_y",
      "cka_debiased_x",
      "cka_debiased_y",
    ]);
    assert.deepStrictEqual(more.measures, {
      names: ["nhsic", "mi_kde", "cka_debiased"],
      noise_variance: 1e-3,
      similarity: ["nhsic", "cka_linear"],
    });
    // The observer changes nothing in the estimator's own numbers.
    const strip = (o: AnalysisOutput) =>
      JSON.stringify(
        o.checkpoints.map((cp) => cp.layers.map((l) => [l.nhsic_x, l.nhsic_y, l.cka_x, l.cka_y])),
      );
    assert.deepStrictEqual(strip(more), strip(plain));
    assert.deepStrictEqual(more.summary, plain.summary);
    assert.deepStrictEqual(Object.keys(more).at(-1), "compute");
    // Maps: x row of the nHSIC map is nHSIC(X;X) then nHSIC(X;T_l); CKA maps have unit diagonals.
    const last = more.checkpoints.length - 1;
    const nm = more.similarity!.find((s) =>
      s.measure === "nhsic" && s.step === more.checkpoints[last].step
    )!;
    assert.deepStrictEqual(nm.layers, ["x", "wide", "narrow", "logits"]);
    assert.ok(rel(nm.matrix[0][0], plain.reference.nhsic_x_x) < 1e-9);
    nm.matrix[0].slice(1).forEach((v, li) =>
      assert.ok(rel(v, plain.checkpoints[last].layers[li].nhsic_x) < 1e-9)
    );
    const cm = more.similarity!.find((s) => s.measure === "cka_linear")!;
    cm.matrix.forEach((row, i) => assert.ok(Math.abs(row[i] - 1) < 1e-12));
    cm.matrix[0].slice(1).forEach((v, li) =>
      assert.ok(rel(v, plain.checkpoints[0].layers[li].cka_x) < 1e-9)
    );
    const cps = more.checkpoint_similarity!;
    assert.deepStrictEqual(cps.length, 3 * 2);
    assert.deepStrictEqual(cps[0].steps, [0, 10, 30]);
  }
});

Deno.test("CSV: today's columns by default, measure columns when asked", () => {
  const dump = dumpOf(20);
  const plain = analyseDump(dump, resolveEstimator(), { linalg: la });
  const lines = analysisCsv(plain).trim().split("\n");
  assert.deepStrictEqual(
    lines[0],
    "step,layer_index,layer,nhsic_x,nhsic_y,nhsic_x_norm,nhsic_y_norm,cka_x,cka_y",
  );
  assert.deepStrictEqual(lines.length, 1 + 3 * 3);
  const l0 = plain.checkpoints[0].layers[0];
  assert.deepStrictEqual(
    lines[1],
    ["0", "0", "wide", l0.nhsic_x, l0.nhsic_y, l0.nhsic_x_norm, l0.nhsic_y_norm, l0.cka_x, l0.cka_y]
      .join(","),
  );
  const more = analyseDump(dump, resolveEstimator(), {
    linalg: la,
    measures: ["hsic", "cka_linear", "mi_binning"],
  });
  const head = analysisCsv(more).split("\n")[0];
  assert.deepStrictEqual(
    head,
    "step,layer_index,layer,nhsic_x,nhsic_y,nhsic_x_norm,nhsic_y_norm,cka_x,cka_y,hsic_x,hsic_y," +
      "mi_binning_x,mi_binning_y",
  );
});

Deno.test("work units: a plain request counts like the service's analysisWork", () => {
  const d = dumpOf(20);
  const base = resolveEstimator();
  const matrices = 3 * 3 + 2;
  assert.deepStrictEqual(
    analysisRequestWork(d, base, resolveAnalysisRequest({})),
    20 * 20 * matrices,
  );
  const sweep = resolveAnalysisRequest({ sweep: { sigma: [1, 2], batch_size: [null, 10] } });
  assert.deepStrictEqual(
    analysisRequestWork(d, base, sweep),
    20 * 20 * matrices + 2 * 20 * 20 * matrices + 2 * 20 * 10 * matrices,
  );
  const sim = resolveAnalysisRequest({ similarity: ["cka_linear"] });
  // 3 checkpoints x 10 pairs over (x + 3 layers), 3 layers x 6 checkpoint pairs.
  assert.deepStrictEqual(analysisRequestWork(d, base, sim), 20 * 20 * (matrices + 30 + 18));
});

Deno.test("sweep median: the sample-bracketed selection gives medianOffDiagonal exactly", () => {
  const r = lcg(5);
  for (const n of [301, 302, 640]) {
    for (const kind of ["continuous", "ties", "constant"] as const) {
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
          const v = kind === "continuous"
            ? (r() + 0.5) * 10
            : kind === "ties"
            ? Math.floor((r() + 0.5) * 3)
            : 2;
          a[i * n + j] = a[j * n + i] = v;
        }
      }
      const mid = _middlePair(a, n);
      const squared = mid.odd ? mid.hi : 0.5 * (mid.lo + mid.hi);
      assert.deepStrictEqual(squared, medianOffDiagonal(a, n), `${n} ${kind}`);
      const plain = mid.odd ? Math.sqrt(mid.hi) : 0.5 * (Math.sqrt(mid.lo) + Math.sqrt(mid.hi));
      assert.deepStrictEqual(plain, medianOffDiagonal(a.map(Math.sqrt), n), `${n} ${kind} plain`);
    }
  }
});

Deno.test("sweep: the median heuristic on a larger dump equals the plain analysis", () => {
  const dump = dumpOf(220); // 24090 pairs: the sampled median selection is used
  const entries = runSweep(dump, resolveEstimator(), {
    sigma: ["median"],
    distance: ["squared", "plain"],
  }, {
    linalg: la,
  });
  for (const e of entries) {
    const { batches: _b, samples_used: _s, ...cfg } = e.estimator;
    const a = analyseDump(dump, cfg, { linalg: la });
    assert.ok(rel(e.reference.nhsic_x_x, a.reference.nhsic_x_x) < 1e-9);
    e.checkpoints.forEach((cp, ci) =>
      cp.layers.forEach((l, li) => {
        assert.ok(rel(l.nhsic_x, a.checkpoints[ci].layers[li].nhsic_x) < 1e-9, `${cfg.distance} x`);
        assert.ok(rel(l.nhsic_y, a.checkpoints[ci].layers[li].nhsic_y) < 1e-9, `${cfg.distance} y`);
      })
    );
  }
});

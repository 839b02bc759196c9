// Every measure against independent float64 references: tests/fixtures_measures/references.json
// (made by make_references.py, naive NumPy) and the shared fixtures (../shared/fixtures:
// measures/synthetic.json for the CKA family, nhsic/ for biased Gaussian HSIC), to 1e-6
// relative (1e-4 for the float32 MNIST activations), on both linear-algebra backends.
import assert from "node:assert/strict";
import { analyseDump } from "../lib/analysis.ts";
import type { Dump, Matrix } from "../lib/dump/mod.ts";
import { getLinalg, portableLinalg } from "../lib/linalg/mod.ts";
import type { Linalg } from "../lib/linalg/mod.ts";
import {
  ckaDebiased,
  ckaGaussian,
  ckaLinear,
  hsic,
  MEASURE_NAMES,
  measureField,
  measureWithExtras,
  miBinning,
  miKde,
  SIMILARITY_NAMES,
  similarityMatrix,
} from "../lib/measures/mod.ts";
import { type EstimatorConfig, resolveEstimator } from "../lib/nhsic/mod.ts";
import { parseArrayFile } from "../lib/dump/mod.ts";

const REFS = new URL("./fixtures_measures/references.json", import.meta.url);
const SHARED = new URL("../../shared/fixtures/", import.meta.url);
const haveShared = (() => {
  try {
    return Deno.statSync(new URL("measures/synthetic.json", SHARED)).isFile;
  } catch {
    return false;
  }
})();

const TOL = 1e-6;

function backends(): Linalg[] {
  const out = [portableLinalg];
  const fast = getLinalg();
  if (fast.name !== portableLinalg.name) out.push(fast);
  return out;
}

function matrix(rows: number[][]): Matrix {
  return { rows: rows.length, cols: rows[0].length, data: Float64Array.from(rows.flat()) };
}

/** |got - want| <= tol |want| (plus a 1e-12 floor for values that are exactly 0). */
function close(got: number, want: number, what: string, tol = TOL): number {
  const err = Math.abs(got - want);
  assert.ok(err <= tol * Math.abs(want) + 1e-12, `${what}: got ${got}, want ${want}`);
  return want === 0 ? 0 : err / Math.abs(want);
}

function closeMatrix(got: number[][], want: number[][], what: string, tol = TOL): number {
  assert.deepStrictEqual(got.length, want.length, `${what}: rows`);
  let worst = 0;
  got.forEach((row, i) =>
    row.forEach((v, j) => worst = Math.max(worst, close(v, want[i][j], `${what}[${i}][${j}]`, tol)))
  );
  return worst;
}

interface RefCase {
  name: string;
  estimator: EstimatorConfig;
  measure_options: { bins: number; noise_variance: number };
  x: number[][];
  labels: number[];
  num_classes: number;
  checkpoints: Array<{ step: number; layers: Record<string, number[][]> }>;
  expected: {
    batches: number;
    reference: { nhsic_x_x: number; nhsic_y_y: number };
    layers: Array<Record<string, Record<string, number>>>;
    binning_range: Record<string, [number, number]>;
    similarity: Array<Record<string, number[][]>>;
    checkpoint_similarity: Record<string, Record<string, number[][]>>;
  };
}

function dumpOf(c: RefCase): Dump {
  return {
    x: matrix(c.x),
    labels: Int32Array.from(c.labels),
    classes: c.num_classes,
    numClasses: c.num_classes,
    checkpoints: c.checkpoints.map((cp) => ({
      step: cp.step,
      layers: Object.entries(cp.layers).map(([name, v]) => ({ name, values: matrix(v) })),
    })),
  };
}

const refs = JSON.parse(Deno.readTextFileSync(REFS)) as { cases: RefCase[] };

/** The worst relative error seen per measure (printed once, for the report). */
const worst: Record<string, number> = {};
const note = (k: string, e: number) => worst[k] = Math.max(worst[k] ?? 0, e);

for (const la of backends()) {
  for (const c of refs.cases) {
    Deno.test(`measures match the NumPy references: ${c.name} (${la.name})`, () => {
      const dump = dumpOf(c);
      const out = analyseDump(dump, c.estimator, {
        linalg: la,
        measures: [...MEASURE_NAMES],
        measure_options: c.measure_options,
        similarity: [...SIMILARITY_NAMES],
      });
      const e = c.expected;
      assert.deepStrictEqual(out.estimator.batches, e.batches);
      close(out.reference.nhsic_x_x, e.reference.nhsic_x_x, "nhsic_x_x");
      close(out.reference.nhsic_y_y, e.reference.nhsic_y_y, "nhsic_y_y");
      out.checkpoints.forEach((cp, ci) => {
        for (const l of cp.layers) {
          const want = e.layers[ci][l.name];
          for (const m of MEASURE_NAMES) {
            for (const side of ["x", "y"] as const) {
              const got = (l as unknown as Record<string, number>)[`${measureField(m)}_${side}`];
              note(
                m,
                close(got, want[`${m}_${side}`], `${c.name} ${cp.step}/${l.name} ${m}_${side}`),
              );
            }
          }
        }
      });
      assert.deepStrictEqual(
        out.similarity!.length,
        c.checkpoints.length * SIMILARITY_NAMES.length,
      );
      for (const map of out.similarity!) {
        const ci = c.checkpoints.findIndex((cp) => cp.step === map.step);
        assert.deepStrictEqual(map.layers, ["x", ...Object.keys(c.checkpoints[0].layers)]);
        note(
          `similarity ${map.measure}`,
          closeMatrix(map.matrix, e.similarity[ci][map.measure], `${c.name} map ${map.measure}`),
        );
      }
      const cmaps = out.checkpoint_similarity ?? [];
      assert.deepStrictEqual(
        cmaps.length,
        c.checkpoints.length > 1 ? Object.keys(c.checkpoints[0].layers).length * 5 : 0,
      );
      for (const map of cmaps) {
        assert.deepStrictEqual(map.steps, c.checkpoints.map((cp) => cp.step));
        note(
          `checkpoint similarity ${map.measure}`,
          closeMatrix(
            map.matrix,
            e.checkpoint_similarity[map.layer][map.measure],
            `${c.name} ${map.layer} checkpoint map ${map.measure}`,
          ),
        );
      }
    });
  }
}

Deno.test("checkpoint maps from the layer-major second pass equal the one-pass maps", () => {
  const c = refs.cases[0];
  const dump = dumpOf(c);
  const req = {
    measures: ["nhsic" as const],
    measure_options: c.measure_options,
    similarity: [...SIMILARITY_NAMES],
  };
  const one = measureWithExtras(dump, c.estimator, req, { linalg: portableLinalg });
  const two = measureWithExtras(dump, c.estimator, req, {
    linalg: portableLinalg,
    memoryBudget: 1,
  });
  assert.deepStrictEqual(two.checkpoint_similarity.length, one.checkpoint_similarity.length);
  two.checkpoint_similarity.forEach((m, i) =>
    closeMatrix(m.matrix, one.checkpoint_similarity[i].matrix, `second pass ${m.measure}`, 1e-12)
  );
  closeMatrix(two.similarity[0].matrix, one.similarity[0].matrix, "layer maps", 0);
});

Deno.test("pure measure functions match the references (unbatched cases)", () => {
  for (const c of refs.cases.filter((c) => c.estimator.batch_size === null)) {
    const dump = dumpOf(c);
    const cfg = c.estimator;
    const labels = dump.labels;
    const y1 = matrix(
      c.labels.map((k) => Array.from({ length: c.num_classes }, (_, j) => j === k ? 1 : 0)),
    );
    dump.checkpoints.forEach((cp, ci) => {
      for (const l of cp.layers) {
        const want = c.expected.layers[ci][l.name];
        const t = l.values, w = `${c.name} ${cp.step}/${l.name}`;
        const gauss = { sigma: cfg.sigma, distance: cfg.distance };
        close(ckaLinear(dump.x, t), want.cka_linear_x, `${w} ckaLinear x`);
        close(ckaLinear(y1, t), want.cka_linear_y, `${w} ckaLinear y`);
        close(ckaGaussian(dump.x, t, gauss), want.cka_gaussian_x, `${w} ckaGaussian`);
        close(ckaDebiased(dump.x, t), want.cka_debiased_x, `${w} ckaDebiased x`);
        close(ckaDebiased(y1, t), want.cka_debiased_y, `${w} ckaDebiased y`);
        close(hsic(dump.x, t, cfg), want.hsic_x, `${w} hsic`);
        const b = miBinning(dump.x, t, labels, {
          bins: c.measure_options.bins,
          range: c.expected.binning_range[l.name],
        });
        close(b.x, want.mi_binning_x, `${w} miBinning x`);
        close(b.y, want.mi_binning_y, `${w} miBinning y`);
        const k = miKde(t, labels, { noise_variance: c.measure_options.noise_variance });
        close(k.x, want.mi_kde_x, `${w} miKde x`);
        close(k.y, want.mi_kde_y, `${w} miKde y`);
      }
      const reps = [dump.x, ...cp.layers.map((l) => l.values)];
      for (const s of SIMILARITY_NAMES) {
        closeMatrix(similarityMatrix(reps, s, cfg), c.expected.similarity[ci][s], `${c.name} ${s}`);
      }
    });
  }
});

Deno.test({
  name: "CKA family and linear HSIC match shared/fixtures/measures/synthetic.json",
  ignore: !haveShared,
  fn: () => {
    const fx = JSON.parse(Deno.readTextFileSync(new URL("measures/synthetic.json", SHARED)));
    for (const la of backends()) {
      for (const c of fx.cases) {
        const dump: Dump = {
          x: matrix(c.x),
          labels: Int32Array.from(c.labels),
          classes: c.num_classes,
          numClasses: c.num_classes,
          checkpoints: [{
            step: 0,
            layers: Object.entries(c.layers).map(([name, v]) => ({
              name,
              values: matrix(v as number[][]),
            })),
          }],
        };
        const out = analyseDump(dump, resolveEstimator({ kernel: "linear" }), {
          linalg: la,
          measures: ["nhsic", "cka_linear", "cka_debiased", "hsic"],
          similarity: ["cka_linear", "cka_debiased"],
        });
        for (const l of out.checkpoints[0].layers) {
          const want = c.expected.layers[l.name];
          note("shared cka_linear", close(l.cka_x, want.cka_linear_x, `${l.name} cka_x`));
          note("shared cka_linear", close(l.cka_y, want.cka_linear_y, `${l.name} cka_y`));
          note("shared cka_debiased", close(l.cka_debiased_x!, want.cka_debiased_x, "deb x"));
          note("shared cka_debiased", close(l.cka_debiased_y!, want.cka_debiased_y, "deb y"));
          note("shared hsic_linear", close(l.hsic_x!, want.hsic_linear_x, `${l.name} hsic_x`));
        }
        for (const map of out.similarity!) {
          const want = c.expected[`similarity_${map.measure}`];
          assert.deepStrictEqual(map.layers, want.layers);
          note(
            `shared similarity ${map.measure}`,
            closeMatrix(map.matrix, want.matrix, map.measure),
          );
        }
        const reps = [dump.x, ...dump.checkpoints[0].layers.map((l) => l.values)];
        closeMatrix(
          similarityMatrix(reps, "cka_debiased", undefined, la),
          c.expected.similarity_cka_debiased.matrix,
          "pure debiased map",
        );
      }
    }
  },
});

Deno.test({
  name: "biased Gaussian HSIC and linear CKA match shared/fixtures/nhsic (synthetic and MNIST)",
  ignore: !haveShared,
  fn: async () => {
    const fx = JSON.parse(Deno.readTextFileSync(new URL("nhsic/synthetic.json", SHARED)));
    const la = getLinalg();
    for (const c of fx.cases) {
      const dump: Dump = {
        x: matrix(c.x),
        labels: Int32Array.from(c.labels),
        classes: c.num_classes,
        numClasses: c.num_classes,
        checkpoints: [{
          step: 0,
          layers: c.layers.map((l: number[][], i: number) => ({
            name: `t${i}`,
            values: matrix(l),
          })),
        }],
      };
      const out = analyseDump(dump, resolveEstimator(), { linalg: la, measures: ["hsic"] });
      out.checkpoints[0].layers.forEach((l, i) => {
        note(
          "shared hsic_gaussian",
          close(l.hsic_x!, c.expected.hsic_biased_gaussian_x_t[i], "hsic"),
        );
        close(
          hsic(dump.x, dump.checkpoints[0].layers[i].values),
          c.expected.hsic_biased_gaussian_x_t[i],
          "pure hsic",
        );
      });
    }
    // Real float32 activations of an MNIST MLP (1e-4, as the fixture README asks).
    const dir = new URL("nhsic/mnist-mlp/", SHARED);
    const read = async (f: string) => parseArrayFile(await Deno.readFile(new URL(f, dir)), f, f);
    const x = await read("x.npy"), y = await read("y.npy");
    const m = x.shape[0];
    const asMatrix = (a: typeof x): Matrix => ({
      rows: m,
      cols: a.data.length / m,
      data: a.data as Float32Array,
    });
    const layers = await Promise.all([1, 2, 3, 4].map((i) => read(`layer${i}.npy`)));
    const dump: Dump = {
      x: asMatrix(x),
      labels: Int32Array.from(y.data as Int32Array),
      classes: 10,
      numClasses: 10,
      checkpoints: [{
        step: 0,
        layers: layers.map((l, i) => ({ name: `layer${i + 1}`, values: asMatrix(l) })),
      }],
    };
    const expected = JSON.parse(Deno.readTextFileSync(new URL("expected.json", dir))).case.expected;
    const out = analyseDump(dump, resolveEstimator(), {
      linalg: la,
      measures: ["hsic", "cka_linear", "cka_debiased", "mi_kde"],
    });
    out.checkpoints[0].layers.forEach((l, i) => {
      note(
        "mnist hsic_gaussian",
        close(l.hsic_x!, expected.hsic_biased_gaussian_x_t[i], "mnist hsic", 1e-4),
      );
      note("mnist cka_linear", close(l.cka_x, expected.cka_linear_x_t[i], "mnist cka", 1e-4));
      assert.ok(
        Number.isFinite(l.cka_debiased_x!),
        "debiased CKA is defined",
      );
      assert.ok(
        l.mi_kde_x! > 0 && l.mi_kde_x! <= Math.log2(m) + 1e-9,
        "KDE bound within [0, log2 m]",
      );
    });
  },
});

Deno.test("worst relative errors against the references (printed)", () => {
  const rows = Object.entries(worst).sort();
  assert.ok(rows.length > 0);
  console.log(rows.map(([k, v]) => `  ${k.padEnd(36)} ${v.toExponential(1)}`).join("\n"));
});

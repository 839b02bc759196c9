// The estimator must reproduce the independent float64 reference values in
// ../shared/fixtures/nhsic (relative error < 1e-6 synthetic, < 1e-4 mnist-mlp).
import assert from "node:assert/strict";
import { measureDump } from "../lib/nhsic/mod.ts";
import { type EstimatorConfig, resolveEstimator } from "../lib/nhsic/mod.ts";
import { biasedHsic } from "../lib/nhsic/hsic.ts";
import { gaussianFromGram } from "../lib/nhsic/mod.ts";
import type { Dump, Matrix } from "../lib/dump/mod.ts";
import type { Linalg } from "../lib/linalg/mod.ts";
import { getLinalg, portableLinalg } from "../lib/linalg/mod.ts";
import { parseArrayFile } from "../lib/dump/mod.ts";

const FIX = new URL("../../shared/fixtures/nhsic/", import.meta.url);
const haveFixtures = (() => {
  try {
    Deno.statSync(new URL("synthetic.json", FIX));
    return true;
  } catch {
    return false;
  }
})();

interface FixtureConfig {
  kx: "gaussian" | "linear";
  ky: "gaussian" | "linear";
  sigma: number;
  eps: number;
  centring: "right" | "both";
  centre_y: boolean;
  squared: boolean;
}
interface Expected {
  nhsic_x_x: number;
  nhsic_y_y: number;
  nhsic_x_t: number[];
  nhsic_y_t: number[];
}

function toConfig(c: FixtureConfig): EstimatorConfig {
  return resolveEstimator({
    kernel: c.kx,
    label_kernel: c.ky,
    sigma: c.sigma,
    eps: c.eps,
    centring: c.centring,
    label_centring: c.centre_y ? c.centring : "none",
    distance: c.squared ? "squared" : "plain",
  });
}

function matrix(rows: number[][]): Matrix {
  return { rows: rows.length, cols: rows[0].length, data: Float64Array.from(rows.flat()) };
}

function checkCase(
  dump: Dump,
  configs: Record<string, FixtureConfig>,
  expected: Record<string, Expected>,
  la: Linalg,
  tol: number,
) {
  for (const [name, fc] of Object.entries(configs)) {
    const got = measureDump(dump, toConfig(fc), { linalg: la });
    const exp = expected[name];
    const rel = (a: number, b: number, what: string) =>
      assert.ok(Math.abs(a - b) <= tol * Math.abs(b), `${name} ${what}`);
    rel(got.reference.nhsic_x_x, exp.nhsic_x_x, "nhsic_x_x");
    rel(got.reference.nhsic_y_y, exp.nhsic_y_y, "nhsic_y_y");
    got.checkpoints[0].layers.forEach((l, i) => {
      rel(l.nhsic_x, exp.nhsic_x_t[i], `nhsic_x_t[${i}]`);
      rel(l.nhsic_y, exp.nhsic_y_t[i], `nhsic_y_t[${i}]`);
    });
  }
}

function backends(): Linalg[] {
  const out = [portableLinalg];
  const fast = getLinalg();
  if (fast.name !== portableLinalg.name) out.push(fast);
  return out;
}

for (const la of backends()) {
  Deno.test({
    name: `nHSIC reproduces the synthetic fixtures (${la.name})`,
    ignore: !haveFixtures,
    fn: async () => {
      const fx = JSON.parse(await Deno.readTextFile(new URL("synthetic.json", FIX)));
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
        checkCase(dump, fx.configs, c.expected, la, 1e-6);
        // Linear CKA and biased Gaussian HSIC against the same reference.
        const got = measureDump(dump, resolveEstimator(), { linalg: la });
        got.checkpoints[0].layers.forEach((l, i) => {
          assert.ok(
            Math.abs(l.cka_x - (c.expected.cka_linear_x_t[i])) <=
              (1e-6) * Math.abs(c.expected.cka_linear_x_t[i]),
            `cka ${i}`,
          );
        });
        const gauss = (m: Matrix) => {
          const g = la.gram(Float64Array.from(m.data), m.rows, m.cols);
          gaussianFromGram(g, m.rows, m.cols, 5, "squared");
          return g;
        };
        const kx = gauss(dump.x);
        dump.checkpoints[0].layers.forEach((l, i) => {
          const h = biasedHsic(kx, gauss(l.values), dump.x.rows);
          assert.ok(
            Math.abs(h - (c.expected.hsic_biased_gaussian_x_t[i])) <=
              (1e-6) * Math.abs(c.expected.hsic_biased_gaussian_x_t[i]),
            `hsic ${i}`,
          );
        });
      }
    },
  });

  Deno.test({
    name: `nHSIC reproduces the mnist-mlp fixture (${la.name})`,
    ignore: !haveFixtures,
    fn: async () => {
      const read = async (f: string) =>
        parseArrayFile(await Deno.readFile(new URL(`mnist-mlp/${f}`, FIX)), f, f);
      const x = await read("x.npy");
      const y = await read("y.npy");
      const layers = await Promise.all([1, 2, 3, 4].map((i) => read(`layer${i}.npy`)));
      const fx = JSON.parse(await Deno.readTextFile(new URL("mnist-mlp/expected.json", FIX)));
      const m = x.shape[0];
      const asMatrix = (a: typeof x): Matrix => ({
        rows: m,
        cols: a.data.length / m,
        data: a.data as Float32Array,
      });
      assert(x.dtype === "float32");
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
      checkCase(dump, fx.configs, fx.case.expected, la, 1e-4);
    },
  });
}

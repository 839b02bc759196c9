// Estimator paths checked against a naive dense implementation (general inverse, no identities):
// low-rank linear kernels, every centring, the median heuristic and mini-batch averaging.
import assert from "node:assert/strict";
import { mulberry32 } from "../lib/random.ts";
import { batchRanges, measureDump } from "../lib/nhsic/mod.ts";
import { type Centring, resolveEstimator } from "../lib/nhsic/config.ts";
import { portableLinalg } from "../lib/linalg/mod.ts";
import type { Dump, Matrix } from "../lib/dump/mod.ts";

function rng(seed: number) {
  const u = mulberry32(seed);
  return () => u() - 0.5;
}

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  const r = rng(seed);
  return { rows, cols, data: Float64Array.from({ length: rows * cols }, r) };
}

/** Dense reference: K, centring by explicit H products, inverse by Gauss-Jordan. */
function naiveR(
  a: Matrix,
  kernel: "gaussian" | "linear",
  s2: number | "median",
  centring: Centring,
  eps: number,
): number[][] {
  const m = a.rows, d = a.cols;
  const row = (i: number) => Array.from(a.data.subarray(i * d, (i + 1) * d));
  const dist = (i: number, j: number) => row(i).reduce((s, v, k) => s + (v - row(j)[k]) ** 2, 0);
  let scale = typeof s2 === "number" ? s2 : 0;
  if (s2 === "median") {
    const ds: number[] = [];
    for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) ds.push(dist(i, j));
    ds.sort((p, q) => p - q);
    const n = ds.length;
    scale = n % 2 ? ds[(n - 1) / 2] : (ds[n / 2 - 1] + ds[n / 2]) / 2;
  }
  const K = Array.from(
    { length: m },
    (_, i) =>
      Array.from(
        { length: m },
        (_, j) =>
          kernel === "linear"
            ? row(i).reduce((s, v, k) => s + v * row(j)[k], 0)
            : Math.exp(-dist(i, j) / (2 * scale)),
      ),
  );
  const H = Array.from(
    { length: m },
    (_, i) => Array.from({ length: m }, (_, j) => (i === j ? 1 : 0) - 1 / m),
  );
  const mul = (A: number[][], B: number[][]) =>
    A.map((r) => B[0].map((_, j) => r.reduce((s, v, k) => s + v * B[k][j], 0)));
  const Kc = centring === "right" ? mul(K, H) : centring === "both" ? mul(H, mul(K, H)) : K;
  const A = Kc.map((r, i) => r.map((v, j) => v + (i === j ? eps * m : 0)));
  return mul(Kc, invert(A));
}

function invert(A: number[][]): number[][] {
  const n = A.length;
  const M = A.map((r, i) => [...r, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    const piv = M[c][c];
    for (let j = 0; j < 2 * n; j++) M[c][j] /= piv;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r][c];
      for (let j = 0; j < 2 * n; j++) M[r][j] -= f * M[c][j];
    }
  }
  return M.map((r) => r.slice(n));
}

const tr = (A: number[][], B: number[][]) =>
  A.reduce((s, r, i) => s + r.reduce((t, v, j) => t + v * B[j][i], 0), 0);

function oneHot(labels: Int32Array, c: number): Matrix {
  const data = new Float64Array(labels.length * c);
  labels.forEach((l, i) => data[i * c + l] = 1);
  return { rows: labels.length, cols: c, data };
}

function dumpOf(x: Matrix, layer: Matrix, labels: Int32Array): Dump {
  return {
    x,
    labels,
    classes: 3,
    numClasses: 3,
    checkpoints: [{ step: 0, layers: [{ name: "t", values: layer }] }],
  };
}

const m = 24;
const x = randomMatrix(m, 6, 1);
const t = randomMatrix(m, 40, 2); // d > m: kernel path even for the linear kernel
const labels = Int32Array.from({ length: m }, (_, i) => (i * 7) % 3);

for (const centring of ["right", "both", "none"] as const) {
  Deno.test(`linear kernel (low-rank and dense paths) matches the naive form, centring ${centring}`, () => {
    const cfg = resolveEstimator({
      kernel: "linear",
      centring,
      label_centring: centring,
      eps: 1e-3,
    });
    const got = measureDump(dumpOf(x, t, labels), cfg, { linalg: portableLinalg });
    const rx = naiveR(x, "linear", 1, centring, 1e-3);
    const rt = naiveR(t, "linear", 1, centring, 1e-3);
    const ry = naiveR(oneHot(labels, 3), "linear", 1, centring, 1e-3);
    assert.ok(
      Math.abs(got.reference.nhsic_x_x - (tr(rx, rx))) <= (1e-8) * Math.abs(tr(rx, rx)),
      "x;x",
    );
    assert.ok(
      Math.abs(got.reference.nhsic_y_y - (tr(ry, ry))) <= (1e-8) * Math.abs(tr(ry, ry)),
      "y;y",
    );
    assert.ok(
      Math.abs((got.checkpoints[0].layers[0].nhsic_x) - (tr(rx, rt))) <=
        (1e-8) * Math.abs(tr(rx, rt)),
      "x;t",
    );
    assert.ok(
      Math.abs((got.checkpoints[0].layers[0].nhsic_y) - (tr(ry, rt))) <=
        (1e-8) * Math.abs(tr(ry, rt)),
      "y;t",
    );
  });
}

Deno.test("median heuristic uses the median pairwise squared distance", () => {
  const cfg = resolveEstimator({ sigma: "median", eps: 1e-3 });
  const got = measureDump(dumpOf(x, t, labels), cfg, { linalg: portableLinalg });
  const rx = naiveR(x, "gaussian", "median", "right", 1e-3);
  const rt = naiveR(t, "gaussian", "median", "right", 1e-3);
  assert.ok(
    Math.abs((got.checkpoints[0].layers[0].nhsic_x) - (tr(rx, rt))) <=
      (1e-8) * Math.abs(tr(rx, rt)),
    "x;t",
  );
});

Deno.test("batch_size averages consecutive batches and drops a remainder under 4", () => {
  assert.deepStrictEqual(batchRanges(10, null), [[0, 10]]);
  assert.deepStrictEqual(batchRanges(10, 4), [[0, 4], [4, 8]]);
  assert.deepStrictEqual(batchRanges(13, 4), [[0, 4], [4, 8], [8, 12]]);
  assert.deepStrictEqual(batchRanges(14, 5), [[0, 5], [5, 10], [10, 14]]);
  const slice = (a: Matrix, s: number, e: number): Matrix => ({
    rows: e - s,
    cols: a.cols,
    data: a.data.slice(s * a.cols, e * a.cols),
  });
  const cfg = resolveEstimator({ batch_size: 11 });
  const got = measureDump(dumpOf(x, t, labels), cfg, { linalg: portableLinalg });
  assert.deepStrictEqual(got.batches, 2);
  assert.deepStrictEqual(got.samples_used, 22);
  const parts = [[0, 11], [11, 22]].map(([s, e]) =>
    measureDump(
      dumpOf(slice(x, s, e), slice(t, s, e), labels.slice(s, e)),
      resolveEstimator(),
      { linalg: portableLinalg },
    )
  );
  const mean = (f: (p: (typeof parts)[0]) => number) => (f(parts[0]) + f(parts[1])) / 2;
  assert.ok(
    Math.abs(got.reference.nhsic_x_x - (mean((p) => p.reference.nhsic_x_x))) <=
      (1e-12) * Math.abs(mean((p) => p.reference.nhsic_x_x)),
    "",
  );
  assert.ok(
    Math.abs(
      (got.checkpoints[0].layers[0].nhsic_y) - (mean((p) => p.checkpoints[0].layers[0].nhsic_y)),
    ) <= (1e-12) * Math.abs(mean((p) => p.checkpoints[0].layers[0].nhsic_y)),
    "",
  );
});

Deno.test("a layer equal to x has nHSIC(X;T) = nHSIC(X;X) and linear CKA 1", () => {
  const got = measureDump(dumpOf(x, x, labels), resolveEstimator(), { linalg: portableLinalg });
  const l = got.checkpoints[0].layers[0];
  assert.ok(
    Math.abs(l.nhsic_x - got.reference.nhsic_x_x) <= (1e-10) * Math.abs(got.reference.nhsic_x_x),
    "",
  );
  assert.ok(Math.abs(l.cka_x - 1) <= 1e-12);
});

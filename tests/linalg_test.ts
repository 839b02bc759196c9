import assert from "node:assert/strict";
import type { Linalg } from "../lib/linalg/mod.ts";
import { gramPortable, mirrorLowerToUpper, portableLinalg } from "../lib/linalg/portable.ts";
import { loadOpenBlas } from "../lib/linalg/mod.ts";
import { describeLinalg, getLinalg } from "../lib/linalg/mod.ts";
import { openblasCoreTypeFor } from "../lib/linalg/mod.ts";
import { mulberry32 } from "../lib/random.ts";

const openblas = loadOpenBlas();
const noOpenblas = openblas === null;
const backends: [Linalg, boolean][] = [[portableLinalg, false], [
  openblas ?? portableLinalg,
  noOpenblas,
]];

/** Deterministic uniform [-1, 1) (mulberry32), so failures reproduce. */
function rng(seed: number): () => number {
  const u = mulberry32(seed);
  return () => u() * 2 - 1;
}

function randomMatrix(rows: number, cols: number, seed: number): Float64Array {
  const r = rng(seed);
  const a = new Float64Array(rows * cols);
  for (let i = 0; i < a.length; i++) a[i] = r();
  return a;
}

function naiveGram(a: Float64Array, m: number, d: number): Float64Array {
  const g = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += a[i * d + k] * a[j * d + k];
      g[i * m + j] = s;
    }
  }
  return g;
}

function matmul(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const c = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const v = a[i * m + k];
      for (let j = 0; j < m; j++) c[i * m + j] += v * b[k * m + j];
    }
  }
  return c;
}

/** Gauss-Jordan with partial pivoting: an independent reference inverse. */
function naiveInverse(src: Float64Array, m: number): Float64Array {
  const a = src.slice();
  const inv = new Float64Array(m * m);
  for (let i = 0; i < m; i++) inv[i * m + i] = 1;
  for (let c = 0; c < m; c++) {
    let p = c;
    for (let r = c + 1; r < m; r++) if (Math.abs(a[r * m + c]) > Math.abs(a[p * m + c])) p = r;
    for (let j = 0; j < m; j++) {
      [a[c * m + j], a[p * m + j]] = [a[p * m + j], a[c * m + j]];
      [inv[c * m + j], inv[p * m + j]] = [inv[p * m + j], inv[c * m + j]];
    }
    const d = a[c * m + c];
    for (let j = 0; j < m; j++) {
      a[c * m + j] /= d;
      inv[c * m + j] /= d;
    }
    for (let r = 0; r < m; r++) {
      if (r === c) continue;
      const f = a[r * m + c];
      if (f === 0) continue;
      for (let j = 0; j < m; j++) {
        a[r * m + j] -= f * a[c * m + j];
        inv[r * m + j] -= f * inv[c * m + j];
      }
    }
  }
  return inv;
}

/** A well-conditioned SPD matrix: X X^T / d + I/2 for random m x d X. */
function randomSpd(m: number, d: number, seed: number): Float64Array {
  const x = randomMatrix(m, d, seed);
  const s = naiveGram(x, m, d);
  for (let i = 0; i < s.length; i++) s[i] /= d;
  for (let i = 0; i < m; i++) s[i * m + i] += 0.5;
  return s;
}

function maxAbs(a: Float64Array): number {
  let v = 0;
  for (let i = 0; i < a.length; i++) v = Math.max(v, Math.abs(a[i]));
  return v;
}

/** max |a - b| / max |b| (norm-wise relative difference). */
function relDiff(a: Float64Array, b: Float64Array): number {
  assert.deepStrictEqual(a.length, b.length, "lengths");
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]));
  const s = maxAbs(b);
  return s === 0 ? e : e / s;
}

function assertSymmetric(a: Float64Array, m: number, what: string): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < i; j++) {
      assert(a[i * m + j] === a[j * m + i], `${what}: not symmetric at (${i}, ${j})`);
    }
  }
}

const SIZES_M = [1, 5, 33, 130];
const SIZES_D = [1, 7, 300];

for (const [la, ignore] of backends) {
  const tag = ignore ? "openblas" : la.name;

  Deno.test({
    name: `linalg/${tag}: gram matches the naive A A^T`,
    ignore,
    fn() {
      for (const m of SIZES_M) {
        for (const d of SIZES_D) {
          const a = randomMatrix(m, d, 1000 * m + d);
          const g = la.gram(a, m, d);
          assert.deepStrictEqual(g.length, m * m, "gram size");
          const err = relDiff(g, naiveGram(a, m, d));
          assert(err <= 1e-13, `gram m=${m} d=${d}: relative error ${err}`);
          assertSymmetric(g, m, `gram m=${m} d=${d}`);
        }
      }
    },
  });

  Deno.test({
    name: `linalg/${tag}: gram into a reused (dirty, oversized) out buffer`,
    ignore,
    fn() {
      const big = new Float64Array(130 * 130 + 7).fill(NaN);
      for (const [m, d] of [[130, 300], [33, 7], [5, 1]]) {
        const a = randomMatrix(m, d, 77 * m + d);
        const g = la.gram(a, m, d, big);
        assert.deepStrictEqual(g.length, m * m, "view length");
        assert(g.buffer === big.buffer, "writes into out");
        const err = relDiff(g, naiveGram(a, m, d));
        assert(err <= 1e-13, `gram(out) m=${m} d=${d}: relative error ${err}`);
      }
      assert.deepStrictEqual(la.gram(new Float64Array(0), 3, 0, big), new Float64Array(9));
      assert.throws(() => la.gram(new Float64Array(4), 2, 2, new Float64Array(3)), RangeError);
    },
  });

  Deno.test({
    name: `linalg/${tag}: spdInverse matches Gauss-Jordan and A A^-1 = I`,
    ignore,
    fn() {
      for (const m of SIZES_M) {
        for (const d of SIZES_D) {
          const s = randomSpd(m, d, 7 * m + d);
          const inv = s.slice();
          la.spdInverse(inv, m);
          assertSymmetric(inv, m, `inverse m=${m} d=${d}`);
          const err = relDiff(inv, naiveInverse(s, m));
          assert(err <= 1e-10, `inverse m=${m} d=${d}: relative error ${err}`);
          const prod = matmul(s, inv, m);
          for (let i = 0; i < m; i++) prod[i * m + i] -= 1;
          const id = maxAbs(prod);
          assert(id <= 1e-10, `A A^-1 - I m=${m} d=${d}: max ${id}`);
        }
      }
    },
  });

  Deno.test({
    name: `linalg/${tag}: spdInverse reads only the lower triangle`,
    ignore,
    fn() {
      const m = 33;
      const s = randomSpd(m, 40, 5);
      const junk = s.slice();
      for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) junk[i * m + j] = 1e6;
      const a = s.slice(), b = junk.slice();
      la.spdInverse(a, m);
      la.spdInverse(b, m);
      assert.deepStrictEqual(b, a);
    },
  });

  Deno.test({
    name: `linalg/${tag}: non-positive-definite input throws`,
    ignore,
    fn() {
      // Indefinite 2 x 2: the second leading minor is 1 - 4 < 0.
      assert.throws(
        () => la.spdInverse(new Float64Array([1, 2, 2, 1]), 2),
        (e: unknown) => e instanceof Error && e.message.includes("not positive definite"),
      );
      assert.throws(
        () => la.spdInverse(new Float64Array([-1]), 1),
        (e: unknown) => e instanceof Error && e.message.includes("not positive definite"),
      );
      assert.throws(
        () => la.spdInverse(new Float64Array([1, NaN, NaN, 1]), 2),
        (e: unknown) => e instanceof Error && e.message.includes("not positive definite"),
      );
      // Larger: a PSD matrix shifted down past its smallest eigenvalue.
      const m = 130;
      const s = randomSpd(m, 7, 9); // rank 7 plus I/2: smallest eigenvalue 0.5
      for (let i = 0; i < m; i++) s[i * m + i] -= 1;
      // The message names the failing minor.
      assert.throws(
        () => la.spdInverse(s, m),
        /not positive definite.*(order \d+|pivot at \d+)|(order \d+|pivot at \d+).*not positive definite/,
      );
      // Singular PSD (all-zero) matrix.
      assert.throws(
        () => la.spdInverse(new Float64Array(9), 3),
        (e: unknown) => e instanceof Error && e.message.includes("not positive definite"),
      );
    },
  });

  Deno.test({
    name: `linalg/${tag}: degenerate and invalid shapes`,
    ignore,
    fn() {
      assert.deepStrictEqual(la.gram(new Float64Array(0), 0, 5), new Float64Array(0));
      assert.deepStrictEqual(la.gram(new Float64Array(0), 3, 0), new Float64Array(9));
      la.spdInverse(new Float64Array(0), 0);
      const one = new Float64Array([4]);
      la.spdInverse(one, 1);
      assert.deepStrictEqual(one, new Float64Array([0.25]));
      assert.throws(() => la.gram(new Float64Array(5), 2, 3), RangeError);
      assert.throws(() => la.spdInverse(new Float64Array(5), 3), RangeError);
    },
  });
}

Deno.test({
  name: "linalg: openblas and portable agree within 1e-9 relative",
  ignore: noOpenblas,
  fn() {
    const ob = openblas!;
    for (const m of [...SIZES_M, 257]) {
      for (const d of SIZES_D) {
        const a = randomMatrix(m, d, 31 * m + d);
        const g1 = ob.gram(a, m, d), g2 = portableLinalg.gram(a, m, d);
        const eg = relDiff(g1, g2);
        assert(eg <= 1e-9, `gram m=${m} d=${d}: ${eg}`);
        for (let i = 0; i < m; i++) g1[i * m + i] += 0.5 * d; // well conditioned
        const i1 = g1.slice(), i2 = g1.slice();
        ob.spdInverse(i1, m);
        portableLinalg.spdInverse(i2, m);
        const ei = relDiff(i1, i2);
        assert(ei <= 1e-9, `inverse m=${m} d=${d}: ${ei}`);
      }
    }
  },
});

Deno.test({
  name: "linalg/openblas: describe, core type and thread control",
  ignore: noOpenblas,
  fn() {
    const ob = openblas!;
    assert(
      /^openblas \S+ \(\w+, \d+ threads?\)$/.test(ob.describe()),
      `describe: ${ob.describe()}`,
    );
    assert(ob.coreName.length > 0, "corename");
    // When this module chose or was told a core type, OpenBLAS must actually be using it.
    if (ob.coreType.value !== null) {
      assert.deepStrictEqual(
        ob.coreName.toLowerCase(),
        ob.coreType.value.toLowerCase(),
        "core type",
      );
    }
    const before = ob.threads();
    try {
      ob.setThreads(1);
      assert.deepStrictEqual(ob.threads(), 1);
      const a = randomMatrix(64, 64, 3);
      assert(relDiff(ob.gram(a, 64, 64), gramPortable(a, 64, 64)) <= 1e-12, "1-thread gram");
    } finally {
      ob.setThreads(before);
    }
    assert.throws(() => ob.setThreads(0), RangeError);
  },
});

Deno.test("linalg: core type choice from CPU flags", () => {
  const x86 = Deno.build.arch === "x86_64";
  const skx = new Set(["avx2", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl"]);
  assert.deepStrictEqual(openblasCoreTypeFor(skx), x86 ? "SkylakeX" : null);
  assert.deepStrictEqual(
    openblasCoreTypeFor(new Set(["avx2", "fma", "avx512f"])),
    x86 ? "Haswell" : null,
  );
  assert.deepStrictEqual(openblasCoreTypeFor(new Set(["sse3", "avx"])), null);
  assert.deepStrictEqual(openblasCoreTypeFor(null), null);
});

Deno.test("linalg: mirrorLowerToUpper across block edges", () => {
  const m = 70;
  const a = randomMatrix(m, m, 11);
  mirrorLowerToUpper(a, m);
  assertSymmetric(a, m, "mirror");
});

Deno.test("linalg: getLinalg selection and INFOPLANE_LINALG", () => {
  assert.deepStrictEqual(getLinalg("portable").name, "portable");
  assert.deepStrictEqual(getLinalg().name, noOpenblas ? "portable" : "openblas");
  assert(getLinalg() === getLinalg(), "instance is cached");
  assert(describeLinalg(getLinalg()).length > 0, "describeLinalg");
  const canEnv = Deno.permissions.querySync({ name: "env", variable: "INFOPLANE_LINALG" })
    .state === "granted";
  if (!canEnv) return;
  const saved = Deno.env.get("INFOPLANE_LINALG");
  try {
    Deno.env.set("INFOPLANE_LINALG", "portable");
    assert.deepStrictEqual(getLinalg().name, "portable");
    assert.deepStrictEqual(getLinalg("openblas").name, "portable", "env overrides prefer");
    Deno.env.set("INFOPLANE_LINALG", "openblas");
    if (noOpenblas) {
      assert.throws(
        () => getLinalg(),
        (e: unknown) => e instanceof Error && e.message.includes("INFOPLANE_LINALG=openblas"),
      );
    } else assert.deepStrictEqual(getLinalg("portable").name, "openblas");
    Deno.env.set("INFOPLANE_LINALG", "mkl");
    assert.throws(
      () => getLinalg(),
      (e: unknown) => e instanceof Error && e.message.includes("INFOPLANE_LINALG"),
    );
  } finally {
    if (saved === undefined) Deno.env.delete("INFOPLANE_LINALG");
    else Deno.env.set("INFOPLANE_LINALG", saved);
  }
});

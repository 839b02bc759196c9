// 16-bit floats (numpy float16, bfloat16 as ml_dtypes/JAX save it) read as float32, and
// checkpoints named in the file ("epoch1/fc1") read in file order with their names kept.
// Fixtures: tests/fixtures_dump/make_half_fixtures.py (real np.save output).
import assert from "node:assert/strict";
import { assembleDump, parseLayerKey, parseNpy, parseNpzDump } from "../lib/dump/mod.ts";
import type { NdArray } from "../lib/dump/mod.ts";
import { analyseDump } from "../lib/analysis.ts";
import { analysisCsv } from "../lib/csv.ts";
import { portableLinalg } from "../lib/linalg/mod.ts";
import { resolveEstimator } from "../lib/nhsic/mod.ts";
import { assertInputError, fixture, FIXTURES } from "./fixtures_dump/helpers.ts";

const expected = JSON.parse(
  Deno.readTextFileSync(new URL("half_expected.json", FIXTURES)),
) as {
  f2_values: number[];
  bf16_values: number[];
  named_half: {
    x: number[][];
    checkpoints: Record<string, Record<string, number[][]>>;
  };
};

/** A .npy file around a hand-written header. */
function rawNpy(header: string, data: Uint8Array): Uint8Array {
  const text = new TextEncoder().encode(header + "\n");
  const out = new Uint8Array(10 + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, text.length, true);
  out.set(text, 10);
  out.set(data, 10 + text.length);
  return out;
}

function assertValues(a: NdArray, want: number[], what: string) {
  assert.ok(a.data instanceof Float32Array, `${what}: float32 data`);
  assert.deepStrictEqual(a.dtype, "float32");
  assert.deepStrictEqual(Array.from(a.data), want, what);
}

Deno.test("npy: float16 reads exactly as float32, either byte order", () => {
  const le = parseNpy(fixture("f2_values.npy"));
  assert.deepStrictEqual(le.shape, [3, 4]);
  assert.deepStrictEqual(le.converted_from, "float16");
  assertValues(le, expected.f2_values, "<f2");
  // Subnormals, -0 and the largest finite half survive.
  assert.ok(Object.is(le.data[1], -0));
  assert.deepStrictEqual(le.data[6], 65504);
  assertValues(parseNpy(fixture("f2_be.npy")), expected.f2_values, ">f2");
});

Deno.test("npy: bfloat16 written by ml_dtypes ('<V2') reads as float32", () => {
  const a = parseNpy(fixture("bf16_values.npy"));
  assert.deepStrictEqual(a.shape, [3, 4]);
  assert.deepStrictEqual(a.converted_from, "bfloat16");
  assertValues(a, expected.bf16_values, "bfloat16");
});

Deno.test("npy: other spellings of bfloat16 and the void types that are not", () => {
  // 1.0, -2.0 and 0.5 as bfloat16: 0x3f80, 0xc000, 0x3f00.
  const le = new Uint8Array([0x80, 0x3f, 0x00, 0xc0, 0x00, 0x3f]);
  const be = new Uint8Array([0x3f, 0x80, 0xc0, 0x00, 0x3f, 0x00]);
  const header = (d: string) => `{'descr': '${d}', 'fortran_order': False, 'shape': (3,), }`;
  for (
    const [d, bytes] of [["|V2", le], ["bfloat16", le], ["<bfloat16", le], [">V2", be]] as const
  ) {
    const a = parseNpy(rawNpy(header(d), bytes));
    assert.deepStrictEqual(Array.from(a.data as Float32Array), [1, -2, 0.5], d);
    assert.deepStrictEqual(a.converted_from, "bfloat16", d);
  }
  assertInputError(
    () => parseNpy(rawNpy(header("<V1"), new Uint8Array(3))),
    "unsupported-dtype",
    "float8",
  );
  assertInputError(
    () => parseNpy(rawNpy(header("|V4"), new Uint8Array(12))),
    "unsupported-dtype",
    "'|V4'",
  );
  assertInputError(
    () => parseNpy(rawNpy(header("<f2"), new Uint8Array(5))),
    "malformed-file",
    "float16 (6 bytes)",
  );
});

Deno.test("npz dump: named checkpoints in file order, names kept, 16-bit arrays", () => {
  const dump = parseNpzDump(fixture("named_half.npz"), "named_half.npz");
  const names = Object.keys(expected.named_half.checkpoints);
  assert.deepStrictEqual(names, ["epoch2", "epoch10", "final"]);
  assert.deepStrictEqual(dump.checkpoints.map((c) => c.name), names);
  assert.deepStrictEqual(dump.checkpoints.map((c) => c.step), [0, 1, 2]);
  assert.deepStrictEqual(Array.from(dump.x.data), expected.named_half.x.flat());
  dump.checkpoints.forEach((cp) => {
    assert.deepStrictEqual(cp.layers.map((l) => l.name), ["fc1", "fc2"]);
    for (const l of cp.layers) {
      assert.deepStrictEqual(
        Array.from(l.values.data),
        expected.named_half.checkpoints[cp.name!][l.name].flat(),
        `${cp.name}/${l.name}`,
      );
    }
  });
});

Deno.test("analysis of a named dump keeps the names (JSON and CSV)", () => {
  const dump = parseNpzDump(fixture("named_half.npz"), "named_half.npz");
  const out = analyseDump(dump, resolveEstimator(), { linalg: portableLinalg });
  assert.deepStrictEqual(out.checkpoints.map((c) => [c.step, c.name]), [
    [0, "epoch2"],
    [1, "epoch10"],
    [2, "final"],
  ]);
  assert.deepStrictEqual(Object.keys(out.checkpoints[0]), ["step", "name", "layers"]);
  const lines = analysisCsv(out).trim().split("\n");
  assert.ok(lines[0].startsWith("step,checkpoint,layer_index,layer,nhsic_x"), lines[0]);
  assert.ok(lines[1].startsWith("0,epoch2,0,fc1,"), lines[1]);
  assert.deepStrictEqual(lines.length, 1 + 3 * 2);
});

Deno.test("named checkpoints: mixing and missing layers are 422s that say how to name keys", () => {
  const m = 6;
  const arr = (cols: number): NdArray => ({
    shape: [m, cols],
    dtype: "float32",
    data: Float32Array.from({ length: m * cols }, (_, i) => Math.sin(i)),
  });
  const x = arr(3);
  const y: NdArray = {
    shape: [m],
    dtype: "int32",
    data: Int32Array.from({ length: m }, (_, i) => i % 2),
  };
  const layers = (keys: string[]) => keys.map((k) => ({ ...parseLayerKey(k), array: arr(2) }));
  assertInputError(
    () => assembleDump({ x, y, layers: layers(["epoch1/fc1", "10/fc1"]) }),
    "invalid-request",
    'name every checkpoint ("epoch1/fc1", "epoch2/fc1": read in file order)',
    "10/fc1",
  );
  assertInputError(
    () => assembleDump({ x, y, layers: layers(["epoch1/fc1", "fc2"]) }),
    "invalid-request",
    "a plain layer name",
    "fc2",
  );
  // Nested layer names without a step are read as checkpoints, and the mismatch says so.
  assertInputError(
    () => assembleDump({ x, y, layers: layers(["enc/fc1", "dec/fc2"]) }),
    "missing-field",
    'give it a step ("0/dec/fc2")',
  );
  const ok = assembleDump({ x, y, layers: layers(["0/enc/fc1", "0/dec/fc2"]) });
  assert.deepStrictEqual(ok.checkpoints[0].layers.map((l) => l.name), ["enc/fc1", "dec/fc2"]);
  assert.deepStrictEqual(ok.checkpoints[0].name, undefined);
  const named = assembleDump({ x, y, layers: layers(["b/fc1", "a/fc1", "b/fc2", "a/fc2"]) });
  assert.deepStrictEqual(named.checkpoints.map((c) => c.name), ["b", "a"]);
  assertInputError(
    () => assembleDump({ x, y, layers: layers(["-1/fc1"]) }),
    "malformed-file",
    "step must be a non-negative integer",
  );
});

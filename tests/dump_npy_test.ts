import assert from "node:assert/strict";
import { encodeNpy, formatShape, isNpy, parseNpy } from "../lib/dump/mod.ts";
import type { NdArray } from "../lib/dump/mod.ts";
import { assertInputError, fixture, sum } from "./fixtures_dump/helpers.ts";

// Real numpy output from the shared fixtures, when this checkout has them (not on every CI).
const MNIST = new URL("../../shared/fixtures/nhsic/mnist-mlp/", import.meta.url);
const haveMnist = (() => {
  try {
    return Deno.statSync(new URL("x.npy", MNIST)).isFile;
  } catch {
    return false;
  }
})();

/** Builds a .npy file by hand around an arbitrary header text. */
function rawNpy(header: string, data: Uint8Array, version = 1): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  const text = new TextEncoder().encode(header + "\n");
  const out = new Uint8Array(prefix + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  out.set(text, prefix);
  out.set(data, prefix + text.length);
  return out;
}

const base = Array.from({ length: 24 }, (_, i) => i);

Deno.test("npy: round trip for every dtype and a few shapes", () => {
  const cases: NdArray[] = [
    { shape: [2, 3, 4], dtype: "float32", data: Float32Array.from(base, (v) => v * 0.5 - 3) },
    { shape: [24], dtype: "float64", data: Float64Array.from(base, (v) => v / 3) },
    { shape: [4, 6], dtype: "int32", data: Int32Array.from(base, (v) => v - 12) },
    {
      shape: [3, 8],
      dtype: "int64",
      data: BigInt64Array.from(base, (v) => BigInt(v) * 10n ** 15n - 7n),
    },
    { shape: [1, 24, 1], dtype: "uint8", data: Uint8Array.from(base, (v) => v * 10) },
    { shape: [], dtype: "float64", data: new Float64Array([3.5]) },
    { shape: [0, 5], dtype: "float32", data: new Float32Array(0) },
  ];
  for (const a of cases) {
    const bytes = encodeNpy(a);
    assert.deepStrictEqual((bytes.length - a.data.byteLength) % 64, 0, "header padded to 64 bytes");
    const b = parseNpy(bytes);
    assert.deepStrictEqual(b.shape, a.shape, `${a.dtype} shape`);
    assert.deepStrictEqual(b.dtype, a.dtype);
    assert.deepStrictEqual(b.data, a.data, `${a.dtype} data`);
  }
});

Deno.test("npy: encodeNpy writes exactly what np.save writes", () => {
  const files: Record<string, NdArray> = {
    "f4.npy": {
      shape: [2, 3, 4],
      dtype: "float32",
      data: Float32Array.from(base, (v) => v * 0.5 - 3),
    },
    "f8.npy": {
      shape: [2, 3, 4],
      dtype: "float64",
      data: Float64Array.from(base, (v) => v * 0.25 - 1),
    },
    "i4.npy": { shape: [2, 3, 4], dtype: "int32", data: Int32Array.from(base, (v) => v - 12) },
    "i8.npy": {
      shape: [2, 3, 4],
      dtype: "int64",
      data: BigInt64Array.from(base, (v) => BigInt(v) * 1000000000000n - 7n),
    },
    "u1.npy": { shape: [2, 3, 4], dtype: "uint8", data: Uint8Array.from(base, (v) => v * 10) },
    "scalar.npy": { shape: [], dtype: "float64", data: new Float64Array([3.5]) },
    "empty.npy": { shape: [0, 5], dtype: "float32", data: new Float32Array(0) },
  };
  for (const [name, a] of Object.entries(files)) {
    assert.deepStrictEqual(encodeNpy(a), fixture(name), name);
    // ...and reading numpy's file gives the same array back.
    const b = parseNpy(fixture(name));
    assert.deepStrictEqual(b, a, name);
  }
});

Deno.test("npy: big-endian files are byte-swapped", () => {
  const f8 = parseNpy(fixture("f8_be.npy"));
  assert.deepStrictEqual(f8.dtype, "float64");
  assert.deepStrictEqual(f8.data, Float64Array.from(base, (v) => v * 0.25 - 1));
  const i4 = parseNpy(fixture("i4_be.npy"));
  assert.deepStrictEqual(i4.data, Int32Array.from(base, (v) => v - 12));
});

Deno.test("npy: format versions 2.0 and 3.0", () => {
  const expected = Float32Array.from(base, (v) => v * 0.5 - 3);
  for (const name of ["f4_v2.npy", "f4_v3.npy"]) {
    const a = parseNpy(fixture(name));
    assert.deepStrictEqual(a.shape, [2, 3, 4], name);
    assert.deepStrictEqual(a.data, expected, name);
  }
});

Deno.test("npy: accepts '|' and '<' for one-byte and '|f4' as native order", () => {
  const data = new Uint8Array(new Float32Array([1, 2]).buffer);
  const a = parseNpy(rawNpy("{'descr': '|f4', 'fortran_order': False, 'shape': (2,), }", data));
  assert.deepStrictEqual(a.data, new Float32Array([1, 2]));
  const b = parseNpy(
    rawNpy('{"descr": "<u1", "fortran_order": False, "shape": (2L,)}', new Uint8Array([7, 9])),
  );
  assert.deepStrictEqual(b, { shape: [2], dtype: "uint8", data: new Uint8Array([7, 9]) });
});

Deno.test("npy: views the input when aligned, copies when not", () => {
  const bytes = fixture("f4.npy");
  const a = parseNpy(bytes);
  assert(a.data.buffer === bytes.buffer, "aligned data is a view");
  const shifted = new Uint8Array(bytes.length + 1);
  shifted.set(bytes, 1);
  const b = parseNpy(shifted.subarray(1));
  assert(b.data.buffer !== shifted.buffer, "unaligned data is copied");
  assert.deepStrictEqual(b.data, a.data);
});

Deno.test({ name: "npy: the real MNIST MLP activations", ignore: !haveMnist }, () => {
  const expected: Record<string, { shape: number[]; dtype: string; sum: number }> = {
    x: { shape: [256, 784], dtype: "float32", sum: -7706.505787280854 },
    y: { shape: [256], dtype: "int32", sum: 1131 },
    layer1: { shape: [256, 256], dtype: "float32", sum: 102641.45363815106 },
    layer2: { shape: [256, 128], dtype: "float32", sum: 78436.65886457753 },
    layer3: { shape: [256, 64], dtype: "float32", sum: 37639.01997321332 },
    layer4: { shape: [256, 10], dtype: "float32", sum: -4319.5492620021105 },
  };
  for (const [name, e] of Object.entries(expected)) {
    const bytes = Deno.readFileSync(new URL(`${name}.npy`, MNIST));
    assert(isNpy(bytes));
    const a = parseNpy(bytes, { field: name });
    assert.deepStrictEqual(a.shape, e.shape, name);
    assert.deepStrictEqual(a.dtype, e.dtype, name);
    assert.ok(Math.abs((sum(a.data)) - e.sum) <= (1e-9) * Math.abs(e.sum), name);
  }
  const y = parseNpy(Deno.readFileSync(new URL("y.npy", MNIST)));
  assert.deepStrictEqual(y.data.subarray(0, 5), new Int32Array([7, 2, 1, 0, 4]));
  const x = parseNpy(Deno.readFileSync(new URL("x.npy", MNIST)));
  assert.ok(Math.abs((x.data[0] as number) - (-0.42421293)) <= 1e-7);
});

Deno.test("npy: truncated and over-long data", () => {
  const bytes = fixture("f4.npy");
  assertInputError(
    () =>
      parseNpy(bytes.subarray(0, bytes.length - 10), { field: "2/fc1", label: 'layer "2/fc1"' }),
    "malformed-file",
    'layer "2/fc1": npy data is truncated: header says 2x3x4 float32 (96 bytes) but 86 bytes follow',
    "2/fc1",
  );
  const longer = new Uint8Array(bytes.length + 4);
  longer.set(bytes);
  assertInputError(() => parseNpy(longer), "malformed-file", "npy data is too long");
  assertInputError(() => parseNpy(bytes.subarray(0, 9)), "malformed-file", "header is truncated");
  assertInputError(() => parseNpy(bytes.subarray(0, 40)), "malformed-file", "header is truncated");
});

Deno.test("npy: bad magic, version and header", () => {
  assertInputError(
    () => parseNpy(new TextEncoder().encode("1,2,3\n4,5,6\n"), { field: "x" }),
    "malformed-file",
    "not a .npy file",
    "x",
  );
  assertInputError(() => parseNpy(new Uint8Array(0)), "malformed-file", "not a .npy file");
  const v9 = fixture("f4.npy").slice();
  v9[6] = 9;
  assertInputError(() => parseNpy(v9), "malformed-file", "version 9.0");
  const data = new Uint8Array(8);
  const bad = [
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2,) ",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } trailing",
    "['descr', '<f4']",
    "{'descr': '<f4', 'fortran_order': False}",
    "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,)}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': 2}",
    "{'descr: '<f4', 'fortran_order': False, 'shape': (2,)}",
    "",
  ];
  for (const h of bad) {
    assertInputError(() => parseNpy(rawNpy(h, data)), "malformed-file", "header");
  }
});

Deno.test("npy: Fortran order is rejected", () => {
  assertInputError(() => parseNpy(fixture("fortran.npy")), "malformed-file", "Fortran");
});

Deno.test("npy: unsupported dtypes", () => {
  assertInputError(
    () =>
      parseNpy(
        rawNpy("{'descr': '<f16', 'fortran_order': False, 'shape': (1,)}", new Uint8Array(16)),
      ),
    "unsupported-dtype",
    "'<f16' (float128)",
  );
  assertInputError(() => parseNpy(fixture("c8.npy")), "unsupported-dtype", "'<c8' (complex64)");
  assertInputError(
    () =>
      parseNpy(
        rawNpy(
          "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}",
          new Uint8Array(8),
        ),
      ),
    "unsupported-dtype",
    "structured",
  );
  assertInputError(
    () =>
      parseNpy(rawNpy("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", new Uint8Array(8))),
    "unsupported-dtype",
    "object",
  );
});

Deno.test("npy: formatShape", () => {
  assert.deepStrictEqual(formatShape([]), "scalar");
  assert.deepStrictEqual(formatShape([256, 128]), "256x128");
});

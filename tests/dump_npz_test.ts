import assert from "node:assert/strict";
import { encodeNpz, parseNpy, parseNpz, parseNpzDump } from "../lib/dump/mod.ts";
import { InputError } from "../lib/errors.ts";
import type { NdArray } from "../lib/dump/mod.ts";
import { assertInputError, fixture, sum } from "./fixtures_dump/helpers.ts";

// Values printed by tests/fixtures_dump/make_fixtures.py.
const X_SUM = 3.3330845460295677;
const FC1_SUM = 5.609352081082761;
const FC2_SUM = 0.8033215657814834;
const X0 = [0.1257302165031433, -0.13210485875606537, 0.6404226422309875, 0.10490011423826218];
const LABELS = new Int32Array([0, 1, 2, 0, 1, 2, 0, 1]);

function checkSmall(arrays: Map<string, NdArray>, name: string) {
  assert.deepStrictEqual([...arrays.keys()], ["x", "y", "fc1", "fc2"], name);
  const x = arrays.get("x")!, y = arrays.get("y")!;
  assert.deepStrictEqual(x.shape, [8, 3, 2]);
  assert.deepStrictEqual(x.dtype, "float32");
  assert.ok(Math.abs((sum(x.data)) - X_SUM) <= (1e-12) * Math.abs(X_SUM), name);
  assert.deepStrictEqual(Array.from(x.data.subarray(0, 4) as Float32Array), X0.map(Math.fround));
  assert.deepStrictEqual(y, {
    shape: [8],
    dtype: "int64",
    data: BigInt64Array.from(LABELS, BigInt),
  });
  assert.ok(
    Math.abs((sum(arrays.get("fc1")!.data)) - FC1_SUM) <= (1e-12) * Math.abs(FC1_SUM),
    name,
  );
  assert.deepStrictEqual(arrays.get("fc2")!.dtype, "float64");
  assert.ok(
    Math.abs((sum(arrays.get("fc2")!.data)) - FC2_SUM) <= (1e-12) * Math.abs(FC2_SUM),
    name,
  );
}

Deno.test("npz: np.savez (stored) and np.savez_compressed (deflated) archives", () => {
  checkSmall(parseNpz(fixture("savez.npz")), "savez");
  checkSmall(parseNpz(fixture("savez_compressed.npz")), "savez_compressed");
});

Deno.test("npz: zip64 directory and end records", () => {
  const arrays = parseNpz(fixture("zip64.npz"));
  assert.deepStrictEqual([...arrays.keys()], ["x", "y", "fc1"]);
  assert.ok(
    Math.abs((sum(arrays.get("fc1")!.data)) - FC1_SUM) <= (1e-12) * Math.abs(FC1_SUM),
    "fc1",
  );
});

Deno.test("npz dump: one checkpoint, int64 labels, mixed float layers", () => {
  const dump = parseNpzDump(fixture("savez.npz"), "savez.npz");
  assert.deepStrictEqual(dump.x.rows, 8);
  assert.deepStrictEqual(dump.x.cols, 6);
  assert(dump.x.data instanceof Float32Array);
  assert.deepStrictEqual(dump.labels, LABELS);
  assert.deepStrictEqual(dump.numClasses, 3);
  assert.deepStrictEqual(dump.checkpoints.length, 1);
  assert.deepStrictEqual(dump.checkpoints[0].step, 0);
  const [fc1, fc2] = dump.checkpoints[0].layers;
  assert.deepStrictEqual([fc1.name, fc1.values.rows, fc1.values.cols], ["fc1", 8, 5]);
  assert.deepStrictEqual([fc2.name, fc2.values.rows, fc2.values.cols], ["fc2", 8, 4]);
  assert(fc1.values.data instanceof Float32Array);
  assert(fc2.values.data instanceof Float64Array);
});

Deno.test("npz dump: several checkpoints come out sorted by step", () => {
  const dump = parseNpzDump(fixture("checkpoints.npz"), "checkpoints.npz");
  assert.deepStrictEqual(dump.checkpoints.map((c) => c.step), [0, 20, 100]);
  for (const c of dump.checkpoints) {
    assert.deepStrictEqual(c.layers.map((l) => l.name), ["fc1", "fc2"]);
  }
  const fc2Sums = [0.8033215999603271, 16.86975061893463, 81.13546562194824];
  dump.checkpoints.forEach((c, i) => {
    assert.ok(
      Math.abs((sum(c.layers[1].values.data)) - (fc2Sums[i])) <= (1e-12) * Math.abs(fc2Sums[i]),
      `step ${c.step}`,
    );
    // fc1 + step, summed over 8x5 values.
    assert.ok(
      Math.abs((sum(c.layers[0].values.data)) - (FC1_SUM + 40 * c.step)) <=
        (1e-6) * Math.abs(FC1_SUM + 40 * c.step),
      "fc1",
    );
  });
});

Deno.test("npz dump: float64 arrays and one-hot labels", () => {
  const dump = parseNpzDump(fixture("float64.npz"));
  assert(dump.x.data instanceof Float64Array);
  assert.ok(Math.abs((sum(dump.x.data)) - X_SUM) <= (1e-12) * Math.abs(X_SUM), "x");
  assert.deepStrictEqual(dump.labels, LABELS);
  assert.deepStrictEqual(dump.numClasses, 3);
});

Deno.test("npz dump: big-endian arrays", () => {
  const dump = parseNpzDump(fixture("bigendian.npz"));
  const ref = parseNpzDump(fixture("savez.npz"));
  assert.deepStrictEqual(dump.x, ref.x);
  assert.deepStrictEqual(dump.labels, LABELS);
  assert.deepStrictEqual(
    Array.from(dump.checkpoints[0].layers[0].values.data),
    Array.from(ref.checkpoints[0].layers[0].values.data),
  );
});

function ramp<T extends Float32Array | Float64Array>(
  Kind: { from(a: ArrayLike<number>): T },
  n: number,
  start: number,
  cols: number,
): T {
  return Kind.from(Array.from({ length: n }, (_, i) => start + Math.floor(i / cols)));
}

function smallArrays(): Record<string, NdArray> {
  const m = 6;
  return {
    x: { shape: [m, 2, 2], dtype: "uint8", data: Uint8Array.from({ length: m * 4 }, (_, i) => i) },
    y: { shape: [m], dtype: "int32", data: Int32Array.from({ length: m }, (_, i) => i % 2) },
    // Starting at 1, 2, 3, 4 and growing by sample (a constant layer is refused).
    "0/fc1": { shape: [m, 3], dtype: "float32", data: ramp(Float32Array, m * 3, 1, 3) },
    "0/1": { shape: [m, 2], dtype: "float64", data: ramp(Float64Array, m * 2, 2, 2) },
    "10/fc1": { shape: [m, 3], dtype: "float32", data: ramp(Float32Array, m * 3, 3, 3) },
    "10/1": { shape: [m, 2], dtype: "float64", data: ramp(Float64Array, m * 2, 4, 2) },
  };
}

Deno.test("npz: encodeNpz round trip, stored and compressed, keeping key order", () => {
  const arrays = smallArrays();
  for (const compress of [false, true]) {
    const parsed = parseNpz(encodeNpz(arrays, { compress }));
    assert.deepStrictEqual([...parsed.keys()], Object.keys(arrays));
    for (const [k, a] of Object.entries(arrays)) assert.deepStrictEqual(parsed.get(k), a, k);
    const dump = parseNpzDump(encodeNpz(arrays, { compress }));
    assert.deepStrictEqual(dump.checkpoints.map((c) => c.step), [0, 10]);
    assert.deepStrictEqual(dump.checkpoints[1].layers.map((l) => l.name), ["fc1", "1"]);
    assert.deepStrictEqual(dump.checkpoints[1].layers[1].values.data[0], 4);
    assert.deepStrictEqual(dump.x.data, Float32Array.from({ length: 24 }, (_, i) => i));
  }
  const fromMap = parseNpz(encodeNpz(new Map([["b", arrays.x], ["a", arrays.y]])));
  assert.deepStrictEqual([...fromMap.keys()], ["b", "a"]);
});

Deno.test("npz: truncated archives", () => {
  for (const name of ["savez.npz", "savez_compressed.npz", "zip64.npz"]) {
    const bytes = fixture(name);
    for (const cut of [1, 10, 22, 100, Math.floor(bytes.length / 2), bytes.length - 30]) {
      // The message starts with the archive's name.
      assertInputError(
        () => parseNpz(bytes.subarray(0, bytes.length - cut), { source: name }),
        "malformed-file",
        `${name}: `,
      );
    }
  }
  assertInputError(
    () => parseNpz(fixture("savez.npz").subarray(0, 500), { source: "a.npz" }),
    "malformed-file",
    "a.npz: zip archive is truncated",
  );
});

Deno.test("npz: not a zip at all", () => {
  assertInputError(() => parseNpz(new Uint8Array(0)), "malformed-file", "not a .npz archive");
  assertInputError(() => parseNpz(fixture("f4.npy")), "malformed-file", "not a .npz archive");
  assertInputError(
    () => parseNpzDump(new TextEncoder().encode("x,y\n1,2\n"), "up.npz"),
    "malformed-file",
    "up.npz: not a .npz archive",
  );
});

/** Offsets of the central directory entries' fields in an archive fflate wrote. */
function centralEntries(zip: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 4 <= zip.length; i++) {
    if (zip[i] === 0x50 && zip[i + 1] === 0x4b && zip[i + 2] === 1 && zip[i + 3] === 2) out.push(i);
  }
  return out;
}

Deno.test("npz: damaged deflate data and lying sizes", () => {
  const arrays = { x: smallArrays().x };
  const zip = encodeNpz(arrays, { compress: true });
  const view = new DataView(zip.buffer);
  const [cd] = centralEntries(zip);
  const size = view.getUint32(cd + 24, true);

  const smaller = zip.slice();
  new DataView(smaller.buffer).setUint32(cd + 24, size - 10, true);
  assertInputError(() => parseNpz(smaller), "malformed-file", "inflates to more than");

  const larger = zip.slice();
  new DataView(larger.buffer).setUint32(cd + 24, size + 10, true);
  assertInputError(() => parseNpz(larger), "malformed-file", "but the zip directory says");

  const garbled = zip.slice();
  const dataStart = 30 + view.getUint16(26, true) + view.getUint16(28, true);
  garbled.fill(0xff, dataStart, dataStart + 8);
  assertInputError(() => parseNpz(garbled), "malformed-file", 'entry "x.npy"');

  const method = zip.slice();
  new DataView(method.buffer).setUint16(cd + 10, 12, true);
  assertInputError(() => parseNpz(method), "malformed-file", "compression method 12");
});

Deno.test("npz: maxBytes is checked before inflating", () => {
  const n = 1000 * 1000;
  const zeros: NdArray = { shape: [1000, 1000], dtype: "float32", data: new Float32Array(n) };
  const zip = encodeNpz({ x: zeros, y: zeros }, { compress: true });
  assert(zip.length < 50_000, "compresses well");
  // "too-large" is a 413.
  assertInputError(
    () => parseNpz(zip, { maxBytes: 4_000_000, source: "bomb.npz" }),
    "too-large",
    "bomb.npz: its arrays take 8.0 MB uncompressed, over the limit of 4.0 MB",
  );
  assert.deepStrictEqual(parseNpz(zip, { maxBytes: 9_000_000 }).size, 2);
  assertInputError(() => parseNpzDump(zip, "bomb.npz", { maxBytes: 1000 }), "too-large");
});

Deno.test("npz: errors inside an array name the layer", () => {
  const arrays = smallArrays();
  const zip = encodeNpz({ x: arrays.x, y: arrays.y, "2/fc1": arrays["0/fc1"] });
  // Shorten the stored entry's data by patching a header dimension: 6x3 becomes 6x4.
  const text = new TextDecoder("latin1").decode(zip);
  const at = text.indexOf("'shape': (6, 3)");
  assert(at > 0);
  const patched = zip.slice();
  patched[at + "'shape': (6, ".length] = "4".charCodeAt(0);
  assertInputError(
    () => parseNpzDump(patched),
    "malformed-file",
    'layer "2/fc1": npy data is truncated: header says 6x4 float32 (96 bytes) but 72 bytes follow',
    "2/fc1",
  );
});

Deno.test("npz dump: missing x or y, non-.npy entries, mixed keys", () => {
  const { x, y } = smallArrays();
  assertInputError(
    () => parseNpzDump(encodeNpz({ inputs: x, y, fc1: x }), "run.npz"),
    "missing-field",
    'run.npz: no array "x" in the archive (it has "inputs", "y", "fc1")',
    "x",
  );
  assertInputError(() => parseNpzDump(encodeNpz({ x, fc1: x })), "missing-field", '"y"', "y");
  assertInputError(() => parseNpzDump(encodeNpz({ x, y })), "missing-field", "no layer", "layers");
  // A zip holding something else than .npy files.
  const zip = encodeNpz({ x, y, fc1: x });
  const text = new TextDecoder("latin1").decode(zip);
  const renamed = zip.slice();
  for (let at = text.indexOf("fc1.npy"); at >= 0; at = text.indexOf("fc1.npy", at + 1)) {
    renamed.set(new TextEncoder().encode("fc1.txt"), at);
  }
  assertInputError(() => parseNpz(renamed), "malformed-file", 'entry "fc1.txt" is not a .npy');
  // Plain and step/name keys in one archive.
  assertInputError(
    () => parseNpzDump(encodeNpz({ x, y, fc1: x, "5/fc1": x })),
    "malformed-file",
    "mix plain names",
  );
});

Deno.test("npz/npy: damaged bytes only ever raise InputError", () => {
  // Deterministic xorshift so failures reproduce.
  let seed = 0x9e3779b9;
  const rand = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const files = ["savez.npz", "savez_compressed.npz", "zip64.npz", "checkpoints.npz", "f4.npy"];
  for (const name of files) {
    const good = fixture(name);
    for (let trial = 0; trial < 400; trial++) {
      let bytes = good.slice();
      const flips = 1 + rand(4);
      for (let k = 0; k < flips; k++) bytes[rand(bytes.length)] = rand(256);
      if (rand(3) === 0) bytes = bytes.subarray(0, rand(bytes.length));
      try {
        if (name.endsWith(".npy")) parseNpy(bytes);
        else parseNpzDump(bytes, name, { maxBytes: 1 << 20 });
      } catch (e) {
        assert(e instanceof InputError, `${name} trial ${trial}: ${e}`);
      }
    }
  }
});

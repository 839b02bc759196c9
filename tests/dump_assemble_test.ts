import assert from "node:assert/strict";
import { assembleDump, type LayerInput, parseLayerKey } from "../lib/dump/mod.ts";
import type { NdArray } from "../lib/dump/mod.ts";
import type { InputProblem } from "../lib/errors.ts";
import { assertInputError } from "./fixtures_dump/helpers.ts";

const m = 5;
const f32 = (shape: number[], f = (i: number) => i): NdArray => {
  const n = shape.reduce((p, v) => p * v, 1);
  return { shape, dtype: "float32", data: Float32Array.from({ length: n }, (_, i) => f(i)) };
};
const f64 = (shape: number[], values: number[]): NdArray => ({
  shape,
  dtype: "float64",
  data: new Float64Array(values),
});
const X = f32([m, 2, 3]);
const Y: NdArray = { shape: [m], dtype: "int32", data: new Int32Array([0, 2, 1, 2, 0]) };
const layer = (name: string, step: number | null = null, array = f32([m, 4])): LayerInput => ({
  step,
  name,
  array,
});

Deno.test("assemble: flattens, keeps float data without copying", () => {
  const fc1 = f32([m, 4]);
  const dump = assembleDump({ x: X, y: Y, layers: [{ step: null, name: "fc1", array: fc1 }] });
  assert.deepStrictEqual([dump.x.rows, dump.x.cols], [m, 6]);
  assert(dump.x.data === X.data, "x is not copied");
  assert(dump.checkpoints[0].layers[0].values.data === fc1.data, "layer is not copied");
  assert.deepStrictEqual(dump.labels, new Int32Array([0, 2, 1, 2, 0]));
  assert.deepStrictEqual(dump.numClasses, 3);
  assert.deepStrictEqual(dump.checkpoints.map((c) => c.step), [0]);
});

Deno.test("assemble: integer activations become float32", () => {
  const u8: NdArray = {
    shape: [m, 2],
    dtype: "uint8",
    data: Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 255]),
  };
  const i64: NdArray = {
    shape: [m, 1],
    dtype: "int64",
    data: BigInt64Array.from([-1n, 0n, 1n, 2n, 3n]),
  };
  const i32: NdArray = { shape: [m], dtype: "int32", data: Int32Array.from([9, 8, 7, 6, 5]) };
  const dump = assembleDump({
    x: u8,
    y: Y,
    layers: [layer("a", null, i64), layer("b", null, i32)],
  });
  assert(dump.x.data instanceof Float32Array);
  assert.deepStrictEqual(dump.x.data[9], 255);
  assert.deepStrictEqual(
    dump.checkpoints[0].layers[0].values.data,
    new Float32Array([-1, 0, 1, 2, 3]),
  );
  assert.deepStrictEqual([dump.checkpoints[0].layers[1].values.cols], [1]);
});

Deno.test("assemble: labels as floats, m x 1, int64 and one-hot", () => {
  const fromFloat = assembleDump({ x: X, y: f64([m], [0, 1, 1, 3, 0]), layers: [layer("a")] });
  // Class 2 never occurs: labels are renumbered over the classes present; 4 are declared.
  assert.deepStrictEqual(fromFloat.labels, new Int32Array([0, 1, 1, 2, 0]));
  assert.deepStrictEqual([fromFloat.classes, fromFloat.numClasses], [3, 4]);
  const column = assembleDump({ x: X, y: f64([m, 1], [1, 1, 0, 0, 1]), layers: [layer("a")] });
  assert.deepStrictEqual(column.labels, new Int32Array([1, 1, 0, 0, 1]));
  const i64: NdArray = {
    shape: [m],
    dtype: "int64",
    data: BigInt64Array.from([4n, 0n, 1n, 2n, 3n]),
  };
  assert.deepStrictEqual(assembleDump({ x: X, y: i64, layers: [layer("a")] }).numClasses, 5);
  const oneHot: NdArray = {
    shape: [m, 4],
    dtype: "uint8",
    data: Uint8Array.from([1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0]),
  };
  const hot = assembleDump({ x: X, y: oneHot, layers: [layer("a")] });
  assert.deepStrictEqual(hot.labels, new Int32Array([0, 2, 1, 0, 1]));
  assert.deepStrictEqual(hot.numClasses, 4, "C, even though class 3 never occurs");
  assert.deepStrictEqual(hot.classes, 3);
  // A stray class index costs nothing: the estimator sees two classes.
  const stray = assembleDump({ x: X, y: f64([m], [0, 15999, 0, 15999, 0]), layers: [layer("a")] });
  assert.deepStrictEqual([stray.classes, stray.numClasses], [2, 16000]);
});

Deno.test("assemble: invalid labels", () => {
  const bad = (y: NdArray, includes: string, problem: InputProblem = "invalid-labels") =>
    assertInputError(() => assembleDump({ x: X, y, layers: [layer("a")] }), problem, includes, "y");
  bad(f64([m], [0, 1, -1, 0, 1]), "y[2] is -1; class labels must be non-negative integers");
  bad(f64([m], [0, 1, 0.5, 0, 1]), "y[2] is 0.5");
  bad(f64([m], [0, 1, NaN, 0, 1]), "y has a non-finite value (NaN) at row 2", "non-finite");
  const rows = (r: number[][]) => f64([r.length, r[0].length], r.flat());
  bad(
    rows([[1, 0], [0, 1], [1, 1], [1, 0], [0, 1]]),
    "row 2 of the one-hot y is not one-hot ([1, 1])",
  );
  bad(rows([[1, 0], [0, 1], [0, 0], [1, 0], [0, 1]]), "row 2 of the one-hot y has no 1");
  bad(rows([[1, 0], [0, 1], [0.5, 0.5], [1, 0], [0, 1]]), "row 2 of the one-hot y is not one-hot");
  bad(rows([[1, 0], [0, 2], [0, 1], [1, 0], [0, 1]]), "row 1");
  bad(f32([m, 2, 2]), "y has shape 5x2x2");
  bad(f64([m - 1], [0, 1, 0, 1]), "y has 4 rows but x has 5", "shape-mismatch");
});

Deno.test("assemble: too few samples", () => {
  assertInputError(
    () =>
      assembleDump({
        x: f32([3, 2]),
        y: { shape: [3], dtype: "int32", data: new Int32Array(3) },
        layers: [layer("a", null, f32([3, 2]))],
      }),
    "too-few-samples",
    "x has 3 samples; at least 4 are needed",
    "x",
  );
});

Deno.test("assemble: mismatched rows name the layer", () => {
  assertInputError(
    () => assembleDump({ x: X, y: Y, layers: [layer("fc1", 3), layer("fc2", 3, f32([4, 4]))] }),
    "shape-mismatch",
    'layer "3/fc2" has 4 rows but x has 5',
    "3/fc2",
  );
  assertInputError(
    () =>
      assembleDump({
        x: X,
        y: Y,
        layers: [{ step: null, name: "fc1", array: f32([6, 2]), source: "fc1.csv" }],
      }),
    "shape-mismatch",
    'layer "fc1" (fc1.csv) has 6 rows',
  );
  assertInputError(
    () => assembleDump({ x: X, y: Y, layers: [layer("s", null, f32([]))] }),
    "shape-mismatch",
    "scalar",
  );
  assertInputError(
    () => assembleDump({ x: X, y: Y, layers: [layer("e", null, f32([m, 0]))] }),
    "shape-mismatch",
    "no values per sample",
  );
  assertInputError(
    () =>
      assembleDump({
        x: X,
        y: Y,
        layers: [
          layer("bad", null, { shape: [m, 3], dtype: "float32", data: new Float32Array(2) }),
        ],
      }),
    "shape-mismatch",
    "holds 2",
  );
});

Deno.test("assemble: non-finite values name field and row", () => {
  assertInputError(
    () =>
      assembleDump({
        x: X,
        y: Y,
        layers: [layer("fc1", 7), layer("fc2", 7, f32([m, 4], (i) => (i === 13 ? NaN : i)))],
      }),
    "non-finite",
    'layer "7/fc2" has a non-finite value (NaN) at row 3, column 1',
    "7/fc2",
  );
  assertInputError(
    () =>
      assembleDump({
        x: f64([m, 1], [0, 1, 2, Infinity, 4]),
        y: Y,
        layers: [layer("a")],
      }),
    "non-finite",
    "x has a non-finite value (Infinity) at row 3",
    "x",
  );
});

Deno.test("assemble: checkpoints sorted, layer order as first seen", () => {
  const dump = assembleDump({
    x: X,
    y: Y,
    layers: [
      layer("fc2", 100, f32([m, 4], (i) => 100 + i)),
      layer("fc1", 100),
      layer("fc1", 0),
      layer("fc2", 0, f32([m, 4], (i) => -i)),
      layer("fc2", 50),
      layer("fc1", 50),
    ],
  });
  assert.deepStrictEqual(dump.checkpoints.map((c) => c.step), [0, 50, 100]);
  for (const c of dump.checkpoints) {
    assert.deepStrictEqual(c.layers.map((l) => l.name), ["fc2", "fc1"]);
  }
  assert.deepStrictEqual(dump.checkpoints[2].layers[0].values.data[0], 100);
});

Deno.test("assemble: structural errors", () => {
  assertInputError(
    () => assembleDump({ x: X, y: Y, layers: [] }),
    "missing-field",
    "no layer",
    "layers",
  );
  assertInputError(
    () => assembleDump({ x: X, y: Y, layers: [layer("fc1"), layer("fc1", 10)] }),
    "malformed-file",
    'mix plain names ("fc1") with step/name keys ("10/fc1")',
  );
  assertInputError(
    () =>
      assembleDump({
        x: X,
        y: Y,
        layers: [layer("fc1", 0), layer("fc2", 0), layer("fc1", 10)],
      }),
    "missing-field",
    'layer "fc2" is recorded at step 0 but not at step 10',
    "10/fc2",
  );
  assertInputError(
    () => assembleDump({ x: X, y: Y, layers: [layer("fc1", 0), layer("fc1", 0)] }),
    "malformed-file",
    "given twice",
  );
  assertInputError(
    () => assembleDump({ x: X, y: Y, layers: [layer("fc1", -1)] }),
    "malformed-file",
    "non-negative integer",
  );
  assertInputError(
    () => assembleDump({ x: f32([]), y: Y, layers: [layer("a")] }),
    "shape-mismatch",
    "x is a scalar",
  );
});

Deno.test("parseLayerKey", () => {
  assert.deepStrictEqual(parseLayerKey("fc1"), { step: null, name: "fc1" });
  assert.deepStrictEqual(parseLayerKey("100/fc1"), { step: 100, name: "fc1" });
  assert.deepStrictEqual(parseLayerKey("0/enc/fc1"), { step: 0, name: "enc/fc1" });
  // A prefix that is not an integer names a checkpoint (never silently part of a layer name).
  assert.deepStrictEqual(parseLayerKey("enc/fc1"), { step: null, checkpoint: "enc", name: "fc1" });
  assert.deepStrictEqual(parseLayerKey("epoch1/block/fc1"), {
    step: null,
    checkpoint: "epoch1",
    name: "block/fc1",
  });
  // A negative step parses as a number and is rejected by assembleDump.
  assert.deepStrictEqual(parseLayerKey("-1/fc1"), { step: -1, name: "fc1" });
  assert.deepStrictEqual(parseLayerKey("/fc1"), { step: null, name: "/fc1" });
});

import assert from "node:assert/strict";
import { jsonToNdArray, parseJsonDump } from "../lib/dump/mod.ts";
import { assertInputError } from "./fixtures_dump/helpers.ts";

const x = [[[1, 2], [3, 4]], [[5, 6], [7, 8]], [[9, 10], [11, 12]], [[13, 14], [15, 16]]];
const y = [0, 1, 2, 1];
const fc1 = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]];
const fc2 = [[0.5], [1.5], [2.5], [3.5]];

Deno.test("json: one checkpoint, nested samples flattened", () => {
  const dump = parseJsonDump({ x, y, layers: { fc1, fc2 }, estimator: { sigma: 5 } });
  assert.deepStrictEqual([dump.x.rows, dump.x.cols], [4, 4]);
  assert(dump.x.data instanceof Float64Array);
  assert.deepStrictEqual(dump.x.data, Float64Array.from({ length: 16 }, (_, i) => i + 1));
  assert.deepStrictEqual(dump.labels, new Int32Array(y));
  assert.deepStrictEqual(dump.numClasses, 3);
  assert.deepStrictEqual(dump.checkpoints.length, 1);
  assert.deepStrictEqual(dump.checkpoints[0].step, 0);
  assert.deepStrictEqual(dump.checkpoints[0].layers.map((l) => [l.name, l.values.cols]), [
    ["fc1", 3],
    ["fc2", 1],
  ]);
});

Deno.test("json: checkpoints sorted by step, one-hot y", () => {
  const dump = parseJsonDump({
    x,
    y: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 1, 0, 0]],
    checkpoints: [
      { step: 200, layers: { fc1, fc2 } },
      { step: 0, layers: { fc1, fc2 } },
    ],
  });
  assert.deepStrictEqual(dump.checkpoints.map((c) => c.step), [0, 200]);
  assert.deepStrictEqual(dump.labels, new Int32Array([0, 1, 2, 1]), "renumbered: 2 is absent");
  assert.deepStrictEqual(dump.numClasses, 4);
});

Deno.test("json: unknown keys, with extra allowed keys", () => {
  assertInputError(
    () => parseJsonDump({ x, y, layers: { fc1 }, sigma: 5 }),
    "malformed-file",
    'unknown key "sigma"',
    "sigma",
  );
  parseJsonDump({ x, y, layers: { fc1 }, sigma: 5 }, { allowKeys: ["sigma"] });
  assertInputError(
    () => parseJsonDump({ x, y, checkpoints: [{ step: 0, layers: { fc1 }, lr: 1 }] }),
    "malformed-file",
    'unknown key "lr" in checkpoints[0]',
  );
});

Deno.test("json: missing and misshapen fields", () => {
  assertInputError(() => parseJsonDump({ y, layers: { fc1 } }), "missing-field", '"x"', "x");
  assertInputError(() => parseJsonDump({ x, layers: { fc1 } }), "missing-field", '"y"', "y");
  assertInputError(() => parseJsonDump({ x, y }), "missing-field", '"layers"', "layers");
  assertInputError(() => parseJsonDump({ x, y, layers: {} }), "missing-field", "no layer");
  assertInputError(() => parseJsonDump([x]), "malformed-file", "must be a JSON object");
  assertInputError(() => parseJsonDump(null), "malformed-file", "must be a JSON object");
  assertInputError(
    () => parseJsonDump({ x, y, layers: { fc1 }, checkpoints: [] }),
    "malformed-file",
    "both",
  );
  assertInputError(
    () => parseJsonDump({ x, y, layers: [fc1] }),
    "malformed-file",
    "layers must be an object",
  );
  assertInputError(
    () => parseJsonDump({ x, y, checkpoints: [{ layers: { fc1 } }] }),
    "missing-field",
    "checkpoints[0].step must be a non-negative integer",
  );
  assertInputError(
    () => parseJsonDump({ x, y, checkpoints: [{ step: 1.5, layers: { fc1 } }] }),
    "malformed-file",
    "got 1.5",
  );
  assertInputError(
    () => parseJsonDump({ x: "abc", y, layers: { fc1 } }),
    "malformed-file",
    'x must be an array (one entry per sample), got the string "abc"',
  );
});

Deno.test("json: ragged and non-numeric arrays name the element", () => {
  assertInputError(
    () => parseJsonDump({ x: [[1, 2], [3], [4, 5], [6, 7]], y, layers: { fc1 } }),
    "shape-mismatch",
    "x[1] should be an array of 2 like x[0], but is an array of 1",
    "x",
  );
  assertInputError(
    () =>
      parseJsonDump({
        x,
        y,
        checkpoints: [{ step: 3, layers: { fc1: [[1, 2, 3], [1, 2, 3], [1, "a", 3], [1, 2, 3]] } }],
      }),
    "malformed-file",
    'layer "3/fc1"[2][1] is the string "a", not a number',
    "3/fc1",
  );
  assertInputError(
    () => parseJsonDump({ x: [1, [2, 3], 4, 5], y, layers: { fc1 } }),
    "malformed-file",
    "x[1] is an array, not a number",
  );
});

Deno.test("json: null is NaN, reported as non-finite with its row", () => {
  assertInputError(
    () => parseJsonDump({ x, y, layers: { fc1: [[1, 2, 3], [1, 2, 3], [1, 2, 3], [1, null, 3]] } }),
    "non-finite",
    'layer "fc1" has a non-finite value (NaN) at row 3, column 1',
    "fc1",
  );
});

Deno.test("json: jsonToNdArray shapes", () => {
  assert.deepStrictEqual(jsonToNdArray([1, 2, 3], "v"), {
    shape: [3],
    dtype: "float64",
    data: new Float64Array([1, 2, 3]),
  });
  assert.deepStrictEqual(jsonToNdArray([], "v").shape, [0]);
  assert.deepStrictEqual(jsonToNdArray([[[]], [[]]], "v").shape, [2, 1, 0]);
});

import assert from "node:assert/strict";
import { parseArrayFile, parseCsv } from "../lib/dump/mod.ts";
import { assertInputError, fixture } from "./fixtures_dump/helpers.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("csv: plain matrix", () => {
  const a = parseCsv(enc("1,2,3\n4,5,6\n"), "a.csv");
  assert.deepStrictEqual(a, {
    shape: [2, 3],
    dtype: "float64",
    data: new Float64Array([1, 2, 3, 4, 5, 6]),
  });
});

Deno.test("csv: header row is detected and skipped", () => {
  const a = parseCsv(enc("f0,f1\n0.5,-1e-3\n.25,+2\n"), "h.csv");
  assert.deepStrictEqual(a.shape, [2, 2]);
  assert.deepStrictEqual(a.data, new Float64Array([0.5, -1e-3, 0.25, 2]));
  // pandas writes an empty first header cell for the index column.
  assert.deepStrictEqual(parseCsv(",0,1\n0,1,2\n1,3,4\n", "p.csv").shape, [2, 3]);
  // A numeric first row is data.
  assert.deepStrictEqual(parseCsv("0,1\n2,3\n", "n.csv").shape, [2, 2]);
});

Deno.test("csv: CRLF, BOM, quotes, spaces, blank lines, float32", () => {
  const a = parseCsv(enc('\ufeffa, b\r\n "1" , 2\r\n\r\n3,4\r\n  \r\n'), "w.csv", {
    dtype: "float32",
  });
  assert.deepStrictEqual(a, {
    shape: [2, 2],
    dtype: "float32",
    data: new Float32Array([1, 2, 3, 4]),
  });
  const single = parseCsv("label\n3\n1\n0\n", "y.csv");
  assert.deepStrictEqual(single.shape, [3, 1]);
});

Deno.test("csv: nan and inf spellings are numbers (validation rejects them later)", () => {
  const a = parseCsv("nan,inf,-inf,NaN,-Infinity\n", "s.csv");
  assert.deepStrictEqual(a.data, new Float64Array([NaN, Infinity, -Infinity, NaN, -Infinity]));
});

Deno.test("csv: ragged rows name the file and row", () => {
  assertInputError(
    () => parseCsv("a,b,c\n1,2,3\n4,5,6\n7,8\n", "fc1.csv", { field: "fc1" }),
    "malformed-file",
    "fc1.csv: row 3 (line 4) has 2 columns but row 1 has 3",
    "fc1",
  );
  assertInputError(
    () => parseCsv("1,2\n3,4,5\n", "x.csv"),
    "malformed-file",
    "x.csv: row 2 (line 2) has 3 columns",
    "x.csv",
  );
});

Deno.test("csv: non-numeric cells name row and column", () => {
  assertInputError(
    () => parseCsv("1,2,3\n4,abc,6\n", "x.csv"),
    "malformed-file",
    'x.csv: row 2 (line 2), column 2: "abc" is not a number',
  );
  assertInputError(
    () => parseCsv("h1,h2\n1,2\n3,\n", "x.csv"),
    "malformed-file",
    'row 2 (line 3), column 2: "" is not a number',
  );
  for (const bad of ["0x10", "1,000", "1e", "--1", "Infinityx"]) {
    assertInputError(
      () => parseCsv(`1,2\n3,"${bad}"\n`, "q.csv"),
      "malformed-file",
      "not a number",
    );
  }
});

Deno.test("csv: empty, header-only, unclosed quote, binary", () => {
  assertInputError(() => parseCsv("", "e.csv"), "malformed-file", "e.csv: has no data rows");
  assertInputError(() => parseCsv("\n\n", "e.csv"), "malformed-file", "has no data rows");
  assertInputError(() => parseCsv("a,b\n", "h.csv"), "malformed-file", "header but no data rows");
  assertInputError(
    () => parseCsv('1,"2\n3,4\n', "q.csv"),
    "malformed-file",
    "q.csv: not valid CSV",
  );
  assertInputError(
    () => parseCsv(new Uint8Array([0xff, 0xfe, 0x00, 0x31]), "b.csv"),
    "malformed-file",
    "not a text",
  );
});

Deno.test("parseArrayFile: sniffs .npy vs CSV and names file and field", () => {
  const npy = parseArrayFile(fixture("i4.npy"), "layer.npy", "3/fc1");
  assert.deepStrictEqual(npy.dtype, "int32");
  assert.deepStrictEqual(npy.shape, [2, 3, 4]);
  const csv = parseArrayFile(enc("1,2\n3,4\n"), "layer.csv", "fc1");
  assert.deepStrictEqual(csv.shape, [2, 2]);
  assertInputError(
    () => parseArrayFile(enc("1,2\n3\n"), "layer.csv", "fc1"),
    "malformed-file",
    "layer.csv (fc1): row 2",
    "fc1",
  );
  const f4 = fixture("f4.npy");
  assertInputError(
    () => parseArrayFile(f4.subarray(0, 150), "x.npy", "x"),
    "malformed-file",
    "x.npy (x): npy data is truncated",
    "x",
  );
  assertInputError(
    () => parseArrayFile(fixture("savez.npz"), "d.npz", "x"),
    "malformed-file",
    "is a zip archive",
  );
});

Deno.test("csv: object property names are not numbers", () => {
  assertInputError(
    () => parseCsv("1,2\n3,constructor\n", "p.csv"),
    "malformed-file",
    '"constructor" is not a number',
  );
});

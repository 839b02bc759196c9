/**
 * Reader for one numeric matrix per CSV file (comma separated, optional header row).
 *
 * @module
 */

import { parse } from "csv-parse/sync";
import { InputError } from "../errors.ts";
import type { NdArray } from "./types.ts";

/** Options for {@linkcode parseCsv}. */
export interface CsvOptions {
  /** Field for {@linkcode InputError.field}, e.g. `"x"` or `"fc1"`. Defaults to the file name. */
  field?: string;
  /** Element type of the result. Default `"float64"`. */
  dtype?: "float64" | "float32";
}

// Decimal numbers plus the spellings numpy.savetxt and pandas use for NaN and infinities,
// which parse here so that validation can report them as non-finite rather than as text.
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL: Record<string, number> = {
  "nan": NaN,
  "+nan": NaN,
  "-nan": NaN,
  "inf": Infinity,
  "+inf": Infinity,
  "-inf": -Infinity,
  "infinity": Infinity,
  "+infinity": Infinity,
  "-infinity": -Infinity,
};

function toNumber(cell: string): number | undefined {
  if (NUMBER.test(cell)) return Number(cell);
  const key = cell.toLowerCase();
  return Object.hasOwn(SPECIAL, key) ? SPECIAL[key] : undefined;
}

/**
 * Parses a CSV file holding one matrix: one row per line, comma separated. The first row is
 * taken as a header (and skipped) when any of its cells is not a number. Empty lines are
 * ignored; cells may be quoted and padded with spaces. `nan`, `inf` and `-inf` are read as
 * such (and rejected later as non-finite).
 *
 * Row numbers in messages count data rows from 1 (header excluded), with the file's line
 * number alongside.
 *
 * @example Usage
 * ```ts ignore
 * const a = parseCsv(await Deno.readFile("fc1.csv"), "fc1.csv", { field: "fc1" });
 * a.shape; // [256, 128]
 * ```
 *
 * @param input The file's bytes or text.
 * @param filename Name of the file, used in messages.
 * @param options Field name and element type.
 * @returns A `rows x cols` array.
 * @throws {InputError} `malformed-file` for ragged rows, non-numeric cells, bad quoting or no
 * data.
 */
export function parseCsv(
  input: Uint8Array | string,
  filename: string,
  options: CsvOptions = {},
): NdArray {
  const field = options.field ?? filename;
  const malformed = (msg: string) => new InputError("malformed-file", `${filename}: ${msg}`, field);
  let text: string;
  try {
    text = typeof input === "string"
      ? input
      : new TextDecoder("utf-8", { fatal: true }).decode(input);
  } catch {
    throw malformed("not a text (UTF-8) CSV file");
  }

  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      // Ragged rows are reported below, with the row number and both lengths.
      relax_column_count: true,
      info: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (e) {
    throw malformed(`not valid CSV: ${(e as Error).message}`);
  }
  // A trailing line of only spaces survives skip_empty_lines as a single empty cell.
  while (records.length > 0 && isBlank(records[records.length - 1].record)) records.pop();

  let first = 0;
  if (records.length > 0 && records[0].record.some((c) => toNumber(c) === undefined)) first = 1;
  const rows = records.length - first;
  if (rows === 0) throw malformed(first ? "has a header but no data rows" : "has no data rows");

  const cols = records[first].record.length;
  const data = options.dtype === "float32"
    ? new Float32Array(rows * cols)
    : new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const { record, info } = records[first + r];
    const where = `row ${r + 1} (line ${info.lines})`;
    if (record.length !== cols) {
      throw malformed(`${where} has ${record.length} columns but row 1 has ${cols}`);
    }
    for (let c = 0; c < cols; c++) {
      const v = toNumber(record[c]);
      if (v === undefined) {
        throw malformed(
          `${where}, column ${c + 1}: ${JSON.stringify(truncate(record[c]))} is not a number`,
        );
      }
      data[r * cols + c] = v;
    }
  }
  return { shape: [rows, cols], dtype: options.dtype ?? "float64", data };
}

function isBlank(record: string[]): boolean {
  return record.length === 1 && record[0] === "";
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

/**
 * The input layer: reads activation dumps from `.npz`, `.npy`, CSV and JSON, and validates
 * them into a {@linkcode Dump}.
 *
 * @example Usage
 * ```ts ignore
 * import { parseNpzDump } from "./lib/dump/mod.ts";
 * const dump = parseNpzDump(await Deno.readFile("run.npz"), "run.npz", { maxBytes: 1 << 30 });
 * ```
 *
 * @module
 */

import { InputError } from "../errors.ts";
import { assembleDump, type LayerInput, parseLayerKey } from "./assemble.ts";
import { parseCsv } from "./csv.ts";
import { isNpy, parseNpy } from "./npy.ts";
import { parseNpz } from "./npz.ts";
import type { Dump, NdArray } from "./types.ts";

export type * from "./types.ts";
export {
  assembleDump,
  type DumpArrays,
  type LayerInput,
  MIN_SAMPLES,
  parseLayerKey,
  toLabels,
  toMatrix,
} from "./assemble.ts";
export { type CsvOptions, parseCsv } from "./csv.ts";
export { jsonDumpArrays, type JsonDumpOptions, jsonToNdArray, parseJsonDump } from "./json.ts";
export {
  type DType,
  DTYPE_SIZE,
  formatShape,
  isNpy,
  NPY_MAGIC,
  type NpyOptions,
  parseNpy,
} from "./npy.ts";
export { formatBytes, type NpzOptions, parseNpz } from "./npz.ts";
export {
  dumpBuffers,
  encodeDump,
  encodeNpy,
  encodeNpz,
  type EncodeNpzOptions,
} from "./npz_write.ts";

/** Options for {@linkcode parseNpzDump}. */
export interface NpzDumpOptions {
  /** Limit on the total uncompressed size of the archive's arrays (`too-large` beyond it). */
  maxBytes?: number;
}

/**
 * Parses a `.npz` dump: arrays `x` and `y`, plus one array per layer, keyed `<layer>` for a
 * single checkpoint or `<step>/<layer>` for several. Layers keep the archive's order.
 *
 * @example Usage
 * ```ts ignore
 * const dump = parseNpzDump(bytes, "run.npz");
 * dump.checkpoints.map((c) => c.step); // [0, 100, 200]
 * ```
 *
 * @param bytes The archive.
 * @param source Its name in messages, e.g. the uploaded file name.
 * @param options Size limit.
 * @returns The validated dump.
 * @throws {InputError} For any problem with the archive or its arrays.
 */
export function parseNpzDump(
  bytes: Uint8Array,
  source = "dump",
  options: NpzDumpOptions = {},
): Dump {
  const arrays = parseNpz(bytes, {
    source,
    maxBytes: options.maxBytes,
    field: "dump",
    label: (key) => key === "x" || key === "y" ? `array "${key}"` : `layer "${key}"`,
  });
  const get = (key: "x" | "y"): NdArray => {
    const a = arrays.get(key);
    if (a) return a;
    const found = [...arrays.keys()];
    throw new InputError(
      "missing-field",
      `${source}: no array "${key}" in the archive (it has ${
        found.length ? found.map((k) => `"${k}"`).join(", ") : "no arrays"
      }); save it with np.savez(..., x=inputs, y=labels, <layer>=activations)`,
      key,
    );
  };
  const x = get("x");
  const y = get("y");
  const layers: LayerInput[] = [];
  for (const [key, array] of arrays) {
    if (key === "x" || key === "y") continue;
    layers.push({ ...parseLayerKey(key), array });
  }
  return assembleDump({ x, y, layers });
}

/**
 * Reads one array uploaded as a file: `.npy` if it starts with the numpy magic string,
 * otherwise CSV (read as float64).
 *
 * @param bytes The file.
 * @param filename Its name, for messages.
 * @param field The dump field it fills (`x`, `y` or a layer key), for messages.
 * @returns The array.
 * @throws {InputError} For a damaged or unsupported file.
 */
export function parseArrayFile(bytes: Uint8Array, filename: string, field: string): NdArray {
  if (isNpy(bytes)) return parseNpy(bytes, { field, label: `${filename} (${field})` });
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] < 8) {
    throw new InputError(
      "malformed-file",
      `${filename} (${field}) is a zip archive (.npz); upload a single .npy or CSV array here, or ` +
        `send the whole .npz as the dump`,
      field,
    );
  }
  return parseCsv(bytes, `${filename} (${field})`, { field });
}
export { dumpFromForm, type FormDump } from "./form.ts";
export { MAX_CLASSES } from "./assemble.ts";

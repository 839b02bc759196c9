/**
 * Writers for `.npy` and `.npz`, producing what `np.save` / `np.savez` would. Used by tests
 * and the demo to build dumps without Python.
 *
 * @module
 */

import { type Zippable, zipSync } from "fflate";
import { DTYPE_SIZE, HOST_LITTLE_ENDIAN } from "./npy.ts";
import type { Dump, NdArray } from "./types.ts";

/** Options for {@linkcode encodeNpz}. */
export interface EncodeNpzOptions {
  /** Deflate every entry, like `np.savez_compressed`. Default false (stored, like `np.savez`). */
  compress?: boolean;
}

const DESCR: Record<NdArray["dtype"], string> = {
  float32: "f4",
  float64: "f8",
  int32: "i4",
  int64: "i8",
  uint8: "u1",
};

// numpy pads the header so that the data starts on a 64-byte boundary.
const ARRAY_ALIGN = 64;
// numpy leaves room to rewrite the first axis in place as an array grows (numpy >= 1.24).
const GROWTH_AXIS_MAX_DIGITS = 21;

/**
 * Encodes an array as a `.npy` file (format 1.0, or 2.0 if the header needs it), byte for
 * byte what numpy 2 writes for a C-ordered array.
 *
 * @example Usage
 * ```ts ignore
 * const bytes = encodeNpy({ shape: [2, 2], dtype: "float32", data: new Float32Array(4) });
 * ```
 *
 * @param a The array; `data.length` must equal the product of `shape`.
 * @returns The file's bytes.
 */
export function encodeNpy(a: NdArray): Uint8Array {
  const count = a.shape.reduce((p, n) => p * n, 1);
  if (a.data.length !== count) {
    throw new RangeError(
      `data has ${a.data.length} elements but shape [${a.shape}] needs ${count}`,
    );
  }
  const order = DTYPE_SIZE[a.dtype] === 1 ? "|" : HOST_LITTLE_ENDIAN ? "<" : ">";
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(", ")})`;
  let header = `{'descr': '${order}${
    DESCR[a.dtype]
  }', 'fortran_order': False, 'shape': ${shape}, }`;
  if (a.shape.length > 0) {
    header += " ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(a.shape[0]).length));
  }
  const hlen = header.length + 1; // + the final newline
  let prefixLen = 10;
  let pad = ARRAY_ALIGN - ((prefixLen + hlen) % ARRAY_ALIGN);
  if (hlen + pad > 0xffff) {
    // Format 1.0 stores the header length in 16 bits; 2.0 widens it to 32.
    prefixLen = 12;
    pad = ARRAY_ALIGN - ((prefixLen + hlen) % ARRAY_ALIGN);
  }
  const dataStart = prefixLen + hlen + pad;
  const raw = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const out = new Uint8Array(dataStart + raw.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, prefixLen === 10 ? 1 : 2, 0]);
  const total = hlen + pad;
  const view = new DataView(out.buffer);
  if (prefixLen === 10) view.setUint16(8, total, true);
  else view.setUint32(8, total, true);
  for (let i = 0; i < header.length; i++) out[prefixLen + i] = header.charCodeAt(i);
  out.fill(0x20, prefixLen + header.length, dataStart - 1);
  out[dataStart - 1] = 0x0a;
  out.set(raw, dataStart);
  return out;
}

/**
 * Encodes arrays as a `.npz` archive, naming each entry `<key>.npy` in insertion order.
 *
 * Entries are written without zip64 records, so each must stay under 4 GiB.
 *
 * @example Usage
 * ```ts ignore
 * const npz = encodeNpz({ x, y, "0/fc1": a, "100/fc1": b }, { compress: true });
 * ```
 *
 * @param entries Arrays by key, e.g. `x`, `y`, `fc1` or `100/fc1`.
 * @param opts Whether to deflate.
 * @returns The archive's bytes.
 */
export function encodeNpz(
  entries: Record<string, NdArray> | Map<string, NdArray>,
  opts: EncodeNpzOptions = {},
): Uint8Array {
  const level = opts.compress ? 6 : 0;
  // A fixed timestamp keeps the output reproducible.
  const mtime = new Date(2000, 0, 1);
  const files: Zippable = {};
  const pairs = entries instanceof Map ? entries.entries() : Object.entries(entries);
  // "<key>.npy" is never an integer-like property name, so object order stays insertion order.
  for (const [key, a] of pairs) files[`${key}.npy`] = [encodeNpy(a), { level, mtime }];
  return zipSync(files);
}

/**
 * Encodes a dump back into the dump format (`x`, `y`, `<step>/<layer>`): how a queued analysis
 * keeps its input.
 *
 * @param dump the dump
 * @returns the .npz bytes (stored, not compressed: activations rarely compress)
 */
export function encodeDump(dump: Dump): Uint8Array {
  const asNd = (data: Float32Array | Float64Array, shape: number[]): NdArray => ({
    shape,
    dtype: data instanceof Float64Array ? "float64" : "float32",
    data,
  });
  const arrays: Record<string, NdArray> = {
    x: asNd(dump.x.data, [dump.x.rows, dump.x.cols]),
    y: { shape: [dump.labels.length], dtype: "int32", data: dump.labels },
  };
  for (const cp of dump.checkpoints) {
    for (const l of cp.layers) {
      arrays[`${cp.step}/${l.name}`] = asNd(l.values.data, [l.values.rows, l.values.cols]);
    }
  }
  return encodeNpz(arrays);
}

/** The distinct ArrayBuffers behind a dump's arrays (to transfer them to a worker). */
export function dumpBuffers(dump: Dump): ArrayBuffer[] {
  const all = [
    dump.x.data,
    dump.labels,
    ...dump.checkpoints.flatMap((c) => c.layers.map((l) => l.values.data)),
  ];
  return [...new Set(all.map((a) => a.buffer))].filter((b): b is ArrayBuffer =>
    b instanceof ArrayBuffer
  );
}

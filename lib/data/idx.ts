/**
 * Reader for the IDX format (LeCun's MNIST container), plain or gzipped.
 *
 * Layout: two zero bytes, a dtype byte, the number of dimensions, then one big-endian uint32 per
 * dimension, then the data in C order, big-endian.
 *
 * @module
 */

import { gunzipSync } from "fflate";
import { InputError } from "../errors.ts";
import type { NdArray } from "../dump/mod.ts";

/** IDX dtype codes this reader converts; sbyte (0x09) and short (0x0B) have no NdArray dtype. */
const IDX_DTYPES: Record<number, { dtype: NdArray["dtype"]; size: number }> = {
  0x08: { dtype: "uint8", size: 1 },
  0x0c: { dtype: "int32", size: 4 },
  0x0d: { dtype: "float32", size: 4 },
  0x0e: { dtype: "float64", size: 8 },
};

/** True when the bytes start with the gzip magic number (1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Gunzip `bytes` if they are gzipped, else return them unchanged.
 *
 * @throws {InputError} "malformed-file" when the gzip stream is corrupt or truncated.
 */
export function maybeGunzip(bytes: Uint8Array, name = "IDX file"): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (e) {
    throw new InputError(
      "malformed-file",
      `${name}: corrupt or truncated gzip data (${(e as Error).message})`,
    );
  }
}

/**
 * Parse an IDX file from memory. Gzipped input is detected by its magic bytes and inflated.
 * Unsigned-byte data is returned as a view on the (inflated) input, without a copy.
 *
 * @example
 * ```ts ignore
 * const labels = parseIdx(await Deno.readFile("t10k-labels-idx1-ubyte.gz"));
 * labels.shape; // [10000]
 * ```
 *
 * @param bytes the file's contents
 * @param name how error messages refer to the file
 * @throws {InputError} "malformed-file" on a bad magic number, truncation or trailing bytes;
 *   "unsupported-dtype" for IDX types without an NdArray equivalent.
 */
export function parseIdx(bytes: Uint8Array, name = "IDX file"): NdArray {
  const raw = maybeGunzip(bytes, name);
  if (raw.length < 4) {
    throw new InputError("malformed-file", `${name}: too short for an IDX header`);
  }
  if (raw[0] !== 0 || raw[1] !== 0) {
    throw new InputError(
      "malformed-file",
      `${name}: bad IDX magic number (expected 00 00 <dtype> <ndim>)`,
    );
  }
  const code = raw[2];
  const ndim = raw[3];
  const kind = IDX_DTYPES[code];
  if (kind === undefined) {
    const known = code === 0x09 || code === 0x0b;
    throw new InputError(
      known ? "unsupported-dtype" : "malformed-file",
      known
        ? `${name}: IDX dtype 0x${
          code.toString(16)
        } is not supported (use ubyte, int, float or double)`
        : `${name}: unknown IDX dtype byte 0x${code.toString(16)}`,
    );
  }
  if (ndim === 0) throw new InputError("malformed-file", `${name}: IDX header declares 0 dims`);
  const headerLen = 4 + 4 * ndim;
  if (raw.length < headerLen) {
    throw new InputError("malformed-file", `${name}: truncated IDX header`);
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let d = 0; d < ndim; d++) {
    const dim = view.getUint32(4 + 4 * d, false);
    shape.push(dim);
    count *= dim;
  }
  const expected = headerLen + count * kind.size;
  if (raw.length < expected) {
    throw new InputError(
      "malformed-file",
      `${name}: truncated IDX data (shape [${
        shape.join(", ")
      }] needs ${expected} bytes, got ${raw.length})`,
    );
  }
  if (raw.length > expected) {
    throw new InputError(
      "malformed-file",
      `${name}: ${raw.length - expected} unexpected trailing bytes after IDX data`,
    );
  }
  return { shape, dtype: kind.dtype, data: decode(view, headerLen, count, kind.dtype, raw) };
}

function decode(
  view: DataView,
  offset: number,
  count: number,
  dtype: NdArray["dtype"],
  raw: Uint8Array,
): NdArray["data"] {
  switch (dtype) {
    case "uint8":
      return raw.subarray(offset, offset + count);
    case "int32": {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case "float32": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    default: {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
  }
}

/**
 * Read and parse an IDX file (plain or `.gz`) from disk.
 *
 * @throws {InputError} as {@linkcode parseIdx}; file-system errors propagate unchanged.
 */
export async function readIdxFile(path: string | URL): Promise<NdArray> {
  const bytes = await Deno.readFile(path);
  const name = path instanceof URL ? path.pathname.split("/").pop()! : path;
  return parseIdx(bytes, name);
}

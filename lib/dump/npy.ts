/**
 * Reader for numpy's `.npy` format (versions 1.0, 2.0 and 3.0).
 *
 * Supported dtypes are float32, float64, int32, int64 and uint8 in either byte order;
 * big-endian data is byte-swapped into a fresh buffer. 16-bit floats are read exactly as
 * float32: float16 (`'<f2'`) and bfloat16. numpy has no bfloat16 of its own: ml_dtypes (which
 * JAX uses) registers it as a 2-byte "void" type, so `np.save` writes its descr as `'<V2'`
 * (`'|V2'` and `'>V2'` are read too, and so are the hand-written names `'bfloat16'` and
 * `'<bfloat16'`); a 2-byte void array is taken to be bfloat16. Fortran-ordered, structured and
 * object arrays are rejected. Little-endian data whose offset is aligned for its element
 * size is returned as a view on the caller's buffer, without a copy.
 *
 * @module
 */

import { InputError } from "../errors.ts";
import type { NdArray, NumericArray } from "./types.ts";

/** The six bytes every `.npy` file starts with: `\x93NUMPY`. */
export const NPY_MAGIC: Uint8Array = new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

/** Element types an {@linkcode NdArray} may hold. */
export type DType = NdArray["dtype"];

/** Bytes per element of each supported dtype. */
export const DTYPE_SIZE: Readonly<Record<DType, number>> = {
  float32: 4,
  float64: 8,
  int32: 4,
  int64: 8,
  uint8: 1,
};

/** True on every platform Deno ships for; kept explicit so byte swapping stays correct. */
export const HOST_LITTLE_ENDIAN: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const MAX_HEADER_BYTES = 1 << 20;

/** Where an array came from, for error messages and {@linkcode InputError.field}. */
export interface NpyOptions {
  /** The field at fault reported in errors, e.g. `"x"` or `"3/fc1"`. */
  field?: string;
  /** How messages name the array, e.g. `layer "3/fc1"` or `file "x.npy"`. Defaults to the field. */
  label?: string;
}

/** Whether `bytes` starts with the `.npy` magic string. */
export function isNpy(bytes: Uint8Array): boolean {
  if (bytes.length < NPY_MAGIC.length) return false;
  for (let i = 0; i < NPY_MAGIC.length; i++) {
    if (bytes[i] !== NPY_MAGIC[i]) return false;
  }
  return true;
}

/**
 * Parses one `.npy` file.
 *
 * The result may share memory with `bytes` (when no byte swap is needed and the data offset
 * is aligned), so the caller must not reuse that buffer while the array is in use.
 *
 * @example Usage
 * ```ts ignore
 * const a = parseNpy(await Deno.readFile("x.npy"), { field: "x", label: 'file "x.npy"' });
 * a.shape; // [256, 784]
 * ```
 *
 * @param bytes The whole file.
 * @param options Names used in error messages.
 * @returns The array in C order.
 * @throws {InputError} `malformed-file` for a bad magic string, header or length;
 * `unsupported-dtype` for other dtypes.
 */
export function parseNpy(bytes: Uint8Array, options: NpyOptions = {}): NdArray {
  const field = options.field;
  const label = options.label ?? (field !== undefined ? `"${field}"` : "array");
  try {
    return parseNpyUnchecked(bytes, label, field);
  } catch (e) {
    if (e instanceof InputError) throw e;
    // Bad bytes must surface as a user error, never as a RangeError from a typed array.
    throw new InputError(
      "malformed-file",
      `${label}: not a valid .npy file (${(e as Error).message})`,
      field,
    );
  }
}

/** What an .npy header says, and where its data starts. */
interface NpyLayout {
  shape: number[];
  dtype: DType;
  bigEndian: boolean;
  half?: "float16" | "bfloat16";
  dataStart: number;
  /** Bytes of data the header announces. */
  nbytes: number;
}

/**
 * Reads an .npy header (the file's first bytes suffice).
 *
 * @throws {InputError} as {@link parseNpy} does for header faults
 */
function readNpyLayout(bytes: Uint8Array, label: string, field?: string): NpyLayout {
  const malformed = (msg: string) => new InputError("malformed-file", `${label}: ${msg}`, field);
  if (!isNpy(bytes)) {
    throw malformed("not a .npy file (it does not start with the \\x93NUMPY magic string)");
  }
  if (bytes.length < 10) throw malformed("npy header is truncated");
  const major = bytes[6], minor = bytes[7];
  let headerStart: number, headerLen: number;
  if (major === 1) {
    headerStart = 10;
    headerLen = bytes[8] | (bytes[9] << 8);
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw malformed("npy header is truncated");
    headerStart = 12;
    headerLen = (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16)) + bytes[11] * 0x1000000;
  } else {
    throw malformed(`unsupported .npy format version ${major}.${minor} (expected 1.0, 2.0 or 3.0)`);
  }
  // numpy itself refuses headers over 10000 bytes by default; this bound only stops abuse.
  if (headerLen > MAX_HEADER_BYTES) {
    throw malformed(`npy header length ${headerLen} is implausibly large`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) {
    throw malformed(
      `npy header is truncated: it claims ${headerLen} bytes but only ${
        bytes.length - headerStart
      } follow`,
    );
  }
  const headerBytes = bytes.subarray(headerStart, dataStart);
  const headerText = major === 3
    ? new TextDecoder("utf-8").decode(headerBytes)
    : new TextDecoder("latin1").decode(headerBytes);

  const header = parseHeader(headerText, malformed);
  const { dtype, bigEndian, half } = parseDescr(header.descr, label, field);
  if (header.fortranOrder) {
    throw malformed(
      "Fortran-ordered arrays are not supported; save a C-ordered copy " +
        "(np.ascontiguousarray(a)) instead",
    );
  }

  const shape = header.shape;
  let count = 1;
  for (const n of shape) count *= n;
  const itemSize = half ? 2 : DTYPE_SIZE[dtype];
  const nbytes = count * itemSize;
  if (!Number.isSafeInteger(nbytes)) throw malformed(`shape ${formatShape(shape)} is too large`);
  return { shape, dtype, bigEndian, half, dataStart, nbytes };
}

/**
 * Bytes an array will take once read into a dump: its data, plus the float32 copy that
 * integer and half-precision data are converted to (float32 and float64 data are used as
 * they are). Read from the header alone, so that an archive can be refused before anything is
 * inflated.
 *
 * @param head the file's first bytes (the header; at most 1 MiB + 12 bytes are read)
 * @param label how messages name the array
 * @param field the field messages name
 * @returns the bytes of data and the bytes held in all
 * @throws {InputError} for a damaged or unsupported header
 */
export function npyFootprint(
  head: Uint8Array,
  label: string,
  field?: string,
): { dataBytes: number; heldBytes: number } {
  const layout = readNpyLayout(head, label, field);
  const floats = !layout.half && (layout.dtype === "float32" || layout.dtype === "float64");
  const count = layout.nbytes / (layout.half ? 2 : DTYPE_SIZE[layout.dtype]);
  return {
    dataBytes: layout.nbytes,
    heldBytes: layout.nbytes + (floats ? 0 : count * 4),
  };
}

/** Bytes of an .npy prefix that always hold its whole header. */
export const NPY_HEAD_BYTES = MAX_HEADER_BYTES + 12;

function parseNpyUnchecked(bytes: Uint8Array, label: string, field?: string): NdArray {
  const malformed = (msg: string) => new InputError("malformed-file", `${label}: ${msg}`, field);
  const { shape, dtype, bigEndian, half, dataStart, nbytes } = readNpyLayout(bytes, label, field);
  const available = bytes.length - dataStart;
  if (available !== nbytes) {
    const what = `header says ${formatShape(shape)} ${half ?? dtype} (${nbytes} bytes) but ` +
      `${available} ` +
      `bytes follow`;
    throw malformed(
      available < nbytes ? `npy data is truncated: ${what}` : `npy data is too long: ${what}`,
    );
  }
  if (half) {
    const raw = bytes.subarray(dataStart, dataStart + nbytes);
    return { shape, dtype, data: decodeHalf(raw, half, bigEndian), converted_from: half };
  }

  const data = typedView(
    dtype,
    bytes.subarray(dataStart, dataStart + nbytes),
    bigEndian === HOST_LITTLE_ENDIAN,
  );
  return { shape, dtype, data };
}

/** Formats a shape the way messages show it: `256x784`, `10`, or `scalar`. */
export function formatShape(shape: readonly number[]): string {
  return shape.length === 0 ? "scalar" : shape.join("x");
}

/**
 * Wraps raw little- or big-endian element bytes as a typed array. Views when possible; copies
 * when unaligned or when `swap` requests reversing each element's bytes.
 */
export function typedView(dtype: DType, raw: Uint8Array, swap: boolean): NumericArray {
  const size = DTYPE_SIZE[dtype];
  const count = raw.length / size;
  let src = raw;
  if (swap && size > 1) {
    src = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i += size) {
      for (let j = 0; j < size; j++) src[i + j] = raw[i + size - 1 - j];
    }
  } else if (raw.byteOffset % size !== 0) {
    // Typed array views need an offset that is a multiple of the element size.
    src = raw.slice();
  }
  const { buffer, byteOffset } = src;
  switch (dtype) {
    case "float32":
      return new Float32Array(buffer, byteOffset, count);
    case "float64":
      return new Float64Array(buffer, byteOffset, count);
    case "int32":
      return new Int32Array(buffer, byteOffset, count);
    case "int64":
      return new BigInt64Array(buffer, byteOffset, count);
    case "uint8":
      return new Uint8Array(buffer, byteOffset, count);
  }
}

const DESCR_DTYPES: Record<string, DType> = {
  f4: "float32",
  f8: "float64",
  i4: "int32",
  i8: "int64",
  u1: "uint8",
};

const DESCR_NAMES: Record<string, string> = {
  f16: "float128",
  c8: "complex64",
  c16: "complex128",
  c32: "complex256",
  b1: "bool",
  i1: "int8",
  i2: "int16",
  u2: "uint16",
  u4: "uint32",
  u8: "uint64",
  O: "object",
};

const SUPPORTED = "float32, float64, float16, bfloat16, int32, int64 or uint8";

/**
 * Reads a descr. 16-bit floats come back as dtype float32 with `half` naming the stored type:
 * `f2` is float16; bfloat16 is what ml_dtypes makes np.save write, a 2-byte void `V2`, or a
 * hand-written `bfloat16`.
 */
function parseDescr(
  descr: unknown,
  label: string,
  field?: string,
): { dtype: DType; bigEndian: boolean; half?: "float16" | "bfloat16" } {
  if (typeof descr !== "string") {
    throw new InputError(
      "unsupported-dtype",
      `${label}: structured (record) dtypes are not supported; use a plain ${SUPPORTED} array`,
      field,
    );
  }
  const named = /^([<>|=]?)bfloat16$/.exec(descr);
  const m = named ? null : /^([<>|=]?)([a-zA-Z])(\d*)$/.exec(descr);
  const code = m ? m[2] + m[3] : descr;
  const order = named?.[1] ?? m?.[1] ?? "";
  // "|" (not applicable) and "=" (native) both mean the reader's own order, as in numpy.
  const big = order === ">" || (order !== "<" && !HOST_LITTLE_ENDIAN);
  if (named || code === "V2") return { dtype: "float32", bigEndian: big, half: "bfloat16" };
  if (code === "f2") return { dtype: "float32", bigEndian: big, half: "float16" };
  if (m && /^V\d+$/.test(code)) {
    throw new InputError(
      "unsupported-dtype",
      `${label}: dtype '${descr}' (raw ${code.slice(1)}-byte values) is not supported; ` +
        `bfloat16 (2 bytes, as ml_dtypes saves it) is, other ml_dtypes types (float8 ...) ` +
        `are not: convert with a.astype(np.float32)`,
      field,
    );
  }
  const dtype = m && Object.hasOwn(DESCR_DTYPES, code) ? DESCR_DTYPES[code] : undefined;
  if (!m || dtype === undefined) {
    const name = Object.hasOwn(DESCR_NAMES, code) ? DESCR_NAMES[code] : undefined;
    throw new InputError(
      "unsupported-dtype",
      `${label}: dtype '${descr}'${name ? ` (${name})` : ""} is not supported; use ${SUPPORTED}`,
      field,
    );
  }
  return { dtype, bigEndian: big };
}

let halfTable: Float32Array | null = null;

/** float32 value of every float16 bit pattern (exact: every float16 is a float32). */
function float16Table(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
    t[h] = exp === 0
      ? sign * frac * 2 ** -24
      : exp === 31
      ? (frac ? NaN : sign * Infinity)
      : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return halfTable = t;
}

/**
 * float16 or bfloat16 elements (2 bytes each, in the given byte order) as float32. bfloat16 is
 * the top half of a float32, so its bits shift into place.
 */
export function decodeHalf(
  raw: Uint8Array,
  kind: "float16" | "bfloat16",
  bigEndian: boolean,
): Float32Array {
  const n = raw.length >> 1;
  const out = new Float32Array(n);
  const hiByte = bigEndian ? 0 : 1, loByte = 1 - hiByte;
  if (kind === "bfloat16") {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) {
      bits[i] = ((raw[2 * i + hiByte] << 24) | (raw[2 * i + loByte] << 16)) >>> 0;
    }
    return out;
  }
  const table = float16Table();
  for (let i = 0; i < n; i++) out[i] = table[(raw[2 * i + hiByte] << 8) | raw[2 * i + loByte]];
  return out;
}

interface NpyHeader {
  descr: unknown;
  fortranOrder: boolean;
  shape: number[];
}

function parseHeader(text: string, malformed: (msg: string) => InputError): NpyHeader {
  let value: PyValue;
  try {
    value = new PyLiteral(text).parseAll();
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    throw malformed(`npy header is not a valid Python dict literal: ${e.message}`);
  }
  if (!(value instanceof Map)) throw malformed("npy header is not a dict");
  for (const key of ["descr", "fortran_order", "shape"]) {
    if (!value.has(key)) throw malformed(`npy header has no '${key}' key`);
  }
  const fortranOrder = value.get("fortran_order");
  if (typeof fortranOrder !== "boolean") {
    throw malformed("npy header 'fortran_order' must be True or False");
  }
  const shape = value.get("shape");
  if (
    !Array.isArray(shape) ||
    !shape.every((n): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0)
  ) {
    throw malformed("npy header 'shape' must be a tuple of non-negative integers");
  }
  return { descr: value.get("descr"), fortranOrder, shape };
}

/** Python literal values that can appear in an npy header. Tuples and lists are both arrays. */
type PyValue = string | number | boolean | null | PyValue[] | Map<string, PyValue>;

/** A minimal parser for the Python literals numpy writes (it uses `repr`, reads with `ast.literal_eval`). */
class PyLiteral {
  #s: string;
  #i = 0;

  constructor(s: string) {
    this.#s = s;
  }

  parseAll(): PyValue {
    const v = this.#value(0);
    this.#ws();
    if (this.#i !== this.#s.length) this.#fail("unexpected text after the dict");
    return v;
  }

  #fail(msg: string): never {
    throw new SyntaxError(`${msg} at offset ${this.#i}`);
  }

  #ws(): void {
    while (this.#i < this.#s.length && /\s/.test(this.#s[this.#i])) this.#i++;
  }

  #value(depth: number): PyValue {
    if (depth > 32) this.#fail("nesting too deep");
    this.#ws();
    const c = this.#s[this.#i];
    if (c === "{") return this.#dict(depth);
    if (c === "(") return this.#seq(")", depth);
    if (c === "[") return this.#seq("]", depth);
    if (c === "'" || c === '"') return this.#string();
    const word = /^(?:[+-]?\d+L?|True|False|None)/.exec(this.#s.slice(this.#i, this.#i + 32));
    if (!word) this.#fail(c === undefined ? "unexpected end" : `unexpected ${JSON.stringify(c)}`);
    this.#i += word[0].length;
    if (word[0] === "True") return true;
    if (word[0] === "False") return false;
    if (word[0] === "None") return null;
    // Python 2 era files wrote longs as "3L".
    return Number(word[0].replace("L", ""));
  }

  #string(): string {
    const quote = this.#s[this.#i++];
    let out = "";
    while (this.#i < this.#s.length) {
      const c = this.#s[this.#i++];
      if (c === quote) return out;
      if (c === "\\") {
        const n = this.#s[this.#i++];
        out += n === "n" ? "\n" : n === "t" ? "\t" : (n ?? "");
      } else {
        out += c;
      }
    }
    this.#fail("unterminated string");
  }

  #seq(close: string, depth: number): PyValue[] {
    this.#i++;
    const items: PyValue[] = [];
    for (;;) {
      this.#ws();
      if (this.#s[this.#i] === close) {
        this.#i++;
        return items;
      }
      items.push(this.#value(depth + 1));
      this.#ws();
      if (this.#s[this.#i] === ",") this.#i++;
      else if (this.#s[this.#i] !== close) this.#fail(`expected ',' or '${close}'`);
    }
  }

  #dict(depth: number): Map<string, PyValue> {
    this.#i++;
    const map = new Map<string, PyValue>();
    for (;;) {
      this.#ws();
      if (this.#s[this.#i] === "}") {
        this.#i++;
        return map;
      }
      const key = this.#value(depth + 1);
      if (typeof key !== "string") this.#fail("dict keys must be strings");
      this.#ws();
      if (this.#s[this.#i] !== ":") this.#fail("expected ':'");
      this.#i++;
      map.set(key, this.#value(depth + 1));
      this.#ws();
      if (this.#s[this.#i] === ",") this.#i++;
      else if (this.#s[this.#i] !== "}") this.#fail("expected ',' or '}'");
    }
  }
}

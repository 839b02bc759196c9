/**
 * Reader for numpy's `.npz` archives: a zip of `.npy` files, stored (`np.savez`) or deflated
 * (`np.savez_compressed`), with zip64 records as numpy always writes them.
 *
 * The zip directory is parsed here rather than with `fflate.unzipSync` so that sizes can be
 * checked before anything is inflated (zip bombs), errors can name the entry at fault, and
 * stored entries can be read without a copy.
 *
 * @module
 */

import { Inflate } from "fflate";
import { InputError } from "../errors.ts";
import { NPY_HEAD_BYTES, npyFootprint, parseNpy } from "./npy.ts";
import type { NdArray } from "./types.ts";

/** Options for {@linkcode parseNpz}. */
export interface NpzOptions {
  /** Name of the archive in messages, e.g. the uploaded file name. Default `"dump"`. */
  source?: string;
  /**
   * Upper bound on the total uncompressed size of the archive's entries, checked against the
   * zip directory before inflating anything. Exceeding it throws `too-large`.
   */
  maxBytes?: number;
  /** How messages name the array stored under `key`. Default: `array "key" in <source>`. */
  label?: (key: string) => string;
  /** Field named by errors that concern the whole archive (e.g. the form field "dump"). */
  field?: string;
}

/** One file in a zip archive, as its central directory describes it. */
interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;

/**
 * Parses a `.npz` archive into its arrays, keyed by entry name without the `.npy` suffix,
 * in archive order.
 *
 * Arrays from stored entries may share memory with `bytes`.
 *
 * @example Usage
 * ```ts ignore
 * const arrays = parseNpz(await Deno.readFile("dump.npz"), { maxBytes: 1 << 30 });
 * arrays.get("x")?.shape; // [256, 784]
 * ```
 *
 * @param bytes The whole archive.
 * @param options Archive name for messages and a size limit.
 * @returns Arrays by key, in the order the archive lists them.
 * @throws {InputError} `malformed-file` for a damaged archive or array, `too-large` when the
 * entries exceed `maxBytes`, `unsupported-dtype` for arrays of other types.
 */
export function parseNpz(bytes: Uint8Array, options: NpzOptions = {}): Map<string, NdArray> {
  const source = options.source ?? "dump";
  const label = options.label ?? ((key: string) => `array "${key}" in ${source}`);
  const malformed = (msg: string, field: string | undefined = options.field) =>
    new InputError("malformed-file", `${source}: ${msg}`, field);

  try {
    return readNpz(bytes, source, label, options.maxBytes, malformed, options.field);
  } catch (e) {
    if (e instanceof InputError) throw e;
    // Bad bytes must surface as a user error, never as a RangeError from a DataView.
    throw malformed(`not a valid .npz (zip) archive (${(e as Error).message})`);
  }
}

function readNpz(
  bytes: Uint8Array,
  source: string,
  label: (key: string) => string,
  maxBytes: number | undefined,
  malformed: (msg: string, field?: string) => InputError,
  field: string | undefined,
): Map<string, NdArray> {
  const entries = readCentralDirectory(bytes, malformed);

  const arrays: ZipEntry[] = [];
  const seen = new Set<string>();
  for (const e of entries) {
    // Directories and macOS resource forks are zip furniture, not data.
    if (e.name.endsWith("/") || e.name.startsWith("__MACOSX/")) continue;
    if (!e.name.endsWith(".npy")) {
      throw malformed(`entry "${e.name}" is not a .npy array; an .npz holds only .npy files`);
    }
    const key = e.name.slice(0, -4);
    if (seen.has(key)) throw malformed(`array "${key}" appears twice in the archive`, key);
    seen.add(key);
    arrays.push(e);
  }

  if (maxBytes !== undefined) {
    // Sizes from the directory and the .npy headers alone: nothing is inflated before this.
    const total = arrays.reduce((s, e) => s + e.size, 0);
    const held = total > maxBytes ? total : arrays.reduce((s, e) => {
      const key = e.name.slice(0, -4);
      return s + npyFootprint(entryHead(bytes, e, key, malformed), label(key), key).heldBytes;
    }, 0);
    if (held > maxBytes) {
      throw new InputError(
        "too-large",
        `${source}: its arrays take ${formatBytes(total)} uncompressed${
          held > total ? ` and ${formatBytes(held)} once read (integers become float32)` : ""
        }, over the limit of ${formatBytes(maxBytes)}`,
        field,
      );
    }
  }

  const out = new Map<string, NdArray>();
  for (const e of arrays) {
    const key = e.name.slice(0, -4);
    const raw = entryData(bytes, e, key, malformed);
    out.set(key, parseNpy(raw, { field: key, label: label(key) }));
  }
  return out;
}

function readCentralDirectory(
  bytes: Uint8Array,
  malformed: (msg: string, field?: string) => InputError,
): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = findEocd(view);
  if (eocd < 0) {
    const isZip = bytes.length >= 4 && view.getUint32(0, true) === SIG_LOCAL;
    throw malformed(
      isZip
        ? "zip archive is truncated (its central directory is missing)"
        : "not a .npz archive (no zip signature found)",
    );
  }
  if (view.getUint16(eocd + 4, true) !== 0 || view.getUint16(eocd + 6, true) !== 0) {
    throw malformed("multi-part zip archives are not supported");
  }
  let count = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);

  const locator = eocd - 20;
  if (locator >= 0 && view.getUint32(locator, true) === SIG_EOCD64_LOCATOR) {
    const eocd64 = u64(view, locator + 8);
    if (eocd64 + 56 > bytes.length || view.getUint32(eocd64, true) !== SIG_EOCD64) {
      throw malformed("zip64 end-of-directory record is missing or damaged");
    }
    count = u64(view, eocd64 + 32);
    cdSize = u64(view, eocd64 + 40);
    cdOffset = u64(view, eocd64 + 48);
  }
  if (cdOffset + cdSize > bytes.length) {
    throw malformed(
      `zip archive is truncated: its directory ends at byte ${cdOffset + cdSize} but the file ` +
        `has ${bytes.length} bytes`,
    );
  }

  const decoder = new TextDecoder();
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdOffset + cdSize || view.getUint32(p, true) !== SIG_CENTRAL) {
      throw malformed(`zip directory entry ${i + 1} of ${count} is damaged`);
    }
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    let compressedSize = view.getUint32(p + 20, true);
    let size = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    let localHeaderOffset = view.getUint32(p + 42, true);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cdOffset + cdSize) throw malformed(`zip directory entry ${i + 1} is damaged`);
    const name = decoder.decode(bytes.subarray(p + 46, p + 46 + nameLen));

    // The zip64 extra field holds, in this order, whichever of the three values overflowed.
    let q = p + 46 + nameLen;
    const extraEnd = q + extraLen;
    while (q + 4 <= extraEnd) {
      const id = view.getUint16(q, true);
      const len = view.getUint16(q + 2, true);
      if (id === 0x0001) {
        let r = q + 4;
        const next = () => {
          if (r + 8 > q + 4 + len) throw malformed(`zip64 field of entry "${name}" is damaged`);
          const v = u64(view, r);
          r += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
      }
      q += 4 + len;
    }
    entries.push({ name, method, flags, compressedSize, size, localHeaderOffset });
    p = end;
  }
  return entries;
}

/** Offset of the end-of-central-directory record, or -1. It sits within 64 KiB of the end. */
function findEocd(view: DataView): number {
  const last = view.byteLength - 22;
  const first = Math.max(0, last - 0xffff);
  for (let i = last; i >= first; i--) {
    if (
      view.getUint32(i, true) === SIG_EOCD &&
      i + 22 + view.getUint16(i + 20, true) <= view.byteLength
    ) {
      return i;
    }
  }
  return -1;
}

function u64(view: DataView, offset: number): number {
  const v = view.getBigUint64(offset, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError("a zip64 size or offset is out of range");
  }
  return Number(v);
}

/** The entry's bytes as stored in the archive (compressed or not). */
function compressedData(
  bytes: Uint8Array,
  e: ZipEntry,
  key: string,
  malformed: (msg: string, field?: string) => InputError,
): Uint8Array {
  const what = `entry "${e.name}"`;
  if (e.flags & 0x1) throw malformed(`${what} is encrypted`, key);
  const h = e.localHeaderOffset;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (h + 30 > bytes.length || view.getUint32(h, true) !== SIG_LOCAL) {
    throw malformed(`${what}: its local header is missing or damaged`, key);
  }
  const start = h + 30 + view.getUint16(h + 26, true) + view.getUint16(h + 28, true);
  const end = start + e.compressedSize;
  if (end > bytes.length) {
    throw malformed(
      `zip archive is truncated: ${what} needs bytes up to ${end} but the file has ${bytes.length}`,
      key,
    );
  }
  return bytes.subarray(start, end);
}

function entryData(
  bytes: Uint8Array,
  e: ZipEntry,
  key: string,
  malformed: (msg: string, field?: string) => InputError,
): Uint8Array {
  const what = `entry "${e.name}"`;
  const src = compressedData(bytes, e, key, malformed);
  if (e.method === 0) {
    if (e.compressedSize !== e.size) {
      throw malformed(`${what} is stored but its two sizes differ`, key);
    }
    return src;
  }
  if (e.method !== 8) {
    throw malformed(
      `${what} uses zip compression method ${e.method}; only stored and deflate are supported`,
      key,
    );
  }
  return inflateBounded(src, e.size, (msg) => malformed(`${what}: ${msg}`, key));
}

/** The first bytes of an entry (its .npy header), inflating no more than that. */
function entryHead(
  bytes: Uint8Array,
  e: ZipEntry,
  key: string,
  malformed: (msg: string, field?: string) => InputError,
): Uint8Array {
  if (e.method !== 8) return entryData(bytes, e, key, malformed).subarray(0, NPY_HEAD_BYTES);
  const src = compressedData(bytes, e, key, malformed);
  const want = Math.min(e.size, 4096);
  const parts: Uint8Array[] = [];
  let n = 0;
  const inflate = new Inflate((chunk) => {
    parts.push(chunk);
    n += chunk.length;
    if (n >= want) throw new HeadDone();
  });
  try {
    for (let i = 0; i < src.length && n < want; i += 1024) {
      inflate.push(src.subarray(i, i + 1024), i + 1024 >= src.length);
    }
  } catch (err) {
    if (!(err instanceof HeadDone)) {
      throw malformed(
        `entry "${e.name}": compressed data is damaged (${(err as Error).message})`,
        key,
      );
    }
  }
  const head = new Uint8Array(n);
  let at = 0;
  for (const p of parts) head.set(p, at), at += p.length;
  return head;
}

class HeadDone extends Error {}

class TooLong extends Error {}

/**
 * Inflates raw deflate data that the directory says expands to exactly `size` bytes. Streams
 * in small chunks so a lying directory cannot make it spend time or memory beyond `size`.
 */
function inflateBounded(
  src: Uint8Array,
  size: number,
  malformed: (msg: string) => InputError,
): Uint8Array {
  const out = new Uint8Array(size);
  let n = 0;
  const inflate = new Inflate((chunk) => {
    if (n + chunk.length > size) throw new TooLong();
    out.set(chunk, n);
    n += chunk.length;
  });
  const CHUNK = 1 << 16;
  try {
    if (src.length === 0) inflate.push(src, true);
    for (let i = 0; i < src.length; i += CHUNK) {
      inflate.push(src.subarray(i, i + CHUNK), i + CHUNK >= src.length);
    }
  } catch (e) {
    if (e instanceof TooLong) {
      throw malformed(`inflates to more than the ${size} bytes the zip directory says`);
    }
    throw malformed(`compressed data is damaged (${(e as Error).message})`);
  }
  if (n !== size) {
    throw malformed(`inflates to ${n} bytes but the zip directory says ${size}`);
  }
  return out;
}

/** Formats a byte count for messages: `512 B`, `3.2 MB`, `1.5 GB`. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

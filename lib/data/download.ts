/**
 * Checksum-verified downloads: a file lands at its destination only after its MD5 matched, so a
 * cut-off or tampered download is never mistaken for the dataset.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { basename, dirname } from "node:path";

/** Options for {@linkcode fetchVerified}. */
export interface FetchVerifiedOptions {
  /** Abort the download (the partial file is removed). */
  signal?: AbortSignal;
  /** Called as bytes arrive; `total` is the Content-Length when the server sent one. */
  onProgress?: (received: number, total: number | undefined) => void;
  /** The fetch implementation to use (tests, proxies); defaults to the global one. */
  fetch?: typeof fetch;
}

/** What {@linkcode fetchVerified} did. */
export interface FetchVerifiedResult {
  path: string;
  /** True when an existing file with the right checksum was reused and nothing was fetched. */
  cached: boolean;
  bytes: number;
}

/** MD5 of a file as lowercase hex, streamed so large files are not held in memory. */
export async function md5File(path: string): Promise<string> {
  const hash = createHash("md5");
  using file = await Deno.open(path, { read: true });
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}

/**
 * Download `url` to `destPath` unless a file with MD5 `md5` is already there.
 *
 * The body is streamed into a temporary file in the destination's directory (so the final
 * rename is atomic on the same file system), hashed on the way, and renamed into place only when
 * the checksum matches. On an HTTP error, a network error, an abort or a checksum mismatch the
 * temporary file is deleted and an Error is thrown; a previous file at `destPath` is left alone.
 *
 * @example
 * ```ts ignore
 * await fetchVerified(
 *   "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz",
 *   "data/mnist/t10k-labels-idx1-ubyte.gz",
 *   "ec29112dd5afa0611ce80d1b7f02629c",
 * );
 * ```
 */
export async function fetchVerified(
  url: string,
  destPath: string,
  md5: string,
  opts: FetchVerifiedOptions = {},
): Promise<FetchVerifiedResult> {
  const want = md5.toLowerCase();
  const existing = await statOrNull(destPath);
  if (existing?.isFile && (await md5File(destPath)) === want) {
    return { path: destPath, cached: true, bytes: existing.size };
  }

  const dir = dirname(destPath);
  await Deno.mkdir(dir, { recursive: true });
  const base = basename(destPath);
  const tmp = await Deno.makeTempFile({ dir, prefix: `.${base}.`, suffix: ".part" });
  try {
    const doFetch = opts.fetch ?? fetch;
    let res: Response;
    try {
      res = await doFetch(url, { signal: opts.signal });
    } catch (e) {
      throw new Error(`download of ${url} failed: ${(e as Error).message}`, { cause: e });
    }
    if (!res.ok || res.body === null) {
      await res.body?.cancel();
      throw new Error(`download of ${url} failed: HTTP ${res.status} ${res.statusText}`.trim());
    }
    const lengthHeader = res.headers.get("content-length");
    const total = lengthHeader === null ? undefined : Number(lengthHeader);
    const hash = createHash("md5");
    let received = 0;
    {
      using file = await Deno.open(tmp, { write: true, truncate: true });
      try {
        for await (const chunk of res.body) {
          hash.update(chunk);
          received += chunk.byteLength;
          // FsFile.write may write less than asked; loop until the chunk is on disk.
          for (let off = 0; off < chunk.byteLength;) off += await file.write(chunk.subarray(off));
          opts.onProgress?.(received, total);
        }
      } catch (e) {
        throw new Error(
          `download of ${url} failed after ${received} bytes: ${(e as Error).message}`,
          {
            cause: e,
          },
        );
      }
      await file.sync();
    }
    const got = hash.digest("hex");
    if (got !== want) {
      throw new Error(
        `checksum mismatch for ${url}: expected MD5 ${want}, got ${got} (${received} bytes); ` +
          `the download was discarded`,
      );
    }
    // makeTempFile creates 0600; a dataset file should be readable like any other.
    if (Deno.build.os !== "windows") await Deno.chmod(tmp, 0o644);
    await Deno.rename(tmp, destPath);
    return { path: destPath, cached: false, bytes: received };
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/**
 * Free space on the disk that holds the job store: new work is refused (507) and health says
 * `degraded` before a full disk can break a write halfway. Deno has no statfs, so libc's
 * statvfs is called through FFI; where that is not possible the check is skipped (null).
 *
 * @module
 */

let statvfs: ((path: Uint8Array, buf: Uint8Array) => number) | null | undefined;

function load(): typeof statvfs {
  if (statvfs !== undefined) return statvfs;
  statvfs = null;
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") return statvfs;
  try {
    const lib = Deno.dlopen("libc.so.6", {
      statvfs: { parameters: ["buffer", "buffer"], result: "i32" },
    });
    statvfs = (path, buf) => lib.symbols.statvfs(path, buf);
  } catch {
    // no --allow-ffi
  }
  return statvfs;
}

/**
 * Bytes free for an unprivileged writer on the filesystem of `path`.
 *
 * @param path a file or directory on that filesystem
 * @returns the bytes, or null when they cannot be measured here
 */
export function freeDiskBytes(path: string): number | null {
  const fn = load();
  if (!fn) return null;
  // struct statvfs on x86_64 Linux: f_bsize, f_frsize, f_blocks, f_bfree, f_bavail (8 bytes each).
  const buf = new Uint8Array(112);
  if (fn(new TextEncoder().encode(path + "\0"), buf) !== 0) return null;
  const v = new DataView(buf.buffer);
  return Number(v.getBigUint64(32, true) * v.getBigUint64(8, true));
}

/**
 * CPU feature sniffing used to pick an OpenBLAS core type before the library is loaded.
 *
 * Why: a DYNAMIC_ARCH OpenBLAS (Debian's libopenblas0-*) picks its kernels from CPUID at load
 * time, and on some virtual CPUs it misreads an AVX-512 machine as "Prescott" (SSE3 kernels,
 * ~4.5x slower sgemm on the dev VM). OPENBLAS_CORETYPE overrides that, but only if it is in
 * the environment before the library's constructor runs.
 *
 * @module
 */

let cpuinfo: string | null | undefined;

/**
 * Text of /proc/cpuinfo up to and including the first "flags" line, or null.
 * Deno requires --allow-all for anything under /proc, even with --allow-read, so when the
 * plain read is refused and FFI is granted (which the OpenBLAS backend needs anyway, and which
 * already amounts to full access) the file is read through libc's fopen/fread instead.
 */
function readCpuinfo(): string | null {
  if (cpuinfo !== undefined) return cpuinfo;
  cpuinfo = null;
  if (Deno.build.os !== "linux") return null;
  try {
    cpuinfo = Deno.readTextFileSync("/proc/cpuinfo");
  } catch {
    cpuinfo = readViaLibc("/proc/cpuinfo");
  }
  return cpuinfo;
}

const LIBC_SYMBOLS = {
  fopen: { parameters: ["buffer", "buffer"], result: "pointer" },
  fread: { parameters: ["buffer", "usize", "usize", "pointer"], result: "usize" },
  fclose: { parameters: ["pointer"], result: "i32" },
  getenv: { parameters: ["buffer"], result: "pointer" },
  setenv: { parameters: ["buffer", "buffer", "i32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

type Libc = Deno.DynamicLibrary<typeof LIBC_SYMBOLS>;
let libcHandle: Libc | null | undefined;

/** glibc/musl through FFI (Linux only; null without --allow-ffi). Kept open once loaded. */
function libc(): Libc | null {
  if (libcHandle !== undefined) return libcHandle;
  libcHandle = null;
  if (Deno.build.os !== "linux") return null;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
  } catch {
    return null;
  }
  for (const name of ["libc.so.6", "libc.so", `libc.musl-${Deno.build.arch}.so.1`]) {
    try {
      libcHandle = Deno.dlopen(name, LIBC_SYMBOLS);
      break;
    } catch {
      // try the next name
    }
  }
  return libcHandle;
}

function cstr(s: string): Uint8Array {
  return new TextEncoder().encode(s + "\0");
}

function readViaLibc(path: string): string | null {
  const c = libc();
  if (!c) return null;
  try {
    const f = c.symbols.fopen(cstr(path), cstr("r"));
    if (f === null) return null;
    const dec = new TextDecoder();
    const buf = new Uint8Array(1 << 16);
    let text = "";
    // Stop once the first flags line is complete (the file repeats it for every CPU).
    while (!/^flags\s*:.*\n/m.test(text) && text.length < 1 << 24) {
      const n = Number(c.symbols.fread(buf, 1n, BigInt(buf.length), f));
      if (n <= 0) break;
      text += dec.decode(buf.subarray(0, n), { stream: true });
    }
    c.symbols.fclose(f);
    return text;
  } catch {
    return null;
  }
}

/**
 * Names whose env permission was granted. A grant is not withdrawn in practice, and the query is
 * the costly part of a read (a few microseconds; the training kernels read their thread count
 * on every call).
 */
const grantedEnv = new Set<string>();

function envGranted(name: string): boolean {
  if (grantedEnv.has(name)) return true;
  const ok = Deno.permissions.querySync({ name: "env", variable: name }).state === "granted";
  if (ok) grantedEnv.add(name);
  return ok;
}

/**
 * getenv for variables Deno's --allow-env does not cover: uses Deno.env when permitted, else
 * libc through FFI (the process environment is the same either way). undefined if neither.
 */
export function processEnvGet(name: string): string | undefined {
  try {
    if (envGranted(name)) return Deno.env.get(name);
  } catch {
    // fall through to libc
  }
  const c = libc();
  if (!c) return undefined;
  const p = c.symbols.getenv(cstr(name));
  return p === null ? undefined : Deno.UnsafePointerView.getCString(p);
}

/** setenv counterpart of {@link processEnvGet}; returns false when neither route is allowed. */
export function processEnvSet(name: string, value: string): boolean {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state === "granted") {
      Deno.env.set(name, value);
      return true;
    }
  } catch {
    // fall through to libc
  }
  const c = libc();
  return c !== null && c.symbols.setenv(cstr(name), cstr(value), 1) === 0;
}

function cpuinfoField(name: string): string | null {
  const line = readCpuinfo()?.split("\n").find((l) => new RegExp(`^${name}\\s*:`).test(l));
  return line ? line.slice(line.indexOf(":") + 1).trim() : null;
}

/** x86 flags from /proc/cpuinfo, or null when unreadable (non-Linux, or neither -A nor FFI). */
export function cpuFlags(): Set<string> | null {
  const v = cpuinfoField("flags");
  return v === null ? null : new Set(v.split(/\s+/));
}

/** The "model name" line of /proc/cpuinfo, or null when unavailable. */
export function cpuModel(): string | null {
  return cpuinfoField("model name");
}

/**
 * The OPENBLAS_CORETYPE that matches the CPU's flags: "SkylakeX" with AVX-512
 * (F, DQ, BW, VL), "Haswell" with AVX2 + FMA, otherwise null (let OpenBLAS decide).
 */
export function openblasCoreTypeFor(flags: Set<string> | null): string | null {
  if (Deno.build.arch !== "x86_64" || !flags) return null;
  if (["avx512f", "avx512dq", "avx512bw", "avx512vl"].every((f) => flags.has(f))) {
    return "SkylakeX";
  }
  if (flags.has("avx2") && flags.has("fma")) return "Haswell";
  return null;
}

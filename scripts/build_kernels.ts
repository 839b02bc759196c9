/**
 * Builds lib/native/c/kernels.c into lib/native/c/libinfoplane_kernels.so, the optional C
 * kernels of the "native" tfjs backend (lib/native/ckernels.ts). Without a C compiler it says so
 * and exits 0: everything runs without the library, only slower (unless --require).
 *
 *   deno task build:kernels [--force] [--require]
 *
 * The compiler is $CC, else the first of cc, gcc, clang. Flags: -O3 -pthread, no fast-math and no
 * implicit FMA contraction (NaN, signed zeros and rounding must behave as specified); on x86-64
 * with gcc the hot functions exist for AVX-512, AVX2 and baseline and are picked at load time,
 * so the file runs on any x86-64. Up to date (newer than its sources and this script) means
 * nothing to do.
 *
 * @module
 */

import { CKERNELS_FILE } from "../lib/native/mod.ts";

const dir = new URL("../lib/native/c/", import.meta.url).pathname;
const source = `${dir}kernels.c`;
/** Files kernels.c includes: a change to one rebuilds the library too. */
const headers = [`${dir}conv_direct.h`];
const target = `${dir}${CKERNELS_FILE}`;
const args = new Set(Deno.args);

function mtime(path: string): number | null {
  try {
    return Deno.statSync(path).mtime?.getTime() ?? null;
  } catch {
    return null;
  }
}

async function runs(cmd: string): Promise<boolean> {
  try {
    const r = await new Deno.Command(cmd, { args: ["--version"], stdout: "null", stderr: "null" })
      .output();
    return r.success;
  } catch {
    return false;
  }
}

async function findCompiler(): Promise<string | null> {
  const env = Deno.env.get("CC")?.trim();
  for (const c of [env, "cc", "gcc", "clang"]) if (c && await runs(c)) return c;
  return null;
}

// newer than the sources and this script (its flags) means up to date
const built = mtime(target), src = mtime(source);
const newestSource = Math.max(src ?? 0, ...headers.map((h) => mtime(h) ?? 0));
const script = mtime(new URL(import.meta.url).pathname) ?? 0;
if (src === null) {
  console.error(`build:kernels: ${source} is missing`);
  Deno.exit(1);
}
if (!args.has("--force") && built !== null && built >= newestSource && built >= script) {
  console.log(`build:kernels: ${target} is up to date`);
  Deno.exit(0);
}
const cc = await findCompiler();
if (!cc) {
  const msg = "build:kernels: no C compiler (cc, gcc, clang; or set CC): the native backend " +
    "runs without its C kernels (slower convolutions)";
  if (args.has("--require")) {
    console.error(msg);
    Deno.exit(1);
  }
  console.log(msg);
  Deno.exit(0);
}
// Written under another name and renamed, so a running process never loads half a file.
const tmp = `${target}.${Deno.pid}.tmp`;
// -z nodelete: Deno closes a Worker's libraries when the Worker ends, and unloading this one
// under its helper threads (parked on a futex, see kernels.c) would leave them in unmapped code.
// -ffp-contract=off: no a * b + c is fused behind our back (the FMAs are spelled out, and every
// ISA variant must round the same way).
const base = [
  "-O3",
  "-fPIC",
  "-shared",
  "-pthread",
  "-ffp-contract=off",
  "-Wall",
  "-Wextra",
  "-Wno-unknown-pragmas",
  "-Wno-missing-field-initializers",
  "-Wl,-z,nodelete",
  "-o",
  tmp,
  source,
  "-lm",
];
const t0 = performance.now();

async function compile(flags: string[], quiet: boolean): Promise<boolean> {
  const out = quiet ? "null" : "inherit";
  const r = await new Deno.Command(cc!, { args: flags, stdout: out, stderr: out }).output();
  return r.success;
}

if (!await compile(base, false)) {
  try {
    Deno.removeSync(tmp);
  } catch { /* nothing written */ }
  console.error(`build:kernels: ${cc} ${base.join(" ")} failed`);
  Deno.exit(args.has("--require") ? 1 : 0);
}
Deno.renameSync(tmp, target);
const secs = ((performance.now() - t0) / 1000).toFixed(1);
console.log(`build:kernels: ${target} built with ${cc} in ${secs} s`);

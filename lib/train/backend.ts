/**
 * Compute backends of training, best first:
 *
 * - "tensorflow": libtensorflow through @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node. They
 *   are not dependencies (their install downloads libtensorflow); when a deployment has put one
 *   into node_modules it is picked up at run time, otherwise the probe fails softly.
 * - "webgpu": @tensorflow/tfjs-backend-webgpu on navigator.gpu. "auto" takes it only for a real
 *   (non-fallback) adapter; asking for "webgpu" explicitly also accepts a software fallback
 *   adapter such as Mesa's llvmpipe (correct, but slower than wasm).
 * - "native": lib/native, tfjs-backend-cpu with its training kernels on OpenBLAS sgemm through
 *   Deno FFI (needs --allow-ffi and an OpenBLAS library; see lib/linalg/openblas.ts). The device
 *   is its describe() line, e.g. "tfjs native (openblas 0.3.21 (SkylakeX, 1 thread))". Selecting
 *   it applies the training thread policy of lib/linalg/threads.ts.
 * - "wasm": @tensorflow/tfjs-backend-wasm (XNNPACK, SIMD, one thread). Its Node build reads the
 *   .wasm files next to its own module, which works unchanged from Deno's node_modules;
 *   INFOPLANE_WASM_PATH (a directory or URL prefix ending in "/") overrides where they are read.
 * - "cpu": @tensorflow/tfjs-backend-cpu (plain JavaScript).
 *
 * INFOPLANE_BACKEND=tensorflow|webgpu|native|wasm|cpu|auto forces a choice for every job (an
 * error when that backend is unavailable).
 *
 * @module
 */
import { createRequire } from "node:module";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { loadOpenBlas } from "../linalg/mod.ts";
import { trainingThreads } from "../linalg/mod.ts";
import { NATIVE_BACKEND, registerNativeBackend } from "../native/mod.ts";
import { tf } from "./tf.ts";
import type { BackendName } from "./types.ts";

/** The backend a job runs on. */
export interface BackendChoice {
  name: BackendName;
  /** Human-readable device, e.g. "WebAssembly SIMD (XNNPACK, 1 thread)" or the GPU adapter. */
  device: string;
}

/** Outcome of probing one backend. */
export type BackendProbe =
  | { name: BackendName; available: true; device: string }
  | { name: BackendName; available: false; reason: string };

/** Backends in order of preference. */
export const BACKEND_ORDER: readonly BackendName[] = [
  "tensorflow",
  "webgpu",
  "native",
  "wasm",
  "cpu",
];

function envBackend(): BackendName | "auto" | undefined {
  let raw: string | undefined;
  try {
    raw = Deno.env.get("INFOPLANE_BACKEND");
  } catch {
    return undefined; // no --allow-env: nothing forced
  }
  const v = raw?.trim().toLowerCase();
  if (!v) return undefined;
  if (v === "auto" || (BACKEND_ORDER as readonly string[]).includes(v)) {
    return v as BackendName | "auto";
  }
  throw new Error(
    `INFOPLANE_BACKEND must be one of auto, ${BACKEND_ORDER.join(", ")}; got "${raw}"`,
  );
}

function message(e: unknown): string {
  return e instanceof Error ? e.message.split("\n")[0] : String(e);
}

async function activate(name: string): Promise<string | null> {
  try {
    if (tf.getBackend() === name) return null;
    const ok = await tf.setBackend(name);
    await tf.ready();
    return ok ? null : `tfjs could not initialise the ${name} backend`;
  } catch (e) {
    return message(e);
  }
}

async function probeTensorflow(): Promise<BackendProbe> {
  const require = createRequire(import.meta.url);
  const reasons: string[] = [];
  for (
    const [pkg, device] of [
      ["@tensorflow/tfjs-node-gpu", "libtensorflow (CUDA)"],
      ["@tensorflow/tfjs-node", "libtensorflow (CPU)"],
    ]
  ) {
    try {
      require(pkg); // registers the "tensorflow" backend in tfjs' global registry
      const failed = await activate("tensorflow");
      if (!failed) return { name: "tensorflow", available: true, device };
      reasons.push(`${pkg}: ${failed}`);
    } catch (e) {
      reasons.push(`${pkg}: ${message(e)}`);
    }
  }
  return {
    name: "tensorflow",
    available: false,
    reason: `neither tfjs-node-gpu nor tfjs-node loads (${reasons.join("; ")})`,
  };
}

interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/**
 * Keeps a headless WebGPU probe quiet. Deno's WebGPU (wgpu) creates a Vulkan instance with every
 * surface extension, VK_KHR_wayland_surface included; the Vulkan loader then loads Mesa's
 * implicit "device select" layer (VkLayer_MESA_device_select), which asks the Wayland compositor
 * which GPU drives the display: libwayland-client's wl_display_connect(NULL) prints "error:
 * XDG_RUNTIME_DIR is invalid or not set in the environment." to stderr once per device
 * enumeration when there is no session. With no compositor to ask (no WAYLAND_DISPLAY and no
 * absolute XDG_RUNTIME_DIR) and no device chosen by the user through the layer (DRI_PRIME,
 * MESA_VK_DEVICE_SELECT), the layer has nothing to do, so it is switched off for this process
 * with its documented variable NODEVICE_SELECT=1 before the first adapter request. Without
 * --allow-env nothing changes (the line stays, harmless).
 */
export function quietHeadlessVulkan(
  env: { get(k: string): string | undefined; set(k: string, v: string): void } = Deno.env,
): boolean {
  try {
    const runtime = env.get("XDG_RUNTIME_DIR");
    const session = env.get("WAYLAND_DISPLAY") || (runtime && runtime.startsWith("/"));
    const chosen = env.get("DRI_PRIME") || env.get("MESA_VK_DEVICE_SELECT");
    if (session || chosen || env.get("NODEVICE_SELECT") !== undefined) return false;
    env.set("NODEVICE_SELECT", "1");
    return true;
  } catch {
    return false; // no --allow-env
  }
}

async function probeWebgpu(allowFallback: boolean): Promise<BackendProbe> {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(o?: unknown): Promise<unknown> } })
    .gpu;
  if (!gpu) return { name: "webgpu", available: false, reason: "navigator.gpu is not available" };
  quietHeadlessVulkan();
  let adapter: { info?: AdapterInfoLike; isFallbackAdapter?: boolean } | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" }) as typeof adapter;
  } catch (e) {
    return { name: "webgpu", available: false, reason: `requestAdapter failed: ${message(e)}` };
  }
  if (!adapter) return { name: "webgpu", available: false, reason: "no WebGPU adapter" };
  const info = adapter.info ?? {};
  const fallback = Boolean(adapter.isFallbackAdapter ?? info.isFallbackAdapter);
  const name = info.description || [info.vendor, info.architecture, info.device]
    .filter((s) => s).join(" ") ||
    "WebGPU adapter";
  const device = `${name}${fallback ? " (fallback adapter)" : ""}`;
  if (fallback && !allowFallback) {
    return {
      name: "webgpu",
      available: false,
      reason: `only a fallback (software) adapter: ${name}`,
    };
  }
  try {
    await import("@tensorflow/tfjs-backend-webgpu");
  } catch (e) {
    return { name: "webgpu", available: false, reason: message(e) };
  }
  const failed = await activate("webgpu");
  return failed
    ? { name: "webgpu", available: false, reason: failed }
    : { name: "webgpu", available: true, device };
}

let wasmPathSet = false;

async function probeWasm(): Promise<BackendProbe> {
  if (!wasmPathSet) {
    wasmPathSet = true;
    try {
      const path = Deno.env.get("INFOPLANE_WASM_PATH");
      if (path) setWasmPaths(path);
    } catch { /* no --allow-env: the default location */ }
  }
  const failed = await activate("wasm");
  if (failed) return { name: "wasm", available: false, reason: failed };
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  const threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
  return {
    name: "wasm",
    available: true,
    device: `WebAssembly${simd ? " SIMD" : ""} (XNNPACK, ${threads ? "threads" : "1 thread"})`,
  };
}

/**
 * Applies the training thread policy (lib/linalg/threads.ts) to OpenBLAS when tfjs runs on the
 * native backend: one thread on machines with at most 2 cores unless OPENBLAS_NUM_THREADS is
 * set. The count is process-wide (an analysis task may change it), so the training loop calls
 * this before every step; it costs one FFI call when nothing changes.
 */
export function applyNativeThreads(): void {
  if (tf.getBackend() !== NATIVE_BACKEND) return;
  const want = trainingThreads();
  if (want === null) return;
  const ob = loadOpenBlas();
  if (ob && ob.threads() !== want) ob.setThreads(want);
}

async function probeNative(): Promise<BackendProbe> {
  const r = registerNativeBackend();
  if (!r.ok) {
    return {
      name: "native",
      available: false,
      reason: r.reason ?? "the native backend could not be registered",
    };
  }
  const failed = await activate(NATIVE_BACKEND);
  if (failed) return { name: "native", available: false, reason: failed };
  applyNativeThreads();
  return { name: "native", available: true, device: r.describe ?? "tfjs native (OpenBLAS)" };
}

async function probeCpu(): Promise<BackendProbe> {
  const failed = await activate("cpu");
  return failed
    ? { name: "cpu", available: false, reason: failed }
    : { name: "cpu", available: true, device: "JavaScript (tfjs-backend-cpu)" };
}

/** Probes one backend and, when it is available, makes it tfjs' active backend. */
export function probeBackend(
  name: BackendName,
  allowFallbackAdapter = true,
): Promise<BackendProbe> {
  switch (name) {
    case "tensorflow":
      return probeTensorflow();
    case "webgpu":
      return probeWebgpu(allowFallbackAdapter);
    case "native":
      return probeNative();
    case "wasm":
      return probeWasm();
    case "cpu":
      return probeCpu();
  }
}

const autoUnavailable = new Map<BackendName, string>();

/**
 * Activates the backend a job asks for and reports it. "auto" takes the first available of
 * tensorflow, webgpu (real adapters only), native (OpenBLAS through FFI), wasm, cpu.
 * INFOPLANE_BACKEND overrides `want`.
 *
 * @throws {Error} when a named (or forced) backend is unavailable, with the reason.
 */
export async function selectBackend(want: BackendName | "auto"): Promise<BackendChoice> {
  const forced = envBackend();
  const target = forced ?? want;
  if (target !== "auto") {
    const p = await probeBackend(target, true);
    if (p.available) return { name: p.name, device: p.device };
    const why = forced ? `INFOPLANE_BACKEND=${forced}` : `backend "${target}"`;
    throw new Error(`${why} is not available: ${p.reason}`);
  }
  const reasons: string[] = [];
  for (const name of BACKEND_ORDER) {
    // A backend that "auto" found missing stays missing for this isolate: no second probe
    // (a failed GPU probe can be slow and chatty on stderr).
    const known = autoUnavailable.get(name);
    if (known) {
      reasons.push(`${name}: ${known}`);
      continue;
    }
    const p = await probeBackend(name, false);
    if (p.available) return { name: p.name, device: p.device };
    if (name === "tensorflow" || name === "webgpu" || name === "native") {
      autoUnavailable.set(name, p.reason);
    }
    reasons.push(`${name}: ${p.reason}`);
  }
  throw new Error(`no compute backend is available (${reasons.join("; ")})`);
}

/**
 * Backend selection for the dense float64 kernels.
 *
 * Order: INFOPLANE_LINALG=portable|openblas (strict: a forced openblas that cannot load throws),
 * then the caller's `prefer`, then OpenBLAS when it loads, else the portable TypeScript code.
 *
 * @module
 */

import type { Linalg } from "./types.ts";
import { portableLinalg } from "./portable.ts";
import { processEnvGet } from "./cpu_features.ts";
import { loadOpenBlas, type OpenBlasLinalg, openblasUnavailableReason } from "./openblas.ts";

export type { Linalg } from "./types.ts";
export type { OpenBlasLinalg } from "./openblas.ts";
export { portableLinalg };
export { loadOpenBlas, openblasUnavailableReason };

/** Backend names accepted by {@link getLinalg} and INFOPLANE_LINALG. */
export type LinalgName = "openblas" | "portable";

function forcedBackend(): LinalgName | undefined {
  const raw = processEnvGet("INFOPLANE_LINALG");
  const v = raw?.trim().toLowerCase();
  if (!v) return undefined;
  if (v === "openblas" || v === "portable") return v;
  throw new Error(`INFOPLANE_LINALG must be "openblas" or "portable", got "${raw}"`);
}

const instances = new Map<string, Linalg>();

/**
 * The Linalg backend to use (cached per isolate; OpenBLAS is dlopen'ed at most once).
 * `prefer: "portable"` skips OpenBLAS; `"openblas"` (the default) falls back to portable when
 * OpenBLAS cannot be loaded. INFOPLANE_LINALG overrides `prefer` and does not fall back.
 */
export function getLinalg(prefer?: LinalgName): Linalg {
  const forced = forcedBackend();
  const want = forced ?? prefer ?? "openblas";
  const key = `${want}:${forced ? "forced" : "soft"}`;
  const hit = instances.get(key);
  if (hit) return hit;
  let chosen: Linalg;
  if (want === "portable") {
    chosen = portableLinalg;
  } else {
    const ob = loadOpenBlas();
    if (ob) {
      chosen = ob;
    } else if (forced) {
      throw new Error(
        `INFOPLANE_LINALG=openblas but OpenBLAS could not be loaded (install libopenblas0-pthread, ` +
          `set INFOPLANE_OPENBLAS=/path/to/libopenblas.so.0, run with --allow-ffi): ` +
          openblasUnavailableReason(),
      );
    } else {
      chosen = portableLinalg;
    }
  }
  instances.set(key, chosen);
  return chosen;
}

/** One line naming the backend in use, e.g. "openblas 0.3.21 (SkylakeX, 2 threads)". */
export function describeLinalg(l: Linalg): string {
  const ob = l as Partial<OpenBlasLinalg>;
  return typeof ob.describe === "function" ? ob.describe() : `${l.name} (TypeScript, 1 thread)`;
}
export { cpuFlags, cpuModel, openblasCoreTypeFor, processEnvGet } from "./cpu_features.ts";
export { ffiGranted } from "./openblas.ts";
export { analysisThreads, kernelThreads, trainingThreads } from "./threads.ts";

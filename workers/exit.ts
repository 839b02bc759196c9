/**
 * Leaving the process at once. A Web Worker terminated inside a native call (an OpenBLAS
 * factorisation of minutes) keeps its thread running, and `Deno.exit` runs the C exit handlers,
 * among them OpenBLAS's, which waits for that computation to end. After a shutdown that had to
 * abandon such work, the process leaves through `_exit` instead, which runs no handlers: state
 * is already written (jobs back in the queue, stores closed).
 *
 * @module
 */

/**
 * Ends the process with `code` without running exit handlers (libc `_exit` through FFI); falls
 * back to `Deno.exit` where FFI or libc is not available.
 *
 * @param code the exit status
 */
export function exitNow(code: number): never {
  try {
    const libc = Deno.dlopen(Deno.build.os === "darwin" ? "libSystem.B.dylib" : "libc.so.6", {
      _exit: { parameters: ["i32"], result: "void" },
    });
    libc.symbols._exit(code);
  } catch {
    // No --allow-ffi, or no such library: a normal exit is the best there is.
  }
  Deno.exit(code);
}

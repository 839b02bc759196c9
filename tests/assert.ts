/** Minimal assertions for the test suite (JSR's @std/assert is not reachable from here). */

/** Thrown by every failed assertion. */
export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

/** Fails unless `cond` is truthy. */
export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new AssertionError(msg);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = a as unknown as ArrayLike<unknown>, y = b as unknown as ArrayLike<unknown>;
    if (a.constructor !== b.constructor || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) =>
    deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
  );
}

/** Fails unless `actual` and `expected` are structurally equal (typed arrays compared by value). */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  if (!deepEqual(actual, expected)) {
    const show = (v: unknown) => {
      try {
        return JSON.stringify(v, (_k, x) => ArrayBuffer.isView(x) ? Array.from(x as never) : x);
      } catch {
        return String(v);
      }
    };
    throw new AssertionError(
      `${msg ? msg + ": " : ""}values differ\n  actual:   ${show(actual)}\n  expected: ${
        show(expected)
      }`,
    );
  }
}

/** Fails unless |actual - expected| <= tol (absolute) or, with `relative`, <= tol * |expected|. */
export function assertAlmostEquals(
  actual: number,
  expected: number,
  tol = 1e-7,
  msg?: string,
  relative = false,
): void {
  const err = Math.abs(actual - expected);
  const bound = relative ? tol * Math.abs(expected) : tol;
  if (!(err <= bound)) {
    throw new AssertionError(
      `${msg ? msg + ": " : ""}${actual} is not within ${tol}${
        relative ? " (relative)" : ""
      } of ${expected} (error ${err})`,
    );
  }
}

/** Calls `fn`, fails unless it throws (an instance of `ErrorClass`, with `includes` in its message). */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  ErrorClass?: new (...args: any[]) => E,
  includes?: string,
): E {
  try {
    fn();
  } catch (e) {
    checkError(e, ErrorClass, includes);
    return e as E;
  }
  throw new AssertionError("expected the function to throw");
}

/** Async form of {@link assertThrows}. */
export async function assertRejects<E extends Error = Error>(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  ErrorClass?: new (...args: any[]) => E,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (e) {
    checkError(e, ErrorClass, includes);
    return e as E;
  }
  throw new AssertionError("expected the promise to reject");
}

// deno-lint-ignore no-explicit-any
function checkError(e: unknown, ErrorClass?: new (...args: any[]) => Error, includes?: string) {
  if (ErrorClass && !(e instanceof ErrorClass)) {
    throw new AssertionError(`expected ${ErrorClass.name}, got ${String(e)}`);
  }
  if (includes && !(e instanceof Error && e.message.includes(includes))) {
    throw new AssertionError(`expected error message to include "${includes}", got "${e}"`);
  }
}

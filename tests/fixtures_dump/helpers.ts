/** Shared helpers for tests/dump_*_test.ts. */

import { InputError, type InputProblem } from "../../lib/errors.ts";
import { AssertionError, assertThrows } from "../assert.ts";

/** Directory of the small numpy fixtures (see make_fixtures.py). */
export const FIXTURES = new URL("./", import.meta.url);

/** Reads a fixture file by name. */
export function fixture(name: string): Uint8Array {
  return Deno.readFileSync(new URL(name, FIXTURES));
}

/** Fails unless `fn` throws an InputError of kind `problem`, with `includes` in its message. */
export function assertInputError(
  fn: () => unknown,
  problem: InputProblem,
  includes?: string,
  field?: string,
): InputError {
  const e = assertThrows(fn, InputError, includes);
  if (e.problem !== problem) {
    throw new AssertionError(`expected problem "${problem}", got "${e.problem}": ${e.message}`);
  }
  if (field !== undefined && e.field !== field) {
    throw new AssertionError(`expected field "${field}", got "${e.field}": ${e.message}`);
  }
  return e;
}

/** Sum of an array's values as float64. */
export function sum(a: ArrayLike<number | bigint>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Number(a[i]);
  return s;
}

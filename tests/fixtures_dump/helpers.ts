/** Shared helpers for tests/dump_*_test.ts. */
import assert from "node:assert/strict";
import { InputError, type InputProblem } from "../../lib/errors.ts";
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
): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected an InputError, got ${e}`);
    assert.equal(e.problem, problem, e.message);
    if (includes !== undefined) assert.ok(e.message.includes(includes), e.message);
    if (field !== undefined) assert.equal(e.field, field, e.message);
    return true;
  });
}

/** Sum of an array's values as float64. */
export function sum(a: ArrayLike<number | bigint>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Number(a[i]);
  return s;
}

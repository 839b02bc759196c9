/**
 * The service's memory budget: every request body, parsed dump and running analysis reserves
 * its bytes before it takes them, so that no mix of clients can push the process past what the
 * operator allowed (INFOPLANE_MEMORY_MB). A reservation that can never fit is a 413; one that
 * does not fit now is a 503 with Retry-After.
 *
 * @module
 */
import { InputError, UnavailableError } from "../lib/errors.ts";
import { formatBytes } from "../lib/dump/mod.ts";

/** Bytes held for one piece of work; release it (or grow it) when that changes. */
export interface Reservation {
  readonly bytes: number;
  /**
   * Changes the reserved size.
   *
   * @throws {InputError} "too-large" when `bytes` is over the whole budget
   * @throws {UnavailableError} when the budget has no room for it now
   */
  resize(bytes: number, what: string, field?: string): void;
  /** Gives the bytes back (idempotent). */
  release(): void;
}

/** A budget of bytes shared by everything the service holds for clients. */
export class MemoryBudget {
  #used = 0;

  /** @param total bytes the service may hold for clients in all */
  constructor(readonly total: number) {}

  /** Bytes reserved now. */
  get used(): number {
    return this.#used;
  }

  /** Bytes free now. */
  get available(): number {
    return Math.max(0, this.total - this.#used);
  }

  /**
   * Reserves `bytes` for `what`.
   *
   * @param bytes how much
   * @param what what it is for, in messages ("the request body", "the parsed dump")
   * @param field the request field at fault when it can never fit
   * @throws {InputError} "too-large" when `bytes` is over the whole budget
   * @throws {UnavailableError} when the budget has no room for it now
   */
  reserve(bytes: number, what: string, field?: string): Reservation {
    this.#check(bytes, 0, what, field);
    this.#used += bytes;
    let held = bytes;
    let released = false;
    return {
      get bytes() {
        return held;
      },
      resize: (next: number, nextWhat: string, nextField?: string) => {
        if (released) return;
        this.#check(next, held, nextWhat, nextField);
        this.#used += next - held;
        held = next;
      },
      release: () => {
        if (released) return;
        released = true;
        this.#used -= held;
      },
    };
  }

  #check(bytes: number, alreadyHeld: number, what: string, field?: string): void {
    if (bytes > this.total) {
      throw new InputError(
        "too-large",
        `${what} needs about ${formatBytes(bytes)}, more than this service's memory budget of ` +
          `${formatBytes(this.total)} (INFOPLANE_MEMORY_MB); send less at once (fewer ` +
          "samples, layers or checkpoints per request)",
        field,
      );
    }
    if (this.#used - alreadyHeld + bytes > this.total) {
      throw new UnavailableError(
        `the service is busy: ${what} needs about ${formatBytes(bytes)} and only ` +
          `${formatBytes(this.available + alreadyHeld)} of its memory budget is free now`,
        Math.min(60, 2 + Math.ceil(bytes / 100e6)),
      );
    }
  }
}

/**
 * Retries for store writes: a Redis restart or a locked SQLite file must cost a job a few
 * seconds, not its result. Backoff doubles from `baseMs` up to `maxMs`, with jitter.
 *
 * @module
 */

/** Options of {@link retry}. */
export interface RetryOptions {
  /** Tries in all (default 6); Infinity retries until `signal` aborts. */
  attempts?: number;
  /** First wait (default 100 ms). */
  baseMs?: number;
  /** Longest wait (default 5 s). */
  maxMs?: number;
  /** Stops retrying (the last error is thrown). */
  signal?: AbortSignal;
  /** Called before each wait, e.g. to log. */
  onRetry?: (err: unknown, attempt: number, waitMs: number) => void;
}

/**
 * Calls `fn` until it resolves or the tries run out.
 *
 * @param fn the operation (must be safe to repeat)
 * @param opts how often and how long to wait
 * @returns what `fn` resolved with
 * @throws the last error of `fn` when every try failed or `signal` aborted
 * @example
 * ```ts
 * await retry(() => store.update(id, change), { attempts: 10 });
 * ```
 */
export async function retry<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 6;
  const maxMs = opts.maxMs ?? 5_000;
  let wait = opts.baseMs ?? 100;
  for (let attempt = 1;; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || opts.signal?.aborted) throw err;
      const ms = Math.min(maxMs, wait) * (0.75 + Math.random() * 0.5);
      opts.onRetry?.(err, attempt, ms);
      await sleep(ms, opts.signal);
      wait *= 2;
    }
  }
}

/** A Deno KV commit without checks, retried when the database is busy; fails when not ok. */
export async function retryKv(
  commit: () => Promise<Deno.KvCommitResult | Deno.KvCommitError>,
): Promise<void> {
  await retry(async () => {
    const res = await commit();
    if (!res.ok) throw new Error("Deno KV commit failed");
  }, { attempts: 5, baseMs: 50 });
}

/** Resolves after `ms`, or early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

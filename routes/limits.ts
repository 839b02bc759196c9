/**
 * Admission control in front of the routes: what one client may send (requests per minute,
 * uploads in flight), and what the service takes in all (request bodies reserve their bytes in
 * the memory budget before they are read; JSON bodies are capped, since a dump in JSON is a
 * convenience for small data). Every refusal is a problem+json with Retry-After where waiting
 * helps.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { getConnInfo } from "hono/deno";
import { rateLimiter } from "hono-rate-limiter";
import { formatBytes } from "../lib/dump/mod.ts";
import { InputError, RateLimitError } from "../lib/errors.ts";
import type { LimitSettings } from "../lib/settings.ts";
import type { MemoryBudget } from "../workers/mod.ts";
import type { AppEnv } from "./env.ts";

/** Paths that are never limited (monitoring must see the service even when it is busy). */
const UNLIMITED = new Set(["/v1/health"]);

/** Who a request counts against: its API key's owner, else its address. */
function clientOf(c: Parameters<MiddlewareHandler<AppEnv>>[0], keysOn: boolean): string {
  if (keysOn) return `key:${c.get("owner")}`;
  try {
    return `addr:${getConnInfo(c).remote.address ?? "unknown"}`;
  } catch {
    return "addr:unknown"; // not served by Deno.serve (in-process app.request in tests)
  }
}

/**
 * The admission middlewares, in order: rate, uploads in flight, body bytes.
 *
 * @param limits the settings
 * @param budget the service's memory budget
 * @param opts whether API keys identify clients; the largest body accepted
 */
export function admission(
  limits: LimitSettings,
  budget: MemoryBudget,
  opts: { keysOn: boolean; maxBodyBytes: number },
): MiddlewareHandler<AppEnv>[] {
  const rate = rateLimiter<AppEnv>({
    windowMs: 60_000,
    limit: limits.ratePerMinute,
    standardHeaders: "draft-6",
    keyGenerator: (c) => clientOf(c, opts.keysOn),
    skip: (c) => UNLIMITED.has(c.req.path),
    handler: (c) => {
      const reset = c.get("rateLimit" as never) as { resetTime?: Date } | undefined;
      const wait = reset?.resetTime ? (reset.resetTime.getTime() - Date.now()) / 1000 : 60;
      throw new RateLimitError(
        `more than ${limits.ratePerMinute} requests in a minute from this client ` +
          "(INFOPLANE_RATE_PER_MIN); slow down",
        Math.max(1, Math.ceil(wait)),
      );
    },
  });

  const inFlight = new Map<string, number>();
  const uploads: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (c.req.method !== "POST" || !hasBody(c.req.raw)) return await next();
    const who = clientOf(c, opts.keysOn);
    const n = inFlight.get(who) ?? 0;
    if (n >= limits.maxUploads) {
      throw new RateLimitError(
        `this client already has ${n} uploads in flight (INFOPLANE_MAX_UPLOADS); wait for one ` +
          "to finish",
        2,
      );
    }
    inFlight.set(who, n + 1);
    try {
      await next();
    } finally {
      const left = (inFlight.get(who) ?? 1) - 1;
      if (left > 0) inFlight.set(who, left);
      else inFlight.delete(who);
    }
  };

  const maxJson = Math.min(limits.maxJsonBytes, opts.maxBodyBytes);
  const tooLarge = (json: boolean, size: string) =>
    new InputError(
      "too-large",
      json
        ? `a JSON body of ${size} is over the limit of ${formatBytes(maxJson)} ` +
          "(INFOPLANE_MAX_JSON_MB): JSON is for small dumps; send larger ones as an .npz " +
          "archive (multipart field `dump`)"
        : `the request body is ${size}, over the limit of ${formatBytes(opts.maxBodyBytes)} ` +
          "(INFOPLANE_MAX_BODY_MB)",
      "(body)",
    );
  const body: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (c.req.method !== "POST" || !hasBody(c.req.raw)) return await next();
    const json = (c.req.header("content-type") ?? "").includes("json");
    const max = json ? maxJson : opts.maxBodyBytes;
    const length = Number(c.req.header("content-length"));
    const known = c.req.header("content-length") !== undefined && Number.isFinite(length) &&
      !c.req.raw.headers.has("transfer-encoding");
    if (known && length > max) throw tooLarge(json, formatBytes(length));
    // Reserved before a byte is read; a body of unknown length may be as large as its limit.
    const reservation = budget.reserve(known ? length : max, "the request body", "(body)");
    c.set("reservation", reservation);
    const counted = known ? null : countBytes(c.req.raw, max);
    if (counted) c.req.raw = counted.request;
    try {
      await next();
    } finally {
      reservation.release();
    }
    // Whatever the handler made of the stream's error (it has been rendered already), the
    // cause is the size: that is the answer.
    if (counted?.over()) throw tooLarge(json, `more than ${formatBytes(max)}`);
  };

  return [rate, uploads, body];
}

/**
 * A request whose body of unknown length fails once more than `max` bytes have streamed in.
 * Hand-written because Hono's bodyLimit first copies such a body into a buffer that doubles as
 * it grows, on the event loop: with a body at the JSON limit that was the longest stall of the
 * service's event loop in the hostile set (docs/jobs.md). Here the handler reads the chunks as
 * they come and nothing is copied twice.
 */
function countBytes(req: Request, max: number): { request: Request; over: () => boolean } {
  let seen = 0, over = false;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, out) {
      seen += chunk.byteLength;
      if (seen > max) {
        over = true;
        out.error(new RangeError(`the body is over ${max} bytes`));
      } else {
        out.enqueue(chunk);
      }
    },
  });
  const request = new Request(req, { body: req.body!.pipeThrough(counter) });
  return { request, over: () => over };
}

function hasBody(req: Request): boolean {
  return req.body !== null && req.headers.get("content-length") !== "0";
}

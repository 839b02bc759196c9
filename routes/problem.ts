/**
 * RFC 9457 problem details: the one error handler of the API. Routes and the code they call
 * throw typed errors (lib/errors.ts, zod validation, Hono's HTTPException); this module turns
 * each into application/problem+json with a status, a title, a detail and, when known, the
 * field at fault.
 *
 * @module
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  ConflictError,
  ForbiddenError,
  InputError,
  inputStatus,
  NotFoundError,
  RateLimitError,
  StorageFullError,
  UnavailableError,
} from "../lib/errors.ts";

/** Body of a problem response. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  field?: string;
  errors?: Array<{ field: string; message: string }>;
}

const TITLES: Record<string, string> = {
  "malformed-file": "Malformed file",
  "unsupported-dtype": "Unsupported dtype",
  "shape-mismatch": "Shape mismatch",
  "non-finite": "Non-finite values",
  "too-few-samples": "Too few samples",
  "invalid-labels": "Invalid labels",
  "missing-field": "Missing field",
  "too-large": "Payload too large",
  "invalid-estimator": "Invalid estimator settings",
  "invalid-request": "Invalid request",
  "invalid-model": "Invalid model or training settings",
  "degenerate-input": "Degenerate input",
  "validation": "Invalid request",
  "unauthorized": "Unauthorized",
  "forbidden": "Forbidden",
  "not-found": "Not found",
  "conflict": "Conflict",
  "rate-limited": "Too many requests",
  "internal": "Internal error",
  "unavailable": "Service unavailable",
  "storage-full": "Insufficient storage",
  "malformed-body": "Malformed request body",
  "unsupported-media-type": "Unsupported media type",
  "http": "Bad request",
};

const HTTP_KINDS: Record<number, string> = {
  400: "malformed-body",
  401: "unauthorized",
  413: "too-large",
  415: "unsupported-media-type",
};

/** Problem kinds the API can answer with (documented on /docs). */
export const PROBLEM_KINDS: ReadonlyArray<string> = Object.keys(TITLES);

/** A zod validation failure, raised by the routes' validation hook. */
export class ValidationError extends Error {
  constructor(readonly errors: Array<{ field: string; message: string }>) {
    super(`${errors[0].field}: ${errors[0].message}`);
    this.name = "ValidationError";
  }
}

/** Raised by the auth middleware. */
export class UnauthorizedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnauthorizedError";
  }
}

/** An error that crossed a worker boundary with the problem kind of an input error. */
interface CarriedProblem {
  message: string;
  problem?: string;
  field?: string;
}

/** What a thrown error means for the client: status, kind, detail, extras. */
function classify(err: unknown): {
  status: number;
  kind: string;
  detail: string;
  field?: string;
  errors?: Problem["errors"];
  retryAfterS?: number;
} | null {
  if (err instanceof InputError) {
    return { status: err.status, kind: err.problem, detail: err.message, field: err.field };
  }
  if (err instanceof ValidationError) {
    return {
      status: 422,
      kind: "validation",
      detail: err.message,
      field: err.errors[0].field,
      errors: err.errors,
    };
  }
  if (err instanceof NotFoundError) {
    return { status: 404, kind: "not-found", detail: err.message, field: err.field };
  }
  if (err instanceof ConflictError) {
    return { status: 409, kind: "conflict", detail: err.message, field: err.field };
  }
  if (err instanceof ForbiddenError) {
    return { status: 403, kind: "forbidden", detail: err.message, field: err.field };
  }
  if (err instanceof UnauthorizedError) {
    return { status: 401, kind: "unauthorized", detail: err.message };
  }
  if (err instanceof RateLimitError) {
    return {
      status: 429,
      kind: "rate-limited",
      detail: err.message,
      field: err.field,
      retryAfterS: err.retryAfterS,
    };
  }
  if (err instanceof UnavailableError) {
    return { status: 503, kind: "unavailable", detail: err.message, retryAfterS: err.retryAfterS };
  }
  if (err instanceof StorageFullError) {
    return { status: 507, kind: "storage-full", detail: err.message };
  }
  if (err instanceof HTTPException) {
    return {
      status: err.status,
      kind: HTTP_KINDS[err.status] ?? "http",
      detail: err.message || "request failed",
      field: err.status === 415 ? "content-type" : "(body)",
    };
  }
  const carried = err as CarriedProblem | null;
  if (carried?.problem === "cancelled") {
    return {
      status: 503,
      kind: "unavailable",
      detail: "the service is shutting down; send the request again",
      retryAfterS: 5,
    };
  }
  const status = carried?.problem ? inputStatus(carried.problem) : undefined;
  if (status && carried?.problem) {
    return { status, kind: carried.problem, detail: carried.message, field: carried.field };
  }
  if (isStoreOutage(err)) {
    return {
      status: 503,
      kind: "unavailable",
      detail: "the job store is not answering; try again shortly",
      retryAfterS: 5,
    };
  }
  if (isDiskFull(err)) {
    return {
      status: 507,
      kind: "storage-full",
      detail: "the disk is full; nothing new can be stored until space is freed",
    };
  }
  return null;
}

/** Redis unreachable (ioredis gave up on a command), or the KV file busy. */
function isStoreOutage(err: unknown): boolean {
  const e = err as { name?: string; message?: string } | null;
  return e?.name === "MaxRetriesPerRequestError" ||
    /Connection is closed|ECONNREFUSED|database is locked/.test(e?.message ?? "");
}

function isDiskFull(err: unknown): boolean {
  return /ENOSPC|No space left on device|database or disk is full/.test(
    (err as { message?: string } | null)?.message ?? "",
  );
}

/**
 * Builds a problem+json response.
 *
 * @param c the request context
 * @param status the HTTP status
 * @param kind the problem kind (its `type` is `/docs#problem-<kind>`)
 * @param detail what went wrong, for the caller
 * @param extra the field at fault, a list of validation errors
 */
export function problem(
  c: Context,
  status: number,
  kind: string,
  detail: string,
  extra: { field?: string; errors?: Problem["errors"] } = {},
): Response {
  const body: Problem = {
    type: `/docs#problem-${kind}`,
    title: TITLES[kind] ?? TITLES.http,
    status,
    detail,
    ...extra,
  };
  return c.body(JSON.stringify(body), status as ContentfulStatusCode, {
    "content-type": "application/problem+json",
  });
}

/**
 * The API's error handler (`app.onError`): every thrown error becomes a problem response;
 * unexpected ones are logged and kept vague.
 */
export function problemFromError(err: unknown, c: Context): Response {
  const p = classify(err);
  if (!p) {
    console.error("unexpected error:", err);
    return problem(c, 500, "internal", "the service hit an unexpected error; it has been logged");
  }
  if (p.retryAfterS !== undefined) c.header("Retry-After", String(Math.ceil(p.retryAfterS)));
  if (p.status === 401) c.header("WWW-Authenticate", 'Bearer realm="infoplane"');
  return problem(c, p.status, p.kind, p.detail, { field: p.field, errors: p.errors });
}

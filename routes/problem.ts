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

/** A kind of problem: its title, usual status and what it means (the /docs/problems page). */
export interface ProblemKind {
  title: string;
  status: number;
  meaning: string;
}

/** Every kind of problem the API answers with; `type` is `/docs/problems#<kind>`. */
export const PROBLEMS: Readonly<Record<string, ProblemKind>> = {
  "malformed-file": {
    title: "Malformed file",
    status: 400,
    meaning: "A file or the body cannot be read: not a valid .npz, .npy, CSV or JSON, a damaged " +
      "archive, or a form field sent twice. `field` names the file.",
  },
  "unsupported-dtype": {
    title: "Unsupported dtype",
    status: 422,
    meaning: "An array's dtype cannot be used (complex, strings, objects). Floats and integers " +
      "of every width are read as numbers.",
  },
  "shape-mismatch": {
    title: "Shape mismatch",
    status: 422,
    meaning: "Arrays disagree on the number of samples, or checkpoints have different layers.",
  },
  "non-finite": {
    title: "Non-finite values",
    status: 422,
    meaning: "An array holds NaN or infinite values; `field` names it.",
  },
  "too-few-samples": {
    title: "Too few samples",
    status: 422,
    meaning: "There are too few samples for the estimator.",
  },
  "invalid-labels": {
    title: "Invalid labels",
    status: 422,
    meaning: "Labels are neither class indices nor one-hot rows.",
  },
  "missing-field": {
    title: "Missing field",
    status: 422,
    meaning: "A required field or file is missing, or one the API does not take (such as a " +
      "server path) was sent.",
  },
  "too-large": {
    title: "Payload too large",
    status: 413,
    meaning: "The body, an archive's content, the number of samples or the memory the work " +
      "needs is over this service's limits (the detail names the setting).",
  },
  "invalid-estimator": {
    title: "Invalid estimator settings",
    status: 422,
    meaning: "Estimator settings are out of range or do not fit the dump (e.g. a batch size " +
      "over m).",
  },
  "invalid-request": {
    title: "Invalid request",
    status: 422,
    meaning: "A request field has a value the API does not accept; `field` names it.",
  },
  "invalid-model": {
    title: "Invalid model or training settings",
    status: 422,
    meaning: "The model, a method or a training setting is invalid; `field` names the layer or " +
      "setting, e.g. model.blocks[1].layers[2].",
  },
  "degenerate-input": {
    title: "Degenerate input",
    status: 422,
    meaning: "The values cannot give a meaningful result: overflow, constant arrays, kernels " +
      "that are not positive definite.",
  },
  "validation": {
    title: "Invalid request",
    status: 422,
    meaning: "The request does not match the API's schema (JSON fields, query parameters); " +
      "`errors` lists every problem with its field.",
  },
  "unauthorized": {
    title: "Unauthorized",
    status: 401,
    meaning: "No API key, or an unknown one: send `Authorization: Bearer <key>` or `X-API-Key`.",
  },
  "forbidden": {
    title: "Forbidden",
    status: 403,
    meaning: "The key may not do this.",
  },
  "not-found": {
    title: "Not found",
    status: 404,
    meaning: "No such job (for this key), route, chart, figure or format.",
  },
  "conflict": {
    title: "Conflict",
    status: 409,
    meaning: "The job is not in a state for this: it has no result yet, or it has already " +
      "finished.",
  },
  "rate-limited": {
    title: "Too many requests",
    status: 429,
    meaning: "Too many requests, uploads in flight or active jobs for this client; wait for " +
      "`Retry-After` seconds.",
  },
  "internal": {
    title: "Internal error",
    status: 500,
    meaning: "The service hit an unexpected error; it has been logged.",
  },
  "not-implemented": {
    title: "Not implemented",
    status: 501,
    meaning: "This deployment does not do that: trainings and experiment suites do not run in " +
      "serverless mode.",
  },
  "unavailable": {
    title: "Service unavailable",
    status: 503,
    meaning: "The queue is full, the job store does not answer or the service is shutting " +
      "down; try again after `Retry-After` seconds.",
  },
  "storage-full": {
    title: "Insufficient storage",
    status: 507,
    meaning: "The disk is full: nothing new is taken until space is freed.",
  },
  "malformed-body": {
    title: "Malformed request body",
    status: 400,
    meaning: "The request body cannot be read (e.g. invalid JSON).",
  },
  "unsupported-media-type": {
    title: "Unsupported media type",
    status: 415,
    meaning: "Send `application/json` or `multipart/form-data`.",
  },
  "http": {
    title: "Bad request",
    status: 400,
    meaning: "Another HTTP-level problem; the detail says which.",
  },
};

const TITLES: Record<string, string> = Object.fromEntries(
  Object.entries(PROBLEMS).map(([k, p]) => [k, p.title]),
);

const HTTP_KINDS: Record<number, string> = {
  400: "malformed-body",
  401: "unauthorized",
  413: "too-large",
  415: "unsupported-media-type",
};

/** Where problem kinds are explained. */
export const PROBLEM_PAGE = "/docs/problems";

/** A zod validation failure, raised by the routes' validation hook. */
export class ValidationError extends Error {
  constructor(readonly errors: Array<{ field: string; message: string }>) {
    super(`${errors[0].field}: ${errors[0].message}`);
    this.name = "ValidationError";
  }
}

/** Something this deployment does not do (501), e.g. trainings in serverless mode. */
export class NotImplementedError extends Error {
  constructor(message: string, readonly field?: string) {
    super(message);
    this.name = "NotImplementedError";
  }
}

/**
 * Refuses work that serverless mode does not do (long trainings need Web Workers and local
 * files): a 501 naming the setting.
 *
 * @throws {NotImplementedError} in serverless mode
 */
export function refuseServerless(settings: { mode: string }, what: string): void {
  if (settings.mode !== "serverless") return;
  throw new NotImplementedError(
    `${what} do not run in serverless mode (INFOPLANE_MODE=serverless): they need Web Workers ` +
      "and local files; run the service in server mode, or with INFOPLANE_REDIS_URL and " +
      "`deno task worker` processes",
  );
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
  if (err instanceof NotImplementedError) {
    return { status: 501, kind: "not-implemented", detail: err.message, field: err.field };
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
 * @param kind the problem kind (its `type` is `/docs/problems#<kind>`)
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
    type: `${PROBLEM_PAGE}#${kind}`,
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

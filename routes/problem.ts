/**
 * RFC 9457 problem details. Every error the API returns goes through here, so clients always
 * get application/problem+json with a status, a title, a detail and, when known, the field.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { InputError } from "../lib/errors.ts";
import { TaskError } from "../workers/pool.ts";

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
  "validation": "Invalid request",
  "unauthorized": "Unauthorized",
  "not-found": "Not found",
  "conflict": "Conflict",
  "internal": "Internal error",
  "unavailable": "Service unavailable",
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

/** Builds a problem+json response. */
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

/** Maps any thrown error to a problem response; unexpected ones are logged and kept vague. */
export function problemFromError(err: unknown, c: Context): Response {
  if (err instanceof InputError) {
    return problem(c, err.status, err.problem, err.message, { field: err.field });
  }
  if (err instanceof TaskError && err.problem === "cancelled") {
    return problem(c, 503, "unavailable", "the service is shutting down; send the request again");
  }
  if (err instanceof TaskError && err.problem) {
    const status = new InputError(err.problem as never, err.message).status;
    return problem(c, status, err.problem, err.message, { field: err.field });
  }
  if (err instanceof HTTPException) {
    const kind = HTTP_KINDS[err.status] ?? "http";
    const field = err.status === 415 ? "content-type" : "(body)";
    return problem(c, err.status, kind, err.message || "request failed", { field });
  }
  console.error("unexpected error:", err);
  return problem(c, 500, "internal", "the service hit an unexpected error; it has been logged");
}

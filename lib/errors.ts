/**
 * Errors the service raises, one class per kind of failure. They carry what an HTTP layer needs
 * (the problem kind, the field at fault, a retry hint) without knowing anything about HTTP: the
 * routes' one error handler (routes/problem.ts) turns each into RFC 9457 problem+json.
 *
 * @module
 */

/** Short machine-readable kinds of input problems; routes turn them into problem+json types. */
export type InputProblem =
  | "malformed-file"
  | "unsupported-dtype"
  | "shape-mismatch"
  | "non-finite"
  | "too-few-samples"
  | "invalid-labels"
  | "missing-field"
  | "too-large"
  | "invalid-estimator"
  | "invalid-request"
  | "invalid-model"
  | "degenerate-input"
  | "unsupported-media-type";

const STATUS: Record<InputProblem, number> = {
  "malformed-file": 400,
  "unsupported-dtype": 422,
  "shape-mismatch": 422,
  "non-finite": 422,
  "too-few-samples": 422,
  "invalid-labels": 422,
  "missing-field": 422,
  "too-large": 413,
  "invalid-estimator": 422,
  "invalid-request": 422,
  "invalid-model": 422,
  "degenerate-input": 422,
  "unsupported-media-type": 415,
};

/** Bad input from a user: a message meant for them and the field or file it concerns. */
export class InputError extends Error {
  readonly problem: InputProblem;
  readonly field?: string;

  /**
   * @param problem the kind of problem (decides the HTTP status)
   * @param message what is wrong, in words meant for the user
   * @param field the request field, form field or file at fault
   */
  constructor(problem: InputProblem, message: string, field?: string) {
    super(message);
    this.name = "InputError";
    this.problem = problem;
    this.field = field;
  }

  /** The HTTP status this kind of problem maps to. */
  get status(): number {
    return STATUS[this.problem];
  }
}

/** The status an input problem kind maps to (for errors that crossed a worker boundary). */
export function inputStatus(problem: string): number | undefined {
  return STATUS[problem as InputProblem];
}

/** Something the caller named does not exist (or is not theirs to see). */
export class NotFoundError extends Error {
  /**
   * @param message e.g. `no analysis with id "..."`
   * @param field the request field naming the thing (default "id")
   */
  constructor(message: string, readonly field = "id") {
    super(message);
    this.name = "NotFoundError";
  }
}

/** The request conflicts with the state of the thing (e.g. a finished job cannot be cancelled). */
export class ConflictError extends Error {
  constructor(message: string, readonly field = "id") {
    super(message);
    this.name = "ConflictError";
  }
}

/** The caller is known but may not do this. */
export class ForbiddenError extends Error {
  constructor(message: string, readonly field?: string) {
    super(message);
    this.name = "ForbiddenError";
  }
}

/** The caller sends too much, too often: try again after `retryAfterS` seconds. */
export class RateLimitError extends Error {
  constructor(message: string, readonly retryAfterS: number, readonly field?: string) {
    super(message);
    this.name = "RateLimitError";
  }
}

/**
 * The service cannot take this now (shutting down, queue full, store unreachable): try again
 * after `retryAfterS` seconds.
 */
export class UnavailableError extends Error {
  constructor(message: string, readonly retryAfterS = 5) {
    super(message);
    this.name = "UnavailableError";
  }
}

/** The disk (or the store behind it) is full: nothing new can be kept until space is freed. */
export class StorageFullError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StorageFullError";
  }
}

/** One issue of a schema validation, as zod reports it. */
interface SchemaIssue {
  path: ReadonlyArray<PropertyKey>;
  message: string;
  code?: string;
  keys?: string[];
}

/**
 * The InputError of a failed schema validation: its first issue, the field written as a path
 * (`sweep.sigma[1]`) under `prefix`.
 *
 * @param issues the validation's issues (zod's `error.issues`)
 * @param problem the problem kind
 * @param prefix the request field the validated value came from
 */
export function schemaInputError(
  issues: readonly SchemaIssue[],
  problem: InputProblem,
  prefix?: string,
): InputError {
  const issue = issues[0];
  const path = [
    ...(prefix ? [prefix] : []),
    ...issue.path,
    ...(issue.code === "unrecognized_keys" ? (issue.keys ?? []).slice(0, 1) : []),
  ];
  let field = "";
  for (const p of path) {
    field += typeof p === "number" ? `[${p}]` : `${field ? "." : ""}${String(p)}`;
  }
  field ||= "(body)";
  return new InputError(problem, `${field}: ${issue.message}`, field);
}

/**
 * Errors the science layer raises for bad user input. They carry what an HTTP layer needs
 * (a status and the field at fault) without knowing anything about HTTP itself.
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
  | "invalid-model";

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
};

/** Bad input from a user: a message meant for them and the field or file it concerns. */
export class InputError extends Error {
  readonly problem: InputProblem;
  readonly field?: string;

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

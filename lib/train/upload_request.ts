/**
 * Training requests that carry their own dataset: a multipart form with the request as JSON
 * text (`request`) and an `.npz` file (`dataset`). The file is checked here, so that a bad file
 * is a 4xx when it is sent rather than a failed job later.
 *
 * @module
 */
import { datasetFromNpz } from "../data/mod.ts";
import { InputError } from "../errors.ts";
import { resolveTrainingRequest } from "./request.ts";
import type { TrainingJob } from "./types.ts";

/**
 * Refuses paths on the server's disk: API callers upload data instead.
 *
 * @throws {InputError} when the request's dataset names `dir` or `path`
 */
export function rejectServerPaths(raw: unknown): void {
  const dataset = (raw as { dataset?: Record<string, unknown> })?.dataset;
  for (const key of ["dir", "path"]) {
    if (dataset && typeof dataset === "object" && key in dataset) {
      throw new InputError(
        "missing-field",
        `dataset.${key}: server paths are not accepted over the API; upload the data instead`,
        `dataset.${key}`,
      );
    }
  }
}

/**
 * Reads a training request with an uploaded dataset.
 *
 * @param form the multipart fields: `request` (JSON text), `dataset` (an .npz file)
 * @param maxBytes limit on the archive's uncompressed arrays
 * @returns the resolved job (its dataset path a placeholder the job layer replaces), the raw
 *   request (for fields outside the job, like `label`) and the file's bytes
 * @throws {InputError} naming the field at fault
 */
export async function trainingFromForm(
  form: Record<string, File | string>,
  maxBytes: number,
): Promise<{ job: TrainingJob; raw: Record<string, unknown>; upload: Uint8Array }> {
  for (const key of Object.keys(form)) {
    if (key !== "request" && key !== "dataset") {
      throw new InputError(
        "missing-field",
        `unknown field "${key}": send \`request\` (JSON text) and \`dataset\` (.npz file)`,
        key,
      );
    }
  }
  const text = form.request;
  if (typeof text !== "string") {
    throw new InputError(
      "missing-field",
      "multipart field `request` (the training request as JSON text) is missing",
      "request",
    );
  }
  const file = form.dataset;
  if (!(file instanceof File)) {
    throw new InputError(
      "missing-field",
      "multipart field `dataset` (an .npz file with arrays x and y) is missing",
      "dataset",
    );
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new InputError("malformed-file", "field `request` is not valid JSON", "request");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new InputError("missing-field", "field `request` must be a JSON object", "request");
  }
  const given = (raw.dataset ?? {}) as Record<string, unknown>;
  if (given.name !== undefined && given.name !== "upload") {
    throw new InputError(
      "missing-field",
      `request.dataset.name must be "upload" (or absent) when a dataset file is sent`,
      "request.dataset.name",
    );
  }
  rejectServerPaths(raw);
  const bytes = new Uint8Array(await file.arrayBuffer());
  try {
    datasetFromNpz(bytes, { maxBytes, source: file.name || "dataset" });
  } catch (err) {
    if (err instanceof InputError) {
      throw new InputError(
        err.problem,
        err.message,
        err.field && err.field !== "path" ? `dataset.${err.field}` : "dataset",
      );
    }
    throw err;
  }
  const { label: _, ...request } = raw;
  const job = resolveTrainingRequest({
    ...request,
    // The job layer replaces the path with where it keeps the upload.
    dataset: { ...given, name: "upload", path: "upload.npz" },
  });
  return { job, raw, upload: bytes };
}

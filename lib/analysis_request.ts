/**
 * An analysis request as it arrives: the raw body (JSON, or a multipart form holding an .npz
 * archive or one file per array) read into a validated dump, estimator, request fields and
 * label. The service runs this in a Web Worker, so that parsing never holds up the HTTP event
 * loop, and with a byte limit that is checked against the archive's directory and .npy headers
 * before anything is inflated.
 *
 * @module
 */
import { type Dump, dumpFromForm, encodeDump, parseJsonDump } from "./dump/mod.ts";
import { InputError, schemaInputError } from "./errors.ts";
import {
  type AnalysisRequest,
  analysisRequestWork,
  resolveAnalysisRequest,
} from "./measures/mod.ts";
import { type EstimatorConfig, EstimatorSchema, resolveEstimator } from "./nhsic/mod.ts";

/** Request fields a body may carry besides the dump. */
export const ANALYSIS_FIELDS = [
  "estimator",
  "label",
  "measures",
  "measure_options",
  "similarity",
  "sweep",
] as const;

/** Longest label. */
export const MAX_LABEL = 200;

/** Limits and the sync/queue threshold of {@link readAnalysisRequest}. */
export interface ReadOptions {
  /** Bytes the parsed dump may take in memory. */
  maxBytes: number;
  /** Largest m. */
  maxSamples: number;
  /** Work (see analysisRequestWork) above which the analysis is queued. */
  syncWorkLimit: number;
  /** Queue it whatever its size. */
  forceQueue: boolean;
}

/** A validated analysis request. */
export interface AnalysisSubmission {
  estimator: EstimatorConfig;
  request: AnalysisRequest;
  label: string | null;
  /** Samples, layers per checkpoint, checkpoints. */
  shape: { m: number; layers: number; checkpoints: number };
  /** Bytes the dump takes in memory. */
  dumpBytes: number;
  /** Run now: the dump. Queue: its .npz (the upload itself when it came as one archive). */
  run: { queue: false; dump: Dump } | { queue: true; npz: Uint8Array };
}

/**
 * Reads and validates an analysis request.
 *
 * @param body the request body
 * @param contentType its Content-Type (JSON, or multipart/form-data with its boundary)
 * @param opts limits and the sync/queue threshold
 * @returns the submission
 * @throws {InputError} naming the field or file at fault
 */
export async function readAnalysisRequest(
  body: Uint8Array,
  contentType: string,
  opts: ReadOptions,
): Promise<AnalysisSubmission> {
  let dump: Dump;
  let fields: Record<string, unknown>;
  let archive: Uint8Array | null = null;
  if (contentType.includes("json")) {
    const text = new TextDecoder().decode(body);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new InputError(
        "malformed-file",
        `the body is not valid JSON (${(e as Error).message})`,
        "(body)",
      );
    }
    if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
      const known = new Set<string>(["x", "y", "layers", "checkpoints", ...ANALYSIS_FIELDS]);
      const unknown = Object.keys(raw).find((k) => !known.has(k));
      if (unknown !== undefined) {
        throw new InputError(
          "invalid-request",
          `unknown field "${unknown}"; a JSON dump has x, y, layers or checkpoints, and ` +
            `optionally ${ANALYSIS_FIELDS.join(", ")}`,
          unknown,
        );
      }
    }
    const dup = duplicateKey(text);
    if (dup) {
      throw new InputError(
        "invalid-request",
        `key "${dup.key}" appears twice in ${dup.where}; JSON objects need distinct keys`,
        dup.key,
      );
    }
    dump = parseJsonDump(raw, { allowKeys: ANALYSIS_FIELDS });
    fields = raw as Record<string, unknown>;
  } else if (contentType.includes("multipart/form-data")) {
    const form = await new Response(body as Uint8Array<ArrayBuffer>, {
      headers: { "content-type": contentType },
    }).formData()
      .catch(() => {
        throw new InputError("malformed-file", "the multipart body cannot be read", "(body)");
      });
    const entries: Record<string, File | string> = {};
    for (const [k, v] of form) {
      if (k in entries) throw new InputError("malformed-file", `field "${k}" appears twice`, k);
      entries[k] = v;
    }
    const read = await dumpFromForm(entries, {
      textFields: ANALYSIS_FIELDS,
      maxBytes: opts.maxBytes,
    });
    dump = read.dump;
    fields = {};
    for (const [k, v] of Object.entries(read.text)) fields[k] = k === "label" ? v : jsonField(v, k);
    archive = read.archive;
  } else {
    throw new InputError(
      "unsupported-media-type",
      `Content-Type "${contentType}" is not accepted: send application/json or ` +
        "multipart/form-data",
      "content-type",
    );
  }
  const m = dump.x.rows;
  if (m > opts.maxSamples) {
    throw new InputError(
      "too-large",
      `the dump has ${m} samples; this service accepts at most ${opts.maxSamples} ` +
        "(INFOPLANE_MAX_SAMPLES)",
      "x",
    );
  }
  const parsed = EstimatorSchema.safeParse(fields.estimator ?? {});
  if (!parsed.success) {
    throw schemaInputError(parsed.error.issues, "invalid-estimator", "estimator");
  }
  const estimator = resolveEstimator(parsed.data);
  if (estimator.batch_size !== null && estimator.batch_size > m) {
    throw new InputError(
      "invalid-estimator",
      `estimator.batch_size: ${estimator.batch_size} is more than the ${m} samples; use null ` +
        "for the exact estimate on all of them",
      "estimator.batch_size",
    );
  }
  const request = resolveAnalysisRequest({
    measures: fields.measures,
    measure_options: fields.measure_options,
    similarity: fields.similarity,
    sweep: fields.sweep,
  });
  const label = fields.label ?? null;
  if (label !== null && (typeof label !== "string" || label.length > MAX_LABEL)) {
    throw new InputError(
      "invalid-request",
      `label: text of at most ${MAX_LABEL} characters`,
      "label",
    );
  }
  const queue = opts.forceQueue ||
    analysisRequestWork(dump, estimator, request) > opts.syncWorkLimit;
  const arrays = [
    dump.x.data,
    ...dump.checkpoints.flatMap((c) => c.layers.map((l) => l.values.data)),
  ];
  return {
    estimator,
    request,
    label,
    shape: { m, layers: dump.checkpoints[0].layers.length, checkpoints: dump.checkpoints.length },
    dumpBytes: arrays.reduce((s, a) => s + a.byteLength, dump.labels.byteLength),
    run: queue ? { queue, npz: archive ?? encodeDump(dump) } : { queue, dump },
  };
}

function jsonField(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InputError("invalid-request", `${field}: not valid JSON`, field);
  }
}

/**
 * The first key that appears twice in one JSON object (JSON.parse keeps the last silently),
 * with where it was: a scan of the text that skips strings and numbers.
 *
 * @param text valid JSON
 * @returns the key and a description of its object, or null
 */
export function duplicateKey(text: string): { key: string; where: string } | null {
  // One set of keys per open object; arrays push null. Hand-written: no JSON library reports
  // duplicates, and this pass costs a fraction of JSON.parse.
  const stack: Array<Set<string> | null> = [];
  const path: string[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22) { // "
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.has(key)) {
          return { key, where: path.length ? `"${path.join(".")}"` : "the top-level object" };
        }
        top.add(key);
        path[stack.length - 1] = key;
        expectKey = false;
      }
      i = j;
    } else if (ch === 0x7b) { // {
      stack.push(new Set());
      expectKey = true;
    } else if (ch === 0x5b) { // [
      stack.push(null);
    } else if (ch === 0x7d || ch === 0x5d) { // } ]
      stack.pop();
      path.length = Math.max(0, stack.length - 1);
    } else if (ch === 0x2c) { // ,
      expectKey = stack[stack.length - 1] !== null;
    }
  }
  return null;
}

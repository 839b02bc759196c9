/**
 * Reader for dumps sent as JSON:
 *
 * ```json
 * {"x": [[...]], "y": [...], "layers": {"fc1": [[...]]}}
 * {"x": [[...]], "y": [...], "checkpoints": [{"step": 0, "layers": {"fc1": [[...]]}}]}
 * ```
 *
 * Samples may be nested arrays of any depth (they are flattened); `y` may hold class indices
 * or one-hot rows. `null` is read as NaN, since that is what `JSON.stringify(NaN)` writes, so
 * it is reported as a non-finite value with its row.
 *
 * @module
 */

import { InputError } from "../errors.ts";
import { assembleDump, type DumpArrays, type LayerInput } from "./assemble.ts";
import type { Dump, NdArray } from "./types.ts";

/** Options for {@linkcode parseJsonDump}. */
export interface JsonDumpOptions {
  /**
   * Further top-level keys to ignore besides `x`, `y`, `layers` and `checkpoints`.
   * `estimator` is always ignored (the route reads it).
   */
  allowKeys?: readonly string[];
}

const ALWAYS_IGNORED = ["estimator"];

/**
 * Validates a parsed JSON dump and builds a {@linkcode Dump}.
 *
 * @example Usage
 * ```ts ignore
 * const dump = parseJsonDump(await req.json());
 * ```
 *
 * @param obj The parsed JSON body.
 * @param options Extra top-level keys to tolerate.
 * @returns The validated dump.
 * @throws {InputError} `malformed-file` for unknown keys or non-numeric values,
 * `missing-field` for absent keys, and whatever {@linkcode assembleDump} throws.
 */
export function parseJsonDump(obj: unknown, options: JsonDumpOptions = {}): Dump {
  return assembleDump(jsonDumpArrays(obj, options));
}

/**
 * Reads the arrays of a JSON dump without validating them against each other; see
 * {@linkcode parseJsonDump}.
 */
export function jsonDumpArrays(obj: unknown, options: JsonDumpOptions = {}): DumpArrays {
  if (!isPlainObject(obj)) {
    throw new InputError(
      "malformed-file",
      `the dump must be a JSON object with "x", "y" and "layers" or "checkpoints", got ${
        describe(obj)
      }`,
    );
  }
  const allowed = new Set(["x", "y", "layers", "checkpoints", ...ALWAYS_IGNORED]);
  for (const k of options.allowKeys ?? []) allowed.add(k);
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key)) {
      throw new InputError(
        "malformed-file",
        `unknown key "${key}" in the dump; expected "x", "y" and "layers" or "checkpoints"`,
        key,
      );
    }
  }
  for (const key of ["x", "y"]) {
    if (obj[key] === undefined) {
      throw new InputError("missing-field", `the dump has no "${key}"`, key);
    }
  }
  const x = jsonToNdArray(obj.x, "x", "x");
  const y = jsonToNdArray(obj.y, "y", "y");

  const hasLayers = obj.layers !== undefined;
  const hasCheckpoints = obj.checkpoints !== undefined;
  if (hasLayers && hasCheckpoints) {
    throw new InputError(
      "malformed-file",
      `the dump has both "layers" and "checkpoints"; give "layers" for one checkpoint or ` +
        `"checkpoints" for several`,
      "checkpoints",
    );
  }
  const layers: LayerInput[] = [];
  if (hasLayers) {
    readLayers(obj.layers, null, "layers", layers);
  } else if (hasCheckpoints) {
    if (!Array.isArray(obj.checkpoints)) {
      throw new InputError(
        "malformed-file",
        `"checkpoints" must be an array of {"step", "layers"} objects, got ${
          describe(obj.checkpoints)
        }`,
        "checkpoints",
      );
    }
    obj.checkpoints.forEach((cp, i) => {
      const where = `checkpoints[${i}]`;
      if (!isPlainObject(cp)) {
        throw new InputError(
          "malformed-file",
          `${where} must be an object with "step" and "layers", got ${describe(cp)}`,
          where,
        );
      }
      for (const key of Object.keys(cp)) {
        if (key !== "step" && key !== "layers") {
          throw new InputError(
            "malformed-file",
            `unknown key "${key}" in ${where}; expected "step" and "layers"`,
            `${where}.${key}`,
          );
        }
      }
      const step = cp.step;
      if (typeof step !== "number" || !Number.isSafeInteger(step) || step < 0) {
        throw new InputError(
          cp.step === undefined ? "missing-field" : "malformed-file",
          `${where}.step must be a non-negative integer, got ${describe(step)}`,
          `${where}.step`,
        );
      }
      readLayers(cp.layers, step, `${where}.layers`, layers);
    });
  } else {
    throw new InputError(
      "missing-field",
      `the dump has no "layers" (or "checkpoints") with activations`,
      "layers",
    );
  }
  return { x, y, layers };
}

function readLayers(
  value: unknown,
  step: number | null,
  where: string,
  out: LayerInput[],
): void {
  if (!isPlainObject(value)) {
    throw new InputError(
      value === undefined ? "missing-field" : "malformed-file",
      `${where} must be an object mapping layer names to arrays, got ${describe(value)}`,
      where,
    );
  }
  for (const [name, v] of Object.entries(value)) {
    const field = step === null ? name : `${step}/${name}`;
    out.push({ step, name, array: jsonToNdArray(v, field, `layer "${field}"`) });
  }
}

const MAX_DEPTH = 32;

/**
 * Converts nested JSON arrays of numbers to a float64 {@linkcode NdArray}. The nesting must be
 * rectangular; `null` becomes NaN.
 *
 * @param value The nested arrays.
 * @param field Field for {@linkcode InputError.field}.
 * @param what How messages name it, e.g. `layer "fc1"`.
 */
export function jsonToNdArray(value: unknown, field: string, what: string = field): NdArray {
  if (!Array.isArray(value)) {
    throw new InputError(
      "malformed-file",
      `${what} must be an array (one entry per sample), got ${describe(value)}`,
      field,
    );
  }
  // The shape comes from the first element at each depth; filling checks the rest against it.
  const shape: number[] = [];
  let probe: unknown = value;
  while (Array.isArray(probe)) {
    if (shape.length >= MAX_DEPTH) {
      throw new InputError("malformed-file", `${what} is nested too deeply`, field);
    }
    shape.push(probe.length);
    probe = probe[0];
  }
  const count = shape.reduce((p, n) => p * n, 1);
  const data = new Float64Array(count);
  let k = 0;
  const fill = (v: unknown, depth: number, path: number[]): void => {
    if (depth === shape.length) {
      if (typeof v === "number") data[k++] = v;
      else if (v === null) data[k++] = NaN;
      else {
        throw new InputError(
          "malformed-file",
          `${what}${index(path)} is ${describe(v)}, not a number`,
          field,
        );
      }
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      const expected = `an array of ${shape[depth]}`;
      throw new InputError(
        "shape-mismatch",
        `${what}${index(path)} should be ${expected} like ${what}${
          index(path.map(() => 0))
        }, but is ${Array.isArray(v) ? `an array of ${v.length}` : describe(v)}`,
        field,
      );
    }
    for (let i = 0; i < v.length; i++) {
      path.push(i);
      fill(v[i], depth + 1, path);
      path.pop();
    }
  };
  fill(value, 0, []);
  return { shape, dtype: "float64", data };
}

function index(path: number[]): string {
  return path.map((i) => `[${i}]`).join("");
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") {
    return `the string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + "..." : v)}`;
  }
  if (typeof v === "object") return "an object";
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return typeof v;
}

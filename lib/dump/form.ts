/**
 * Dumps sent as multipart forms: one `.npz` archive in the field `dump`, or one file per array
 * (`x`, `y`, then `<layer>` or `<step>/<layer>`, each `.npy` or CSV). Text fields the caller
 * names (e.g. `estimator`, `label`) come back as text, for the caller to parse.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import { assembleDump, parseLayerKey } from "./assemble.ts";
import { parseArrayFile, parseNpzDump } from "./mod.ts";
import type { Dump, NdArray } from "./types.ts";

/** What {@link dumpFromForm} read. */
export interface FormDump {
  dump: Dump;
  /** The text fields present, by name. */
  text: Record<string, string>;
  /** The .npz archive's bytes, when the dump came as one (its arrays may share them). */
  archive: Uint8Array | null;
}

/**
 * Reads a dump from a parsed multipart form.
 *
 * @param form field name to file or text
 * @param opts `textFields`: names of text fields allowed; `maxBytes`: limit on an archive's
 *   uncompressed arrays
 * @returns the dump and the text fields
 * @throws {InputError} for unknown text fields, both forms at once, missing arrays, bad files
 * @example
 * ```ts ignore
 * const { dump, text } = await dumpFromForm(await req.parseBody(), { textFields: ["label"] });
 * ```
 */
export async function dumpFromForm(
  form: Record<string, File | string>,
  opts: { textFields: readonly string[]; maxBytes?: number },
): Promise<FormDump> {
  const text: Record<string, string> = {};
  const files = new Map<string, File>();
  for (const [key, value] of Object.entries(form)) {
    if (value instanceof File) {
      files.set(key, value);
    } else if (opts.textFields.includes(key)) {
      text[key] = value;
    } else {
      throw new InputError(
        "missing-field",
        `field "${key}" must be a file (text fields: ${opts.textFields.join(", ")})`,
        key,
      );
    }
  }
  const whole = files.get("dump");
  if (whole) {
    if (files.size > 1) {
      throw new InputError(
        "malformed-file",
        "send either a `dump` archive or one file per array, not both",
        "dump",
      );
    }
    const bytes = new Uint8Array(await whole.arrayBuffer());
    return {
      dump: parseNpzDump(bytes, whole.name, { maxBytes: opts.maxBytes }),
      text,
      archive: bytes,
    };
  }
  const arrays = new Map<string, NdArray>();
  for (const [key, f] of files) {
    arrays.set(key, parseArrayFile(new Uint8Array(await f.arrayBuffer()), f.name || key, key));
  }
  const need = (k: string) => {
    const a = arrays.get(k);
    if (!a) throw new InputError("missing-field", `multipart field "${k}" is missing`, k);
    return a;
  };
  const dump = assembleDump({
    x: need("x"),
    y: need("y"),
    layers: [...arrays].filter(([k]) => k !== "x" && k !== "y").map(([k, array]) => ({
      ...parseLayerKey(k),
      array,
      source: files.get(k)!.name,
    })),
  });
  return { dump, text, archive: null };
}

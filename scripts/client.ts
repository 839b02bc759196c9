/**
 * `deno task client`: regenerates the typed TypeScript client's generated files from the API's
 * own OpenAPI document, built in-process (no server, no network):
 *
 * - `client/openapi.json`: the document (default settings: no API keys, public scales);
 * - `client/schema.ts`: its types (openapi-typescript; file fields typed `Blob`).
 *
 * `deno task client --check` writes nothing and exits 1 when the committed files differ from what
 * the current document generates (tests/client_test.ts runs the same comparison).
 *
 * @module
 */
import openapiTS, { astToString, type OpenAPI3 } from "openapi-typescript";
import ts from "typescript";
import { loadSettings } from "../lib/settings.ts";
import { createApp } from "../routes/app.ts";
import { MemoryBudget } from "../workers/mod.ts";
import type { JobService } from "../workers/mod.ts";
import { VERSION } from "../main.ts";

/** Where the generated files live. */
export const CLIENT_DIR = new URL("../client/", import.meta.url);

const HEADER = `/**
 * Types of the infoplane API, generated from its OpenAPI document (client/openapi.json) by
 * \`deno task client\` (scripts/client.ts, openapi-typescript). Do not edit: regenerate.
 *
 * @module
 */
`;

/**
 * The OpenAPI document of this checkout: the app built around its default settings (no keys)
 * with no job layer (nothing is routed, only described).
 */
export async function openApiDocument(): Promise<OpenAPI3> {
  const settings = loadSettings(() => undefined);
  const app = createApp({
    settings,
    jobs: null as unknown as JobService, // only handlers use it; none runs here
    budget: new MemoryBudget(settings.limits.memoryBytes),
    linalgName: "portable",
    version: VERSION,
    startedAt: 0,
  });
  const res = await app.request("/openapi.json");
  if (!res.ok) throw new Error(`GET /openapi.json answered ${res.status}: ${await res.text()}`);
  return await res.json();
}

const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier("Blob"));
const NULL = ts.factory.createLiteralTypeNode(ts.factory.createNull());
const STRING = ts.factory.createKeywordTypeNode(ts.SyntaxKind.StringKeyword);

/** The generated files' contents: the document and its types. */
export async function generateClient(): Promise<{ openapi: string; schema: string }> {
  const doc = await openApiDocument();
  const ast = await openapiTS(doc, {
    // Files in multipart bodies (format: binary) are Blobs (a File is one), not strings.
    transform(schema, options) {
      if (schema.format !== "binary") return undefined;
      const parent = (options as { schema?: { additionalProperties?: unknown } }).schema;
      // A form's other fields (MultipartDump: one file per layer): openapi-typescript writes
      // them as an index signature intersected with the named fields, so `Blob` there would
      // make the text fields (estimator, label) `string & Blob`, which nothing satisfies.
      if (parent?.additionalProperties === schema) {
        return ts.factory.createUnionTypeNode([BLOB, STRING]);
      }
      const nullable = Array.isArray(schema.type) && schema.type.includes("null");
      return nullable ? ts.factory.createUnionTypeNode([BLOB, NULL]) : BLOB;
    },
  });
  return {
    openapi: JSON.stringify(doc, null, 2) + "\n",
    schema: HEADER + astToString(ast),
  };
}

if (import.meta.main) {
  const check = Deno.args.includes("--check");
  const files = await generateClient();
  const targets = [
    ["openapi.json", files.openapi],
    ["schema.ts", files.schema],
  ] as const;
  let stale = 0;
  for (const [name, text] of targets) {
    const url = new URL(name, CLIENT_DIR);
    const now = await Deno.readTextFile(url).catch(() => null);
    if (now === text) continue;
    stale++;
    if (check) console.error(`client/${name} is out of date: run \`deno task client\``);
    else {
      await Deno.writeTextFile(url, text);
      console.log(`client/${name} written`);
    }
  }
  if (check && stale > 0) Deno.exit(1);
  if (stale === 0) console.log("client/openapi.json and client/schema.ts are up to date");
}

/**
 * The API's description: `/openapi.json` (OpenAPI 3.1, generated from the zod schemas of the
 * routes), `/docs` (Swagger UI with "try it out", served from the project's own dependency
 * `swagger-ui-dist`: no CDN, so it works offline and behind proxies) and `/docs/problems` (every
 * problem kind: the `type` of each problem+json answer points there).
 *
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { join } from "node:path";
import getAbsoluteFSPath from "swagger-ui-dist/absolute-path.js";
import { NotFoundError } from "../lib/errors.ts";
import type { AppEnv, Deps } from "./env.ts";
import { PROBLEM_PAGE, PROBLEMS } from "./problem.ts";
import { EndEventSchema, TrainingEventSchema } from "./schemas.ts";

const esc = (s: unknown) => String(s ?? "").replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** Files of swagger-ui-dist that /docs/assets/ serves, with their media types. */
const ASSETS: Record<string, string> = {
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui-bundle.js.map": "application/json",
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui.css.map": "application/json",
  "favicon-16x16.png": "image/png",
  "favicon-32x32.png": "image/png",
};

/** Names of the security schemes (both take the same keys: INFOPLANE_API_KEYS). */
export const SECURITY_SCHEMES = ["bearerAuth", "apiKeyHeader"] as const;

/** What `doc31` takes: the document's top level. */
type OpenApiConfig = Exclude<
  Parameters<OpenAPIHono<AppEnv>["doc31"]>[1],
  (...a: never[]) => unknown
>;

/** The document's top level, whatever the routes. */
export function openApiConfig(deps: Pick<Deps, "version" | "settings">): OpenApiConfig {
  const keysOn = deps.settings.apiKeys.length > 0;
  const security: Array<Record<string, string[]>> = [{ bearerAuth: [] }, { apiKeyHeader: [] }];
  return {
    openapi: "3.1.0",
    info: {
      title: "infoplane",
      version: deps.version,
      description: "How information flows through the layers of a neural network: normalised " +
        "HSIC per layer and checkpoint, layer differentiation and information-bottleneck " +
        "summaries (after Sakamoto & Sato, TMLR 2024), for activation dumps you upload and for " +
        "training jobs the service runs.\n\n" +
        "**Keys.** When the service is configured with keys (`INFOPLANE_API_KEYS`), every " +
        "`/v1` operation but the health check needs one, as `Authorization: Bearer <key>` or " +
        "`X-API-Key: <key>`, and a key sees only its own jobs. " +
        (keysOn
          ? "This deployment requires a key."
          : "This deployment has no keys configured: keys are optional (and ignored).") +
        "\n\n**Long work.** Analyses over the size limit, trainings and experiment suites answer " +
        "202 with a `Location` to poll; each has an `/events` stream (server-sent events) and " +
        "a `progress` object with `fraction`, `elapsed_s` and `eta_s`.\n\n" +
        `**Errors** are \`application/problem+json\` (RFC 9457); their \`type\` is explained at ` +
        `[${PROBLEM_PAGE}](${PROBLEM_PAGE}).`,
    },
    servers: [{ url: "/", description: "This service (relative to where the document was read)" }],
    tags: [
      { name: "analyses", description: "Upload an activation dump, get nHSIC per layer." },
      { name: "trainings", description: "Train a model with several methods, tracking nHSIC." },
      { name: "experiments", description: "The experiment suite that reproduces the paper." },
      { name: "jobs", description: "Every job of the caller, whatever its kind." },
      { name: "charts", description: "Vega-Lite specs and renderings of results." },
      { name: "service", description: "Health." },
    ],
    // No keys configured: the empty requirement says that none is needed.
    security: keysOn ? security : [...security, {}],
  };
}

/** Registers /openapi.json, /docs, its assets and /docs/problems. */
export function docsRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  const registry = app.openAPIRegistry;
  const how = deps.settings.apiKeys.length > 0 ? "" : " Not required by this deployment.";
  registry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: `An API key (one of INFOPLANE_API_KEYS) as a bearer token.${how}`,
  });
  registry.registerComponent("securitySchemes", "apiKeyHeader", {
    type: "apiKey",
    in: "header",
    name: "X-API-Key",
    description: `The same key in an X-API-Key header.${how}`,
  });
  // The data of event streams: not a response body of their own, but clients need the types.
  registry.register("TrainingEvent", TrainingEventSchema);
  registry.register("EndEvent", EndEventSchema);

  app.doc31("/openapi.json", openApiConfig(deps));

  app.get("/docs", (c) => c.html(DOCS_PAGE));
  app.get("/docs/init.js", (c) =>
    c.body(DOCS_INIT, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "no-cache",
    }));
  app.get("/docs/assets/:file", async (c) => {
    const file = c.req.param("file");
    const type = ASSETS[file];
    const bytes = type ? await asset(file) : null;
    if (!bytes) throw new NotFoundError(`no documentation asset "${file}"`, "file");
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      "content-type": type,
      "cache-control": "public, max-age=86400",
    });
  });
  let problems: string | null = null;
  app.get(PROBLEM_PAGE, (c) => c.html(problems ??= problemsPage(deps.version)));
}

const cache = new Map<string, Promise<Uint8Array | null>>();

/** A file of swagger-ui-dist (read once); null when the package's files cannot be read. */
function asset(file: string): Promise<Uint8Array | null> {
  let p = cache.get(file);
  if (!p) {
    p = (async () => {
      try {
        return await Deno.readFile(join(getAbsoluteFSPath(), file));
      } catch {
        return null;
      }
    })();
    cache.set(file, p);
  }
  return p;
}

const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>infoplane API</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<style>body{margin:0}.ip-bar{font:14px/1.5 system-ui,sans-serif;padding:.5em 1.25em;
background:#1b1b1b;color:#eee}.ip-bar a{color:#9cf}</style>
</head><body>
<div class="ip-bar">infoplane API: <a href="/openapi.json">OpenAPI 3.1 document</a> ·
<a href="${PROBLEM_PAGE}">problem types</a></div>
<noscript><p style="padding:1em">This page needs JavaScript. The description itself is
<a href="/openapi.json">/openapi.json</a>; problem types are at
<a href="${PROBLEM_PAGE}">${PROBLEM_PAGE}</a>.</p></noscript>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body></html>
`;

const DOCS_INIT = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  displayRequestDuration: true,
  filter: true,
  tryItOutEnabled: false,
});
`;

function problemsPage(version: string): string {
  const rows = Object.entries(PROBLEMS).map(([kind, p]) =>
    `<tr id="${esc(kind)}"><td><a href="#${esc(kind)}"><code>${esc(kind)}</code></a></td>` +
    `<td>${p.status}</td><td>${esc(p.title)}</td><td>${
      esc(p.meaning).replace(/`([^`]+)`/g, "<code>$1</code>")
    }</td></tr>`
  ).join("\n");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>infoplane: problem types</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;
color:#222}table{border-collapse:collapse;width:100%}td,th{border-top:1px solid #ddd;
padding:.4em .6em;text-align:left;vertical-align:top}tr:target{background:#fff6d5}
code{font-size:14px}</style></head><body>
<h1>Problem types <small>infoplane ${esc(version)}</small></h1>
<p>Every error of the API is <code>application/problem+json</code> (RFC 9457):
<code>{"type", "title", "status", "detail", "field"}</code>. Its <code>type</code> is
<code>${PROBLEM_PAGE}#&lt;kind&gt;</code>, one of the kinds below; <code>detail</code> says what
went wrong and <code>field</code> names the request field, form field or file at fault. The API
itself is described at <a href="/docs">/docs</a> (<a href="/openapi.json">/openapi.json</a>).</p>
<table><thead><tr><th>kind</th><th>status</th><th>title</th><th>meaning</th></tr></thead>
<tbody>
${rows}
</tbody></table></body></html>`;
}

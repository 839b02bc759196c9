/**
 * /openapi.json (OpenAPI 3.1, generated from the zod schemas) and /docs, a self-contained HTML
 * page rendered from the same document: no CDN scripts, so it works offline and behind proxies.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv, Deps } from "./env.ts";
import { PROBLEM_KINDS } from "./problem.ts";

const esc = (s: unknown) => String(s ?? "").replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

// deno-lint-ignore no-explicit-any
type Doc = any;

function renderDocs(doc: Doc): string {
  const ops: string[] = [];
  for (const [path, item] of Object.entries<Doc>(doc.paths ?? {})) {
    for (const [method, op] of Object.entries<Doc>(item)) {
      const params = (op.parameters ?? []).map((p: Doc) =>
        `<li><code>${esc(p.name)}</code> (${esc(p.in)}) ${esc(p.schema?.description ?? "")}</li>`
      ).join("");
      const bodies = Object.entries<Doc>(op.requestBody?.content ?? {}).map(([type, c]) =>
        `<details><summary>request <code>${esc(type)}</code></summary><pre>${
          esc(JSON.stringify(c.schema, null, 2))
        }</pre></details>`
      ).join("");
      const responses = Object.entries<Doc>(op.responses ?? {}).map(([code, r]) =>
        `<li><b>${esc(code)}</b> ${esc(r.description)}</li>`
      ).join("");
      ops.push(
        `<section><h3><span class="m">${esc(method.toUpperCase())}</span> <code>${
          esc(path)
        }</code></h3><p><b>${esc(op.summary)}</b> ${esc(op.description ?? "")}</p>${
          params ? `<ul>${params}</ul>` : ""
        }${bodies}<ul>${responses}</ul></section>`,
      );
    }
  }
  const schemas = Object.entries<Doc>(doc.components?.schemas ?? {}).map(([name, s]) =>
    `<details id="schema-${esc(name)}"><summary>${esc(name)}</summary><pre>${
      esc(JSON.stringify(s, null, 2))
    }</pre></details>`
  ).join("");
  const problems = PROBLEM_KINDS.map((k) =>
    `<li id="problem-${esc(k)}"><code>${esc(k)}</code></li>`
  )
    .join("");
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(doc.info.title)} API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
section{border-top:1px solid #ddd;padding:.5em 0}.m{background:#245;color:#fff;padding:0 .4em;border-radius:3px}
pre{background:#f6f6f6;padding:.6em;overflow:auto;font-size:13px}code{font-size:14px}</style></head><body>
<h1>${esc(doc.info.title)} <small>${esc(doc.info.version)}</small></h1><p>${
    esc(doc.info.description)
  }</p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${
    esc(doc.openapi)
  }).</p><h2>Endpoints</h2>${ops.join("")}<h2>Schemas</h2>${schemas}
<h2>Problem types</h2><p>Errors are <code>application/problem+json</code> (RFC 9457) whose
<code>type</code> points here; <code>field</code> names the field or file at fault.</p><ul>${problems}</ul>
</body></html>`;
}

/** Registers /openapi.json and /docs. */
export function docsRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  const config = {
    openapi: "3.1.0",
    info: {
      title: "infoplane",
      version: deps.version,
      description: "How information flows through the layers of a neural network: normalised " +
        "HSIC per layer and checkpoint, layer differentiation and information-bottleneck " +
        "summaries (after Sakamoto & Sato, TMLR 2024).",
    },
  };
  app.doc31("/openapi.json", config);
  let html: string | null = null;
  app.get("/docs", (c) => c.html(html ??= renderDocs(app.getOpenAPI31Document(config))));
}

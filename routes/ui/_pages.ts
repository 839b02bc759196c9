/**
 * The viewer's HTML: one shell per page, rendered here with every dynamic value escaped, and
 * filled in by the page's script module (./assets/) from the API and the page's view document.
 * The shells hold no data, so they are public even when API keys are on: what a page shows comes
 * from requests that carry the key (kept in sessionStorage) or a share-link token.
 *
 * @module
 */
import { CHARTS } from "../../lib/charts/mod.ts";

/** Escapes text for HTML content and double-quoted attributes. */
export function esc(s: unknown): string {
  return String(s ?? "").replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** What a page is. */
export interface PageSpec {
  /** Script module under /ui/assets/ that fills the page, and the body's data-page. */
  page: "list" | "analysis" | "training" | "experiment" | "compare" | "chart";
  title: string;
  /** Without the site's chrome, fitting its frame. */
  embed: boolean;
  /** data-* attributes for the script (escaped here). */
  data?: Record<string, string>;
  /** The page's static skeleton (trusted HTML built from escaped values). */
  body: string;
  /** Whether the page draws charts (loads vega, vega-lite and vega-embed). */
  charts: boolean;
}

/**
 * The Content-Security-Policy of the viewer's pages: scripts and data from the service only,
 * no inline scripts, and frames allowed to `frameAncestors` (INFOPLANE_FRAME_ANCESTORS).
 */
export function pageCsp(frameAncestors: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "font-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${frameAncestors}`,
  ].join("; ");
}

const VENDOR_SCRIPTS = ["vega.js", "vega-lite.js", "vega-embed.js"]
  .map((f) => `<script src="/ui/assets/${f}" defer></script>`).join("\n");

/** A whole page. */
export function renderPage(p: PageSpec): string {
  const data = Object.entries(p.data ?? {})
    .map(([k, v]) => ` data-${k.replace(/[^a-z0-9-]/g, "")}="${esc(v)}"`).join("");
  const chrome = !p.embed;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${esc(p.title)} · infoplane</title>
<link rel="icon" href="/ui/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/ui/assets/ui.css">
${p.charts ? VENDOR_SCRIPTS : ""}
<script type="module" src="/ui/assets/${p.page}.js"></script>
</head>
<body class="page-${p.page}${p.embed ? " embed" : ""}" data-page="${p.page}"${data}>
${
    chrome
      ? `<header class="top"><a class="brand" href="/"><span class="logo" aria-hidden="true"></span>infoplane</a>
<nav><a href="/">Results</a><a href="/docs">API</a></nav><span id="auth" class="auth"></span></header>`
      : ""
  }
<main id="main">
<noscript><p class="notice">These pages need JavaScript. The same data is in the API: see
<a href="/docs">/docs</a>.</p></noscript>
${p.body}
</main>
${
    chrome
      ? `<footer class="foot">infoplane: information flow through neural-network layers (nHSIC,
after Sakamoto &amp; Sato, TMLR 2024) · <a href="/docs">API</a> · <a href="/openapi.json">OpenAPI</a></footer>`
      : ""
  }
</body>
</html>
`;
}

/** The list of the caller's jobs. */
export function listPage(embed: boolean): PageSpec {
  const statuses = ["queued", "running", "done", "failed", "cancelled"]
    .map((s) => `<option value="${s}">${s}</option>`).join("");
  return {
    page: "list",
    title: "Results",
    embed,
    charts: false,
    body: `<section class="intro"><h1>Results</h1>
<p class="muted">Your analyses, trainings and experiment suites, newest first. Open one to see its
information plane and summaries; tick two to four to compare them.</p></section>
<form id="filters" class="filters" role="search">
<label class="grow"><span>Label</span><input type="search" name="label" placeholder="search labels" autocomplete="off" maxlength="200"></label>
<label><span>Status</span><select name="status"><option value="">any</option>${statuses}</select></label>
<label><span>Kind</span><select name="kind"><option value="">any</option><option value="analysis">analysis</option><option value="training">training</option><option value="experiment">experiment suite</option></select></label>
</form>
<div id="compare-bar" class="compare-bar" hidden><span id="compare-count"></span>
<a id="compare-go" class="button" href="/ui/compare">Compare</a><button type="button" id="compare-clear" class="link">clear</button></div>
<div id="jobs" class="jobs" aria-live="polite"></div>
<p class="more"><button type="button" id="more" hidden>More</button></p>
<p id="live" class="muted small"></p>`,
  };
}

/** The page of one result (analysis, training or experiment suite). */
export function resultPage(
  kind: "analysis" | "training" | "experiment",
  id: string,
  embed: boolean,
): PageSpec {
  const noun = kind === "experiment" ? "Experiment suite" : kind[0].toUpperCase() + kind.slice(1);
  return {
    page: kind,
    title: `${noun} ${id.slice(-8)}`,
    embed,
    charts: kind !== "experiment",
    data: { id, kind },
    body: `<div id="result" class="result"><p class="muted">Loading ${esc(noun.toLowerCase())}
<code>${esc(id)}</code>…</p></div>`,
  };
}

/** The compare page. */
export function comparePage(ids: string, embed: boolean): PageSpec {
  return {
    page: "compare",
    title: "Compare",
    embed,
    charts: true,
    data: { ids },
    body: `<div id="compare" class="result"><p class="muted">Loading…</p></div>`,
  };
}

/** One chart alone (the embeddable form of a chart). */
export function chartPage(
  opts: { kind: string; id: string; chart: string; title: string; spec: string; result: string },
  embed: boolean,
): PageSpec {
  return {
    page: "chart",
    title: opts.title,
    embed,
    charts: true,
    data: { id: opts.id, kind: opts.kind, chart: opts.chart, spec: opts.spec, result: opts.result },
    body: `${
      embed ? "" : `<p class="crumbs"><a href="${esc(opts.result)}">← back to the result</a></p>`
    }<div id="chart" class="chart solo" role="img" aria-label="${esc(opts.title)}"></div>`,
  };
}

/** Title of a chart by name. */
export function chartTitle(name: string, viewer: Array<{ name: string; title: string }>): string {
  return CHARTS.find((c) => c.name === name)?.title ??
    viewer.find((c) => c.name === name)?.title ?? name;
}

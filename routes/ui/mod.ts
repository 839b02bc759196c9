/**
 * The viewer: web pages to find, look at, compare and embed results, served by the service
 * itself (outside the OpenAPI document), plus share links (`POST /v1/{kind}/{id}/links`, in the
 * document). docs/embedding.md.
 *
 *   GET /  and  /ui                          the caller's jobs: search, filters, live status
 *   GET /ui/analyses/{id}                    an analysis: table, summaries in words, charts
 *   GET /ui/trainings/{id}                   a training: curves, planes, live while it trains
 *   GET /ui/experiments/{id}                 an experiment suite: progress, verdicts, report
 *   GET /ui/compare?ids=a,b[,c,d]            two to four results side by side
 *   GET /ui/{kind}/{id}/charts/{chart}       one chart alone
 *   (any page) ?embed=1                      without the site's chrome, to fit a frame
 *   GET /ui/{kind}/{id}/view.json            a page's data (needs the key or a share token)
 *   GET /ui/compare.json?ids=                the compare page's data (the same)
 *   GET /ui/{analyses|trainings}/{id}/charts/{chart}.{json|svg|png}
 *                                            charts only the viewer serves (loss, compression,
 *                                            similarity maps, sweep)
 *   GET /ui/assets/{file}                    scripts, styles, vega builds from node_modules
 *
 * Pages are HTML shells without data, public even with API keys on; they send
 * `Content-Security-Policy: frame-ancestors` from INFOPLANE_FRAME_ANCESTORS.
 *
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { LRUCache } from "lru-cache";
import {
  buildMeasureChart,
  CHART_MEDIA_TYPES,
  CHART_NAMES,
  CHARTS,
  compressionByLayer,
  isMeasureChartName,
  lossCurves,
  renderPng,
  renderSvg,
  type VegaLiteSpec,
} from "../../lib/charts/mod.ts";
import { InputError, NotFoundError } from "../../lib/errors.ts";
import { SIMILARITY_NAMES, type SimilarityName } from "../../lib/measures/mod.ts";
import type { JobKind, JobRecord, JobRecordOf } from "../../workers/mod.ts";
import type { AppEnv, Deps } from "../env.ts";
import { KIND_PATHS, ownerOf } from "../http.ts";
import { serveAsset } from "./_assets.ts";
import { linkRoutes, type LinkSigner } from "./_links.ts";
import {
  chartPage,
  chartTitle,
  comparePage,
  listPage,
  pageCsp,
  type PageSpec,
  renderPage,
  resultPage,
} from "./_pages.ts";
import { chartsOf, isViewerChart, KIND_OF, type UiKind, uiPath, VIEWER_CHARTS } from "./_paths.ts";
import { compareIds, compareView, resultView } from "./_views.ts";

export { linkOwner, LinkSigner, TOKEN_HEADER } from "./_links.ts";

/**
 * The viewer's links of a result, for the API's `links`: its page, where to ask for a share
 * link, and its charts (name -> spec URL).
 */
export function resultLinks(
  rec: JobRecordOf<JobKind>,
): { view: string; share: string; charts: Record<string, string> } {
  return {
    view: uiPath(rec.kind, rec.id),
    share: `${KIND_PATHS[rec.kind]}/${rec.id}/links`,
    charts: Object.fromEntries(chartsOf(rec as JobRecord).map((ch) => [ch.key, ch.json])),
  };
}

/**
 * Whether a path is a page shell or an asset of the viewer, which the API key does not guard
 * (the data they show is fetched with the key or a token). Paths ending in .json, .svg, .png
 * or .csv are data and need authentication.
 */
export function isPublicUiPath(path: string): boolean {
  if (path === "/" || path === "/ui" || path === "/ui/") return true;
  if (!path.startsWith("/ui/")) return false;
  if (path.startsWith("/ui/assets/")) return true;
  return !/\.(json|svg|png|csv)$/i.test(path);
}

const UI_KINDS = new Set<string>(["analyses", "trainings", "experiments"]);

/** A job id as it may appear in a page (ids are UUIDs): anything else is no page. */
function pageId(raw: string | undefined): string {
  if (!raw || !/^[A-Za-z0-9_-]{1,100}$/.test(raw)) {
    throw new NotFoundError("no such result: ids are UUIDs", "id");
  }
  return raw;
}

function uiKind(raw: string | undefined): UiKind {
  if (!raw || !UI_KINDS.has(raw)) {
    throw new NotFoundError(
      "no such page: /ui/analyses, /ui/trainings or /ui/experiments",
      "(path)",
    );
  }
  return raw as UiKind;
}

/** Registers the viewer on `app`. */
export function uiRoutes(app: OpenAPIHono<AppEnv>, deps: Deps, signer: LinkSigner): void {
  const csp = pageCsp(deps.settings.frameAncestors);
  const send = (c: Context, spec: PageSpec) =>
    c.html(renderPage(spec), 200, {
      "content-security-policy": csp,
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      "referrer-policy": "same-origin",
    });
  const embed = (c: Context) => ["1", "true"].includes(c.req.query("embed") ?? "");

  linkRoutes(app, deps, signer);
  app.get("/ui/assets/:name", serveAsset);

  for (const path of ["/", "/ui", "/ui/"]) app.get(path, (c) => send(c, listPage(embed(c))));
  app.get("/ui/compare", (c) => send(c, comparePage(c.req.query("ids") ?? "", embed(c))));
  app.get("/ui/compare.json", async (c) => {
    const view = await compareView(deps.jobs, ownerOf(c), compareIds(c.req.query("ids")));
    return c.json(view, 200, { "cache-control": "private, no-cache" });
  });

  app.get("/ui/:kind/:id/view.json", async (c) => {
    const kind = KIND_OF[uiKind(c.req.param("kind"))];
    const rec = await deps.jobs.get(c.req.param("id"), ownerOf(c), kind);
    return c.json(await resultView(deps.jobs, rec as JobRecord), 200, {
      "cache-control": "private, no-cache",
    });
  });

  const charts = chartCache();
  app.get("/ui/:kind/:id/charts/:file", async (c) => {
    const kind = uiKind(c.req.param("kind"));
    const id = pageId(c.req.param("id"));
    const file = c.req.param("file");
    const m = /^(.+)\.(json|svg|png)$/.exec(file);
    if (m) return await serveViewerChart(c, deps, charts, kind, id, m[1], m[2] as Format);
    return send(c, chartPageSpec(c, kind, id, file, embed(c)));
  });

  app.get("/ui/:kind/:id", (c) => {
    const kind = KIND_OF[uiKind(c.req.param("kind"))];
    return send(c, resultPage(kind, pageId(c.req.param("id")), embed(c)));
  });
}

type Format = "json" | "svg" | "png";

/** The page of one chart: where its spec is, whichever service part draws it. */
function chartPageSpec(c: Context, kind: UiKind, id: string, chart: string, embed: boolean) {
  const result = `/ui/${kind}/${id}`;
  const query = new URLSearchParams();
  for (const k of ["measure", "step"]) {
    const v = c.req.query(k);
    if (v !== undefined) query.set(k, v);
  }
  const q = query.size ? `?${query}` : "";
  let spec: string;
  if (kind === "experiments") {
    if (!/^[A-Za-z0-9._-]+$/.test(chart)) throw new NotFoundError(`no figure "${chart}"`, "chart");
    spec = `/v1/experiments/${id}/figures/${chart}.json`;
  } else if (
    (CHART_NAMES as readonly string[]).includes(chart) &&
    CHARTS.find((ch) => ch.name === chart)!.sources.includes(kind)
  ) {
    spec = `/v1/${kind}/${id}/charts/${chart}.json`;
  } else if (isViewerChart(kind, chart)) {
    spec = `/ui/${kind}/${id}/charts/${chart}.json${q}`;
  } else {
    throw new NotFoundError(`no chart "${chart}" for ${kind}`, "chart");
  }
  const title = chartTitle(chart, [...VIEWER_CHARTS]);
  return chartPage({ kind, id, chart, title, spec, result }, embed);
}

interface Rendered {
  body: Uint8Array;
  etag: string;
}

function chartCache() {
  return new LRUCache<string, Rendered, () => Promise<Uint8Array>>({
    max: 32,
    maxSize: 16 * 1024 * 1024,
    sizeCalculation: (r) => Math.max(1, r.body.byteLength),
    fetchMethod: async (_k, _s, { context: make }) => {
      const body = await make();
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body as BufferSource));
      const hex = Array.from(digest.slice(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
      return { body, etag: `"${hex}"` };
    },
  });
}

/** A chart only the viewer serves, as spec, SVG or PNG (immutable once the result is done). */
async function serveViewerChart(
  c: Context<AppEnv>,
  deps: Deps,
  cache: ReturnType<typeof chartCache>,
  kind: UiKind,
  id: string,
  name: string,
  format: Format,
): Promise<Response> {
  if (kind === "experiments" || !isViewerChart(kind, name)) {
    throw new NotFoundError(
      `no viewer chart "${name}" for ${kind}` +
        ((CHART_NAMES as readonly string[]).includes(name)
          ? `; the API serves it at /v1/${kind}/${id}/charts/${name}.${format}`
          : ""),
      "chart",
    );
  }
  const measure = c.req.query("measure");
  if (measure !== undefined && !(SIMILARITY_NAMES as readonly string[]).includes(measure)) {
    throw new InputError("invalid-request", `unknown measure "${measure}"`, "measure");
  }
  const rawStep = c.req.query("step");
  const step = rawStep === undefined ? undefined : Number(rawStep);
  if (step !== undefined && !Number.isInteger(step)) {
    throw new InputError("invalid-request", `step must be an integer, got "${rawStep}"`, "step");
  }
  const rawScale = c.req.query("scale");
  const scale = rawScale === undefined ? 2 : Number(rawScale);
  if (format !== "png" && rawScale !== undefined || !(scale >= 1 && scale <= 4)) {
    throw new InputError("invalid-request", "scale is a number from 1 to 4, for png only", "scale");
  }
  const owner = ownerOf(c);
  const build = async (): Promise<VegaLiteSpec> => {
    try {
      if (kind === "analyses") {
        const rec = await deps.jobs.get(id, owner, "analysis");
        const out = await deps.jobs.finishedResult(rec as JobRecordOf<"analysis">);
        if (name === "compression") return compressionByLayer(out);
        if (isMeasureChartName(name)) {
          return buildMeasureChart(name, out, { measure: measure as SimilarityName, step });
        }
      } else {
        const rec = await deps.jobs.get(id, owner, "training");
        const out = await deps.jobs.finishedResult(rec as JobRecordOf<"training">);
        if (name === "loss") return lossCurves(out);
        if (name === "compression") return compressionByLayer(out);
      }
    } catch (e) {
      if (e instanceof RangeError) throw new NotFoundError(e.message, "chart");
      throw e;
    }
    throw new NotFoundError(`no viewer chart "${name}"`, "chart");
  };
  const key = [kind, owner, id, name, measure ?? "", step ?? "", format, scale].join("\u0000");
  const entry = (await cache.fetch(key, {
    context: async () => {
      const spec = await build();
      if (format === "json") return new TextEncoder().encode(JSON.stringify(spec));
      const svg = await renderSvg(spec);
      if (format === "svg") return new TextEncoder().encode(svg);
      return await renderPng(svg, { scale });
    },
  }))!;
  const headers: Record<string, string> = {
    "content-type": CHART_MEDIA_TYPES[format] + (format === "png" ? "" : "; charset=utf-8"),
    "cache-control": "private, max-age=3600",
    etag: entry.etag,
    "x-content-type-options": "nosniff",
    "content-disposition": `inline; filename="${
      `${kind}-${id}-${name}`.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 120)
    }.${format}"`,
  };
  if (format === "svg") {
    headers["content-security-policy"] = "default-src 'none'; style-src 'unsafe-inline'";
  }
  if ((c.req.header("if-none-match") ?? "").split(",").some((t) => t.trim() === entry.etag)) {
    return c.body(null, 304, headers);
  }
  return c.body(entry.body as Uint8Array<ArrayBuffer>, 200, headers);
}

/**
 * Where the viewer's pages and charts live, and which charts a result has: the API's charts
 * (routes/charts.ts, `/v1/.../charts/{name}.{format}`) and the ones only the viewer serves
 * (`/ui/.../charts/{name}.{format}`: loss, compression by layer, similarity maps, sweep).
 *
 * @module
 */
import { CHARTS, MEASURE_CHARTS } from "../../lib/charts/mod.ts";
import type { JobKind, JobRecord } from "../../workers/mod.ts";
import { KIND_PATHS } from "../http.ts";

/** Path segment of a kind in the viewer (the same as the API's). */
export type UiKind = "analyses" | "trainings" | "experiments";

/** The kind of a path segment. */
export const KIND_OF: Readonly<Record<UiKind, JobKind>> = {
  analyses: "analysis",
  trainings: "training",
  experiments: "experiment",
};

/** The page of a result. */
export function uiPath(kind: JobKind, id: string): string {
  return `/ui${KIND_PATHS[kind].slice("/v1".length)}/${id}`;
}

/** Charts the viewer serves itself (the API does not route them). */
export const VIEWER_CHARTS: ReadonlyArray<
  { name: string; title: string; description: string; kinds: UiKind[] }
> = [
  {
    name: "loss",
    title: "Loss during training",
    description: "Training loss against the step, one colour per method; dashed: the " +
      "method's own objective where it differs.",
    kinds: ["trainings"],
  },
  {
    name: "compression",
    title: "Compression by layer",
    description: "How far each layer's input dependence fell from its peak, with the " +
      "threshold of the compression conclusion; outlined: layers that follow the IB.",
    kinds: ["analyses", "trainings"],
  },
  ...MEASURE_CHARTS.map((m) => ({
    name: m.name,
    title: m.title,
    description: m.description,
    kinds: ["analyses" as const],
  })),
];

/** One chart of a result: what it is and where its spec, renderings and page are. */
export interface ChartRef {
  /** Distinct among a result's charts: the name, or `similarity-<measure>` for further maps. */
  key: string;
  /** The chart's name in its URL. */
  name: string;
  title: string;
  description: string;
  /** Vega-Lite spec, SVG and PNG (the service's rendering). */
  json: string;
  svg: string;
  png: string;
  /** The chart alone on a page (`?embed=1` for a frame). */
  page: string;
}

function ref(
  base: string,
  page: string,
  c: { name: string; title: string; description: string },
  query = "",
  key = c.name,
): ChartRef {
  const q = query ? `?${query}` : "";
  return {
    key,
    name: c.name,
    title: c.title,
    description: c.description,
    json: `${base}/${c.name}.json${q}`,
    svg: `${base}/${c.name}.svg${q}`,
    png: `${base}/${c.name}.png${q}`,
    page: `${page}/${c.name}${q}`,
  };
}

/**
 * Every chart a result has, from its record alone (no result needed): the API's charts of its
 * kind, then the viewer's. Charts answer once the result is done. Experiment suites have none
 * here (their figures are listed in their report).
 */
export function chartsOf(rec: JobRecord): ChartRef[] {
  if (rec.kind === "experiment") return [];
  const seg: UiKind = rec.kind === "analysis" ? "analyses" : "trainings";
  const api = `/v1/${seg}/${rec.id}/charts`;
  const ui = `/ui/${seg}/${rec.id}/charts`;
  const out = CHARTS.filter((c) => c.sources.includes(seg)).map((c) => ref(api, ui, c));
  const several = rec.kind === "training" || rec.request.checkpoints > 1;
  for (const c of VIEWER_CHARTS) {
    if (!c.kinds.includes(seg)) continue;
    if (c.name === "compression" && !several) continue;
    if (rec.kind === "analysis") {
      const opts = rec.request.options;
      if (c.name === "similarity") {
        // One chart per similarity measure asked for; the first is the plain name.
        opts.similarity.forEach((m, i) =>
          out.push(
            i === 0
              ? ref(ui, ui, c)
              : ref(ui, ui, { ...c, title: `${c.title} (${m})` }, `measure=${m}`, `${c.name}-${m}`),
          )
        );
        continue;
      }
      if (c.name === "checkpoint-similarity" && !(opts.similarity.length && several)) continue;
      if (c.name === "sweep-compression" && !(opts.sweep && several)) continue;
    }
    out.push(ref(ui, ui, c));
  }
  return out;
}

/** Whether a chart name is one the viewer serves for this kind. */
export function isViewerChart(kind: UiKind, name: string): boolean {
  return VIEWER_CHARTS.some((c) => c.name === name && c.kinds.includes(kind));
}

/**
 * What each viewer page shows, computed here (typed, tested) and fetched by the page's script as
 * one JSON document: `/ui/{kind}/{id}/view.json` and `/ui/compare.json?ids=`. The script only
 * lays it out. These documents follow the pages; the API (`/v1/...`) is the stable interface.
 *
 * @module
 */
import type { AnalysisOutput } from "../../lib/analysis.ts";
import {
  compressionByLayer,
  depthProfile,
  informationPlane,
  type VegaLiteSpec,
} from "../../lib/charts/mod.ts";
import { suiteSize } from "../../lib/experiments/mod.ts";
import type { SuiteResult } from "../../lib/experiments/mod.ts";
import { InputError } from "../../lib/errors.ts";
import { evaluateClaims } from "../../lib/report/mod.ts";
import type { TrainingResult } from "../../lib/train/mod.ts";
import type { JobRecord, JobRecordOf, JobService } from "../../workers/mod.ts";
import { KIND_PATHS } from "../http.ts";
import { type ChartRef, chartsOf, uiPath } from "./_paths.ts";
import { analysisWords, estimatorText } from "./_words.ts";

/** What every page of a result shows at its top. */
export interface BaseView {
  kind: JobRecord["kind"];
  id: string;
  label: string | null;
  /** The label, or the kind and a short id. */
  title: string;
  /** One line: the shape of the dump, the model and methods, or the experiments. */
  subtitle: string;
  status: JobRecord["status"];
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  error: JobRecord["error"];
  progress: JobRecord["progress"];
  /** The API's resource, its event stream, and this page. */
  api: string;
  events: string;
  page: string;
  /** Charts (once done). */
  charts: ChartRef[];
  /** Files to download (once done). */
  downloads: Array<{ label: string; url: string; filename: string }>;
}

/** One layer's row of the per-layer table. */
export interface LayerRow {
  name: string;
  final_x: number;
  final_y: number;
  peak_x: number | null;
  peak_step: number | null;
  compression: number | null;
  label_retention: number | null;
  follows_ib: boolean | null;
  /** Robustness verdicts across the sweep, when there was one. */
  compression_verdict?: string;
  ib_verdict?: string;
}

/** The page of an analysis. */
export interface AnalysisView extends BaseView {
  kind: "analysis";
  m: number;
  estimator: Record<string, unknown>;
  estimator_text: string;
  result: {
    reference: AnalysisOutput["reference"];
    num_classes: number;
    words: string[];
    layers: LayerRow[];
    checkpoints: AnalysisOutput["checkpoints"];
    robustness: AnalysisOutput["robustness"] | null;
    compute: AnalysisOutput["compute"];
  } | null;
}

/** One method of a training. */
export interface MethodView {
  label: string;
  final_test_accuracy: number;
  seconds: number;
  words: string[];
  layers: LayerRow[];
}

/** The page of a training. */
export interface TrainingView extends BaseView {
  kind: "training";
  setup: Array<[string, string]>;
  estimator_text: string;
  result: { methods: MethodView[]; backend: string; seconds: number } | null;
}

/** The page of an experiment suite. */
export interface ExperimentView extends BaseView {
  kind: "experiment";
  request: { names: string[]; scale: string; backend: string };
  runs_total: number;
  report: { html: string; md: string };
  result: {
    verdicts: Array<{ number: number; title: string; claim: string; verdict: string }>;
    runs: Array<{
      key: string;
      experiment: string;
      seed: number;
      methods: Array<{ label: string; test_accuracy: number }>;
      seconds: number;
    }>;
    failures: Array<{ key: string; message: string }>;
    wall_seconds: number;
  } | null;
}

/** Any result page. */
export type ResultView = AnalysisView | TrainingView | ExperimentView;

function shortId(id: string): string {
  return id.slice(-8);
}

function titleOf(rec: JobRecord): string {
  return rec.label ?? `${rec.kind} …${shortId(rec.id)}`;
}

function subtitleOf(rec: JobRecord): string {
  switch (rec.kind) {
    case "analysis": {
      const r = rec.request;
      return `m = ${r.m}, ${r.layers} layer${r.layers === 1 ? "" : "s"} × ${r.checkpoints} ` +
        `checkpoint${r.checkpoints === 1 ? "" : "s"}`;
    }
    case "training": {
      const j = rec.request;
      return `${modelName(j.model)} on ${j.dataset.name}: ${
        j.methods.map((m) => m.label ?? m.name).join(" vs ")
      }`;
    }
    case "experiment":
      return `${rec.request.names.join(", ")} at ${rec.request.scale} scale`;
  }
}

function modelName(model: unknown): string {
  const m = model as { preset?: string; depth?: number; blocks?: unknown[] } | null;
  if (m?.preset) return m.depth ? `${m.preset} (depth ${m.depth})` : m.preset;
  if (Array.isArray(m?.blocks)) return `custom model (${m.blocks.length} blocks)`;
  return "custom model";
}

function base(rec: JobRecord): BaseView {
  const api = `${KIND_PATHS[rec.kind]}/${rec.id}`;
  return {
    kind: rec.kind,
    id: rec.id,
    label: rec.label,
    title: titleOf(rec),
    subtitle: subtitleOf(rec),
    status: rec.status,
    created_at: rec.created_at,
    started_at: rec.started_at,
    finished_at: rec.finished_at,
    error: rec.error,
    progress: rec.progress,
    api,
    events: `${api}/events`,
    page: uiPath(rec.kind, rec.id),
    charts: [],
    downloads: [],
  };
}

function layerRows(a: AnalysisOutput): LayerRow[] {
  const verdicts = new Map<string, string>();
  for (const c of a.robustness?.conclusions ?? []) {
    verdicts.set(`${c.kind}\u0000${c.layer}`, `${c.verdict} (${Math.round(c.fraction * 100)}%)`);
  }
  return a.summary.layers.map((l) => ({
    name: l.name,
    final_x: l.final_x,
    final_y: l.final_y,
    peak_x: l.peak_x,
    peak_step: l.peak_step,
    compression: l.compression,
    label_retention: l.label_retention,
    follows_ib: l.follows_ib,
    ...(verdicts.size
      ? {
        compression_verdict: verdicts.get(`compression\u0000${l.name}`) ?? "n/a",
        ib_verdict: verdicts.get(`follows_ib\u0000${l.name}`) ?? "n/a",
      }
      : {}),
  }));
}

function downloads(rec: JobRecord): BaseView["downloads"] {
  const api = `${KIND_PATHS[rec.kind]}/${rec.id}`;
  const out = [{ label: "result (JSON)", url: api, filename: `${rec.kind}-${rec.id}.json` }];
  if (rec.kind !== "experiment") {
    out.unshift({ label: "table (CSV)", url: `${api}.csv`, filename: `${rec.kind}-${rec.id}.csv` });
  } else {
    out.push(
      { label: "report (Markdown)", url: `${api}/report.md`, filename: `report-${rec.id}.md` },
      { label: "report (HTML)", url: `${api}/report.html`, filename: `report-${rec.id}.html` },
    );
  }
  return out;
}

/**
 * The page of a result: its record always, its results once done.
 *
 * @param jobs the job layer
 * @param rec the caller's record
 */
export async function resultView(jobs: JobService, rec: JobRecord): Promise<ResultView> {
  const b = base(rec);
  const done = rec.status === "done";
  if (done) {
    b.charts = chartsOf(rec);
    b.downloads = downloads(rec);
  }
  switch (rec.kind) {
    case "analysis": {
      const out = done ? await jobs.result(rec as JobRecordOf<"analysis">) : null;
      const e = out?.estimator ?? rec.request.estimator;
      if (out && out.checkpoints.length <= 1) {
        b.charts = b.charts.filter((c) => c.name !== "nhsic-vs-step");
      }
      return {
        ...b,
        kind: "analysis",
        m: rec.request.m,
        estimator: { ...e },
        estimator_text: estimatorText(e, rec.request.m),
        result: out
          ? {
            reference: out.reference,
            num_classes: out.num_classes,
            words: analysisWords(out),
            layers: layerRows(out),
            checkpoints: out.checkpoints,
            robustness: out.robustness ?? null,
            compute: out.compute,
          }
          : null,
      };
    }
    case "training": {
      const j = rec.request;
      const out = done ? await jobs.result(rec as JobRecordOf<"training">) : null;
      const e = { ...j.tracking.estimator, batch_size: j.tracking.probe_batch };
      const dataset = out
        ? `${out.dataset.name} (${out.dataset.train} training, ${out.dataset.test} test samples)`
        : j.dataset.name + (j.dataset.train_limit ? ` (first ${j.dataset.train_limit})` : "");
      const setup: Array<[string, string]> = [
        ["model", modelName(j.model)],
        ["dataset", dataset],
        ["methods", j.methods.map((m) => m.label ?? m.name).join(", ")],
        [
          "optimizer",
          `Adam, lr ${j.optimizer.lr}, ${j.optimizer.epochs} epoch${
            j.optimizer.epochs === 1 ? "" : "s"
          }, batch ${j.optimizer.batch_size}` +
          (j.optimizer.weight_decay ? `, weight decay ${j.optimizer.weight_decay}` : ""),
        ],
        ["seed", String(j.seed)],
        ["backend", out ? `${out.backend.name} (${out.backend.device})` : j.backend],
      ];
      return {
        ...b,
        kind: "training",
        setup,
        estimator_text: `${estimatorText(e)} on ${j.tracking.probe_size} probe samples`,
        result: out
          ? {
            methods: out.methods.map((m) => ({
              label: m.method.label,
              final_test_accuracy: m.final_test_accuracy,
              seconds: m.seconds,
              words: analysisWords(m.analysis).slice(1),
              layers: layerRows(m.analysis),
            })),
            backend: `${out.backend.name} (${out.backend.device})`,
            seconds: out.seconds,
          }
          : null,
      };
    }
    case "experiment": {
      const spec = rec.request;
      const suite = done ? await jobs.result(rec as JobRecordOf<"experiment">) : null;
      return {
        ...b,
        kind: "experiment",
        request: { names: spec.names, scale: spec.scale, backend: spec.backend },
        runs_total: suiteSize(spec).runs,
        report: { html: `${b.api}/report.html`, md: `${b.api}/report.md` },
        result: suite ? experimentResult(suite) : null,
      };
    }
  }
}

function experimentResult(suite: SuiteResult): NonNullable<ExperimentView["result"]> {
  return {
    verdicts: evaluateClaims(suite).map((c) => ({
      number: c.number,
      title: c.title,
      claim: c.claim,
      verdict: c.verdict,
    })),
    runs: suite.experiments.flatMap((e) =>
      e.runs.map((r) => ({
        key: r.key,
        experiment: e.name,
        seed: r.seed,
        methods: r.result.methods.map((m) => ({
          label: m.method.label,
          test_accuracy: m.final_test_accuracy,
        })),
        seconds: r.seconds,
      }))
    ),
    failures: suite.failures.map((f) => ({ key: f.key, message: f.message })),
    wall_seconds: suite.wall_seconds,
  };
}

// ---------------------------------------------------------------------------------------------
// Compare

/** Estimator fields shown side by side on the compare page. */
const SETTINGS: Array<[string, string]> = [
  ["kernel", "kernel"],
  ["distance", "distance"],
  ["sigma", "sigma"],
  ["eps", "eps"],
  ["centring", "centring"],
  ["label_kernel", "label kernel"],
  ["label_centring", "label centring"],
  ["batch_size", "batch size"],
  ["m", "samples (m)"],
];

/** The compare page's document. */
export interface CompareView {
  items: Array<{
    id: string;
    kind: JobRecord["kind"];
    title: string;
    subtitle: string;
    status: JobRecord["status"];
    page: string;
    /** Why it is not drawn (not done, an experiment suite), or null. */
    note: string | null;
    /** Panel labels it contributes (one per method for a training). */
    panels: string[];
    estimator_text: string | null;
  }>;
  /** Rows: setting, value per item (null: not drawn), whether the drawn items differ. */
  settings: Array<{ name: string; values: Array<string | null>; differs: boolean }>;
  /** Set when the estimators of the drawn results differ. */
  warning: string | null;
  charts: Array<{ name: string; title: string; spec: VegaLiteSpec }>;
}

/** Panel headers (result labels, user text) cut to their panel's width with an ellipsis. */
function limitHeaders(spec: VegaLiteSpec): VegaLiteSpec {
  const facet = spec.facet as { column?: { header?: Record<string, unknown> } } | undefined;
  const inner = spec.spec as { width?: number } | undefined;
  if (!facet?.column) return spec;
  return {
    ...spec,
    facet: {
      ...facet,
      column: {
        ...facet.column,
        header: { ...facet.column.header, labelLimit: inner?.width ?? 240, labelFontSize: 12 },
      },
    },
  };
}

/** Ids of a compare request: two to four distinct ids. */
export function compareIds(raw: string | undefined): string[] {
  const ids = [...new Set((raw ?? "").split(",").map((s) => s.trim()).filter(Boolean))];
  if (ids.length < 2 || ids.length > 4) {
    throw new InputError(
      "invalid-request",
      `compare two to four results: ids=a,b[,c,d] (got ${ids.length})`,
      "ids",
    );
  }
  return ids;
}

/**
 * Two to four results of the caller side by side: every analysis (a training contributes one
 * per method) becomes a panel of the same charts with shared scales; the estimator settings of
 * each are listed, and a warning says which differ.
 */
export async function compareView(
  jobs: JobService,
  owner: string,
  ids: string[],
): Promise<CompareView> {
  const recs = await Promise.all(ids.map((id) => jobs.get(id, owner)));
  const items: CompareView["items"] = [];
  const panels: Array<{ label: string; analysis: AnalysisOutput }> = [];
  const estimators: Array<Record<string, unknown> | null> = [];
  const used = new Set<string>();
  const unique = (label: string, id: string) => {
    const l = used.has(label) ? `${label} (…${shortId(id)})` : label;
    used.add(l);
    return l;
  };
  for (const rec of recs) {
    const item: CompareView["items"][number] = {
      id: rec.id,
      kind: rec.kind,
      title: titleOf(rec),
      subtitle: subtitleOf(rec),
      status: rec.status,
      page: uiPath(rec.kind, rec.id),
      note: null,
      panels: [],
      estimator_text: null,
    };
    items.push(item);
    estimators.push(null);
    if (rec.kind === "experiment") {
      item.note = "experiment suites are compared in their report, not here";
      continue;
    }
    if (rec.status !== "done") {
      item.note = `not drawn: ${rec.status}`;
      continue;
    }
    const analyses: Array<{ label: string; analysis: AnalysisOutput }> = rec.kind === "analysis"
      ? [{
        label: item.title,
        analysis: await jobs.finishedResult(rec as JobRecordOf<"analysis">),
      }]
      : ((await jobs.finishedResult(rec as JobRecordOf<"training">)) as TrainingResult).methods
        .map((m) => ({ label: `${item.title} · ${m.method.label}`, analysis: m.analysis }));
    for (const p of analyses) {
      const label = unique(p.label, rec.id);
      item.panels.push(label);
      panels.push({ label, analysis: p.analysis });
    }
    const a = analyses[0]?.analysis;
    if (a) {
      const { batches: _b, samples_used: _s, ...e } = a.estimator;
      estimators[estimators.length - 1] = { ...e, m: a.m };
      item.estimator_text = estimatorText(a.estimator, a.m);
    }
  }
  const settings = SETTINGS.map(([key, name]) => {
    const values = estimators.map((e) => (e ? String(e[key] ?? "exact") : null));
    const drawn = values.filter((v): v is string => v !== null);
    return { name, values, differs: new Set(drawn).size > 1 };
  });
  const differing = settings.filter((s) => s.differs).map((s) => s.name);
  const charts: CompareView["charts"] = [];
  if (panels.length > 0) {
    const src = { panels };
    const subtitle = [
      "One panel per result (a training: one per method), on shared axes.",
      differing.length
        ? `Estimator settings differ (${differing.join(", ")}): see the table above.`
        : "All panels were measured with the same estimator settings.",
    ];
    const retitle = (spec: VegaLiteSpec) => {
      const t = spec.title as { text: string; subtitle: string[] };
      return limitHeaders({ ...spec, title: { ...t, subtitle } });
    };
    charts.push({
      name: "information-plane",
      title: "Information planes",
      spec: retitle(informationPlane(src)),
    });
    if (panels.some((p) => p.analysis.summary.dynamics)) {
      charts.push({
        name: "compression",
        title: "Compression by layer",
        spec: retitle(compressionByLayer(src)),
      });
    }
    charts.push({
      name: "depth-profile",
      title: "Depth profiles",
      spec: retitle(depthProfile(src)),
    });
  }
  return {
    items,
    settings,
    warning: differing.length
      ? `The estimator settings differ (${differing.join(", ")}): nHSIC values measured with ` +
        "different kernels, widths, batch sizes or sample counts are not on the same scale, so " +
        "compare the shapes of the paths rather than their positions."
      : null,
    charts,
  };
}

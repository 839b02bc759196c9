/**
 * The experiment report, generated from a suite's results (never by hand): each of the paper's
 * six claims with the measured numbers (mean ± sd over seeds), the verdict and the rule behind it,
 * the figures, the settings, seeds, command, data sources and wall time.
 *
 * One document model renders to Markdown (figures as PNG files next to it, `figures/<name>.png`)
 * and to a standalone HTML page (figures as inline SVG).
 *
 * @module
 */
import { join } from "node:path";
import { renderPng, renderSvg } from "../charts/render.ts";
import type { ExperimentResult, RunRecord, SuiteResult } from "../experiments/types.ts";
import { fmtStat, type Stat, stat } from "./aggregate.ts";
import { type ClaimResult, evaluateClaims, GENERAL_RULES, type PartResult } from "./claims.ts";
import { buildFigures, type Figure, groupTitle } from "./figures.ts";
import {
  blockSummaries,
  differentiation,
  finalProbe,
  meanFinalX,
  methodLabels,
  methodOf,
  middleCompression,
  middleSnnl,
} from "./measures.ts";
import type { MethodResult } from "../train/types.ts";

/** A block of the report's document model. */
export type Block =
  | { type: "h"; level: 1 | 2 | 3; text: string }
  | { type: "p"; text: string }
  | { type: "quote"; text: string }
  | { type: "list"; items: string[] }
  | { type: "table"; head: string[]; rows: string[][] }
  | { type: "figure"; name: string; title: string; caption: string }
  | { type: "code"; text: string };

/** Which figures each claim section shows (by name prefix). */
const CLAIM_FIGURES: Record<number, string[]> = {
  1: ["accuracy-vs-depth-"],
  2: ["toy-", "dynamics-nhsic-"],
  3: ["dynamics-plane-"],
  4: [],
  5: ["entanglement-"],
  6: ["nhsic-regularised-"],
};

function clock(s: number): string {
  const t = Math.round(s);
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), sec = t % 60;
  return h > 0 ? `${h} h ${m} min ${sec} s` : m > 0 ? `${m} min ${sec} s` : `${sec} s`;
}

const pct = (s: Stat) =>
  Number.isFinite(s.mean)
    ? s.n > 1
      ? `${(100 * s.mean).toFixed(1)} ± ${(100 * s.sd).toFixed(1)}`
      : (100 * s.mean).toFixed(1)
    : "n/a";

function over(
  runs: RunRecord[],
  label: string,
  f: (m: MethodResult, r: RunRecord) => number,
): Stat {
  return stat(runs.map((r) => {
    const m = methodOf(r, label);
    return m ? f(m, r) : NaN;
  }));
}

function groups(runs: RunRecord[]): Array<[string, RunRecord[]]> {
  const m = new Map<string, RunRecord[]>();
  for (const r of runs) m.set(r.group, [...(m.get(r.group) ?? []), r]);
  return [...m];
}

// ---------------------------------------------------------------------------------------------
// Measured numbers per claim

function accuracyTables(e: ExperimentResult): Block[] {
  const series = new Map<string, RunRecord[]>();
  for (const r of e.runs) {
    const key = `${r.tags.dataset}, ${r.tags.model_name ?? r.tags.model}`;
    series.set(key, [...(series.get(key) ?? []), r]);
  }
  const out: Block[] = [];
  for (const [key, runs] of series) {
    const labels = methodLabels(runs);
    const rows = groups(runs).map(([, rs]) => [
      String(rs[0].tags.depth),
      ...labels.map((l) => pct(over(rs, l, (m) => m.final_test_accuracy))),
    ]);
    out.push(
      { type: "p", text: `Test accuracy (%, mean ± sd over ${e.seeds.length} seeds): ${key}.` },
      { type: "table", head: ["depth", ...labels], rows },
    );
  }
  return out;
}

function toyTable(e: ExperimentResult): Block[] {
  const labels = methodLabels(e.runs);
  const uAt = (r: RunRecord, label: string, i: number, f: "nhsic_u_norm" | "nhsic_e_norm") =>
    finalProbe(r, label)?.layers[i]?.[f] ?? NaN;
  const names = finalProbe(e.runs[0], labels[0])?.layers.map((l) => l.name) ?? [];
  const rows = labels.map((label) => [
    label,
    pct(over(e.runs, label, (m) => m.final_test_accuracy)),
    ...names.flatMap((_, i) => [
      fmtStat(stat(e.runs.map((r) => uAt(r, label, i, "nhsic_u_norm")))),
    ]),
    fmtStat(stat(e.runs.map((r) => uAt(r, label, 0, "nhsic_e_norm")))),
  ]);
  return [
    {
      type: "p",
      text: `Toy at the end of training (mean ± sd over ${e.seeds.length} seeds): test accuracy ` +
        "and nHSIC(U;T_l)/nHSIC(U;U) of each layer (U = the two XOR features), and the " +
        "bottleneck's nHSIC(E;T_fc1)/nHSIC(E;E) (E = the shortcut).",
    },
    {
      type: "table",
      head: ["method", "accuracy (%)", ...names.map((n) => `U;${n}`), "E;fc1"],
      rows,
    },
  ];
}

function dynamicsTables(e: ExperimentResult): Block[] {
  return groups(e.runs).flatMap(([, runs]): Block[] => {
    const labels = methodLabels(runs);
    const rows = labels.map((label) => [
      label,
      pct(over(runs, label, (m) => m.final_test_accuracy)),
      fmtStat(over(runs, label, middleCompression)),
      fmtStat(over(runs, label, (m) => m.analysis.summary.last_layer.label_retention ?? NaN)),
      fmtStat(over(runs, label, (m) => m.analysis.summary.last_layer.compression ?? NaN)),
      fmtStat(over(runs, label, differentiation)),
      `${
        runs.filter((r) => methodOf(r, label)?.analysis.summary.last_layer.follows_ib === true)
          .length
      } / ${runs.length}`,
    ]);
    const first = runs.map((r) => methodOf(r, labels[0])).find((m) => m);
    const names = first ? first.analysis.summary.layers.map((l) => l.name) : [];
    const perLayer = labels.map((label) => [
      label,
      ...names.map((_, i) =>
        fmtStat(over(runs, label, (m) => m.analysis.summary.layers[i]?.compression ?? NaN))
      ),
    ]);
    return [
      { type: "p", text: `${groupTitle(runs)} (mean ± sd over ${runs.length} seeds):` },
      {
        type: "table",
        head: [
          "method",
          "accuracy (%)",
          "middle-layer compression",
          "output label retention",
          "output compression",
          "differentiation",
          "output follows IB",
        ],
        rows,
      },
      { type: "p", text: "Compression per layer (peak minus final nHSIC(X;T_l)/nHSIC(X;X)):" },
      { type: "table", head: ["method", ...names], rows: perLayer },
    ];
  });
}

function entanglementTables(e: ExperimentResult): Block[] {
  return groups(e.runs).flatMap(([, runs]): Block[] => {
    const labels = methodLabels(runs);
    const first = runs.map((r) => methodOf(r, labels[0])).find((m) => m);
    const names = first ? [...blockSummaries(first).map((l) => l.name), "logits"] : [];
    const input = stat(runs.map((r) => finalProbe(r, labels[0])?.input_snnl ?? NaN));
    const rows = labels.map((label) => [
      label,
      pct(over(runs, label, (m) => m.final_test_accuracy)),
      fmtStat(stat(runs.map((r) => middleSnnl(r, label)))),
      fmtStat(over(runs, label, middleCompression)),
      ...names.map((n) =>
        fmtStat(
          stat(
            runs.map((r) => finalProbe(r, label)?.layers.find((l) => l.name === n)?.snnl ?? NaN),
          ),
        )
      ),
    ]);
    return [
      {
        type: "p",
        text: `${groupTitle(runs)} (mean ± sd over ${runs.length} seeds); SNNL of the input: ` +
          `${fmtStat(input)}.`,
      },
      {
        type: "table",
        head: [
          "method",
          "accuracy (%)",
          "middle SNNL",
          "middle compression",
          ...names.map((n) => `SNNL ${n}`),
        ],
        rows,
      },
    ];
  });
}

function regularisedTables(e: ExperimentResult): Block[] {
  return groups(e.runs).flatMap(([, runs]): Block[] => {
    const labels = methodLabels(runs);
    const rows = labels.map((label) => {
      const spec = runs.map((r) => methodOf(r, label)).find((m) => m)?.method;
      return [
        label,
        spec?.nhsic_lambda ? String(spec.nhsic_lambda) : "0",
        spec?.nhsic_target ?? "-",
        pct(over(runs, label, (m) => m.final_test_accuracy)),
        fmtStat(over(runs, label, meanFinalX)),
      ];
    });
    return [
      { type: "p", text: `${groupTitle(runs)} (mean ± sd over ${runs.length} seeds):` },
      {
        type: "table",
        head: ["method", "lambda", "target", "accuracy (%)", "mean final nHSIC(X;T)/nHSIC(X;X)"],
        rows,
      },
    ];
  });
}

function partBlocks(p: PartResult): Block[] {
  const pass = p.units.filter((u) => u.holds).length;
  const outcome = p.holds === null
    ? "not tested (no unit in this suite)"
    : `passes in ${pass} of ${p.units.length} unit${p.units.length === 1 ? "" : "s"}: ` +
      `**${p.holds ? "holds" : "does not hold"}**`;
  return [
    { type: "p", text: `**${p.id}. ${p.statement}** ${p.rule} Result: ${outcome}.` },
    ...(p.units.length
      ? [{
        type: "table" as const,
        head: ["unit", "measured", "test"],
        rows: p.units.map((u) => [u.unit, u.detail, u.holds ? "passes" : "fails"]),
      }]
      : []),
  ];
}

function claimBlocks(c: ClaimResult, suite: SuiteResult, figures: Figure[]): Block[] {
  const exp = (n: string) => suite.experiments.find((e) => e.name === n);
  const out: Block[] = [
    { type: "h", level: 2, text: `Claim ${c.number}: ${c.title} — ${c.verdict}` },
    { type: "quote", text: c.claim },
    {
      type: "p",
      text: `Verdict: **${c.verdict}**. Evidence from: ${c.experiments.join(", ")}.` +
        (c.verdict === "not tested"
          ? " The experiments this claim needs were not part of this run."
          : ""),
    },
    ...c.parts.flatMap(partBlocks),
  ];
  const tables: Record<number, () => Block[]> = {
    1: () => exp("accuracy-vs-depth") ? accuracyTables(exp("accuracy-vs-depth")!) : [],
    2: () => exp("toy") ? toyTable(exp("toy")!) : [],
    3: () => exp("information-dynamics") ? dynamicsTables(exp("information-dynamics")!) : [],
    4: () => [],
    5: () => exp("entanglement") ? entanglementTables(exp("entanglement")!) : [],
    6: () => exp("nhsic-regularised") ? regularisedTables(exp("nhsic-regularised")!) : [],
  };
  const measured = tables[c.number]();
  if (measured.length) out.push({ type: "h", level: 3, text: "Measured" }, ...measured);
  if (c.number === 4 && exp("information-dynamics")) {
    out.push({
      type: "p",
      text: "The numbers behind claim 4 are in the table of claim 3 (output compression, " +
        "label retention, and how many seeds' outputs follow the bottleneck).",
    });
  }
  for (const prefix of CLAIM_FIGURES[c.number]) {
    for (const f of figures.filter((f) => f.name.startsWith(prefix))) {
      out.push({ type: "figure", name: f.name, title: f.title, caption: f.caption });
    }
  }
  return out;
}

/** The report as a document model. */
export function reportBlocks(suite: SuiteResult, figures: Figure[] = buildFigures(suite)): Block[] {
  const claims = evaluateClaims(suite);
  const runs = suite.experiments.reduce((n, e) => n + e.runs.length, 0);
  const methods = suite.experiments.reduce(
    (n, e) => n + e.runs.reduce((k, r) => k + r.result.methods.length, 0),
    0,
  );
  const scaleNote: Record<string, string> = {
    cpu: "CPU scale: subsets of the data and a few epochs, sized to finish on a 2-core machine " +
      "within an hour (settings below). The full-scale setting (`deno task experiments --scale " +
      "full`) uses whole datasets and the paper's optimiser defaults and is meant for a GPU.",
    full: "Full scale: whole datasets and the paper's optimiser defaults.",
    micro: "Micro scale: a smoke test on a handful of samples; the numbers mean nothing.",
  };
  const out: Block[] = [
    {
      type: "h",
      level: 1,
      text: "Reproducing Sakamoto & Sato (TMLR 2024): experiment report",
    },
    {
      type: "p",
      text: "Generated by infoplane (lib/report/report.ts) from the results of the run described " +
        'here; nothing in it is written by hand. Paper: "End-to-End Training Induces Information ' +
        "Bottleneck through Layer-Role Differentiation: A Comparative Analysis with Layer-wise " +
        'Training" (arXiv 2402.09050).',
    },
    {
      type: "list",
      items: [
        `Command: \`${suite.command || "(not recorded)"}\``,
        `Wall time: ${clock(suite.wall_seconds)} (${suite.started_at} to ${suite.finished_at}); ` +
        `${runs} runs, ${methods} method trainings, ${suite.concurrency} at a time.`,
        `Scale: ${suite.scale}. ${scaleNote[suite.scale] ?? ""}`,
        `Training backend: ${suite.backend.name} (${suite.backend.device}); nHSIC linear ` +
        `algebra: ${suite.linalg}; Deno ${suite.environment.deno} on ${suite.environment.os}, ` +
        `${suite.environment.cpus ?? "?"} CPUs.`,
        `Experiments: ${suite.names.join(", ")}.`,
      ],
    },
    ...((suite.failures ?? []).length
      ? [
        {
          type: "p" as const,
          text: `**${suite.failures.length} run${suite.failures.length > 1 ? "s" : ""} failed** ` +
            "and are left out of the results below:",
        },
        { type: "list" as const, items: suite.failures.map((f) => `${f.key}: ${f.message}`) },
      ]
      : []),
    { type: "h", level: 2, text: "Verdicts" },
    {
      type: "table",
      head: ["#", "claim", "verdict", "parts"],
      rows: claims.map((c) => [
        String(c.number),
        c.title,
        `**${c.verdict}**`,
        c.parts.map((p) =>
          `${p.id} ${p.holds === null ? "not tested" : p.holds ? "holds" : "fails"}`
        )
          .join("; "),
      ]),
    },
    { type: "h", level: 2, text: "How verdicts are decided" },
    { type: "list", items: [...GENERAL_RULES] },
    {
      type: "p",
      text: "The parts of each claim, their units and tests are stated with the claim below. " +
        "Measures: the blocks are the tracked layers except the output (logits); the middle " +
        "layers are the blocks after the first; compression of a layer is the peak minus the " +
        "final nHSIC(X;T_l)/nHSIC(X;X) over training; label retention is final over peak " +
        "nHSIC(Y;T_l)/nHSIC(Y;Y) (docs/metrics.md).",
    },
  ];
  for (const c of claims) out.push(...claimBlocks(c, suite, figures));
  out.push({ type: "h", level: 2, text: "Experiments: settings, seeds, wall time" });
  for (const e of suite.experiments) {
    out.push(
      { type: "h", level: 3, text: `${e.name}: ${e.title}` },
      {
        type: "p",
        text: `Question: ${e.question} Informs claim${e.claims.length > 1 ? "s" : ""} ${
          e.claims.join(", ")
        }.`,
      },
      {
        type: "list",
        items: [
          ...e.settings.description,
          `Seeds: ${e.seeds.join(", ")}; ${e.runs.length} runs; wall time ${
            clock(e.wall_seconds)
          }` +
          ` (first run start to last run end).`,
        ],
      },
    );
  }
  out.push(
    { type: "h", level: 2, text: "Data" },
    { type: "list", items: suite.datasets.map((d) => `${d.name}: ${d.source}.`) },
    { type: "h", level: 2, text: "Reproduce" },
    {
      type: "p",
      text: "Every number above is recomputed from results.json (per run: the training result of " +
        "every method, its curves and per-checkpoint nHSIC, and the probe measurements). " +
        "Rebuild this report with `deno task experiments --report-only --out <dir>`; rerun with:",
    },
    { type: "code", text: suite.command || "deno task experiments" },
  );
  return out;
}

// ---------------------------------------------------------------------------------------------
// Markdown and HTML

function mdCell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** Markdown of a document; figures link to `figureUrl(name)` (default `figures/<name>.png`). */
export function toMarkdown(
  blocks: Block[],
  figureUrl: (name: string) => string = (n) => `figures/${n}.png`,
): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.type) {
      case "h":
        out.push(`${"#".repeat(b.level)} ${b.text}`);
        break;
      case "p":
        out.push(b.text);
        break;
      case "quote":
        out.push(`> ${b.text}`);
        break;
      case "list":
        out.push(b.items.map((i) => `- ${i}`).join("\n"));
        break;
      case "table":
        out.push(
          [
            `| ${b.head.map(mdCell).join(" | ")} |`,
            `| ${b.head.map(() => "---").join(" | ")} |`,
            ...b.rows.map((r) => `| ${r.map(mdCell).join(" | ")} |`),
          ].join("\n"),
        );
        break;
      case "figure":
        out.push(`![${b.title}](${figureUrl(b.name)})\n\n*${b.caption}*`);
        break;
      case "code":
        out.push("```sh\n" + b.text + "\n```");
        break;
    }
  }
  return out.join("\n\n") + "\n";
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** Escapes text and turns the Markdown inline marks the report uses (`code`, **bold**) into HTML. */
function inline(s: string): string {
  return esc(s)
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>");
}

/** Prefixes every id of an SVG so that several can live in one HTML page. */
export function scopeSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/<\?xml[^>]*>\s*/, "")
    .replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${prefix}-$1"`);
}

const STYLE = `body{font-family:Inter,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.5}table{border-collapse:collapse;margin:.6em 0 1.2em;
font-size:.88em}th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f4}blockquote{margin:.5em 0;padding:.3em 1em;border-left:4px solid #2e86ab;
background:#f5f9fb}figure{margin:1.2em 0}figure svg{max-width:100%;height:auto}
figcaption{font-size:.9em;color:#555}code,pre{background:#f4f4f4;border-radius:3px}
pre{padding:.6em;overflow:auto}code{padding:0 .2em}`;

/** A standalone HTML page of a document; `svgs` maps figure names to their SVG (inlined). */
export function toHtml(blocks: Block[], svgs: Map<string, string>): string {
  const body: string[] = [];
  let title = "infoplane experiment report";
  blocks.forEach((b, i) => {
    switch (b.type) {
      case "h":
        if (b.level === 1) title = b.text;
        body.push(`<h${b.level}>${inline(b.text)}</h${b.level}>`);
        break;
      case "p":
        body.push(`<p>${inline(b.text)}</p>`);
        break;
      case "quote":
        body.push(`<blockquote>${inline(b.text)}</blockquote>`);
        break;
      case "list":
        body.push(`<ul>${b.items.map((it) => `<li>${inline(it)}</li>`).join("")}</ul>`);
        break;
      case "table":
        body.push(
          `<table><thead><tr>${b.head.map((h) => `<th>${inline(h)}</th>`).join("")}</tr></thead>` +
            `<tbody>${
              b.rows.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join("")}</tr>`)
                .join("")
            }</tbody></table>`,
        );
        break;
      case "figure": {
        const svg = svgs.get(b.name);
        body.push(
          `<figure id="${esc(b.name)}">${
            svg ? scopeSvgIds(svg, `f${i}`) : `<p>(figure ${esc(b.name)} missing)</p>`
          }<figcaption>${inline(b.caption)}</figcaption></figure>`,
        );
        break;
      }
      case "code":
        body.push(`<pre><code>${esc(b.text)}</code></pre>`);
        break;
    }
  });
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${esc(title)}</title><style>${STYLE}</style></head><body>\n` +
    body.join("\n") + "\n</body></html>\n";
}

/** A rendered report: Markdown, HTML and every figure as SVG and PNG. */
export interface RenderedReport {
  markdown: string;
  html: string;
  figures: Array<Figure & { svg: string; png: Uint8Array }>;
}

/** PNG scale of the report's figures (pixels per SVG unit). */
export const FIGURE_PNG_SCALE = 1.5;

/**
 * Renders a suite's report; figures become SVG (for the HTML) and PNG (for the Markdown, linked
 * through `figureUrl`).
 */
export async function renderReport(
  suite: SuiteResult,
  opts: { figureUrl?: (name: string) => string; pngScale?: number } = {},
): Promise<RenderedReport> {
  const figures = buildFigures(suite);
  const blocks = reportBlocks(suite, figures);
  const rendered: RenderedReport["figures"] = [];
  for (const f of figures) {
    const svg = await renderSvg(f.spec);
    const png = await renderPng(svg, { scale: opts.pngScale ?? FIGURE_PNG_SCALE });
    rendered.push({ ...f, svg, png });
  }
  return {
    markdown: toMarkdown(blocks, opts.figureUrl),
    html: toHtml(blocks, new Map(rendered.map((f) => [f.name, f.svg]))),
    figures: rendered,
  };
}

/**
 * Writes `report.md`, `report.html` and `figures/<name>.png` into `dir`; returns the paths.
 */
export async function writeReport(suite: SuiteResult, dir: string): Promise<string[]> {
  const r = await renderReport(suite);
  await Deno.mkdir(join(dir, "figures"), { recursive: true });
  const paths: string[] = [];
  for (const f of r.figures) {
    const p = join(dir, "figures", `${f.name}.png`);
    await Deno.writeFile(p, f.png);
    paths.push(p);
  }
  await Deno.writeTextFile(join(dir, "report.md"), r.markdown);
  await Deno.writeTextFile(join(dir, "report.html"), r.html);
  return [join(dir, "report.md"), join(dir, "report.html"), `${r.figures.length} figures`];
}

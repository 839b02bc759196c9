/**
 * The experiment report, generated from a suite's results (never by hand): each of the paper's
 * six claims with the measured numbers (mean ± sd over seeds), the verdict and the rule behind it,
 * the figures, the settings, seeds, command, data sources and wall time.
 *
 * The report knows no experiment by name: it iterates over the experiments
 * (lib/experiments/_registry.ts), each of which brings its figures, its tables and notes per claim
 * and the rules of the claim parts it decides (lib/experiments/<experiment>.ts). One document
 * model (./_document.ts) renders to Markdown (figures as PNG files next to it,
 * `figures/<name>.png`) and to a standalone HTML page (figures as inline SVG).
 *
 * @module
 */
import { join } from "node:path";
import { renderPng, renderSvg } from "../charts/mod.ts";
import type { ClaimSection } from "../experiments/mod.ts";
import { EXPERIMENT_LIST } from "../experiments/mod.ts";
import type { SuiteResult } from "../experiments/mod.ts";
import { type Block, clock, toHtml, toMarkdown } from "./_document.ts";
import type { Figure } from "./_figures.ts";
import { evaluateClaims } from "./_claims.ts";
import { type ClaimResult, GENERAL_RULES, type PartResult } from "./_rules.ts";
import { sweepBlocks } from "./_sweep.ts";

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

/** Every figure of a suite's report, in report order. */
export function buildFigures(suite: SuiteResult): Figure[] {
  return suite.experiments.flatMap((e) => {
    const def = EXPERIMENT_LIST.find((d) => d.name === e.name);
    return def && e.runs.length > 0 ? def.figures(e) : [];
  });
}

/**
 * What the experiments of a suite show in a claim's section: the experiments designed for the
 * claim first, then those that contribute to it, each group in suite order.
 */
function sectionsOf(claim: number, suite: SuiteResult, figures: Figure[]): ClaimSection[] {
  const out: ClaimSection[] = [];
  for (const e of suite.experiments) {
    const def = EXPERIMENT_LIST.find((d) => d.name === e.name);
    const s = def?.section(claim, e, figures);
    if (s) out.push(s);
  }
  return [...out.filter((s) => s.primary), ...out.filter((s) => !s.primary)];
}

function claimBlocks(c: ClaimResult, suite: SuiteResult, figures: Figure[]): Block[] {
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
  const sections = sectionsOf(c.number, suite, figures);
  const measured = sections.flatMap((s) => s.measured ?? []);
  if (measured.length) out.push({ type: "h", level: 3, text: "Measured" }, ...measured);
  out.push(...sections.flatMap((s) => s.notes ?? []));
  for (const f of sections.flatMap((s) => s.figures ?? [])) {
    out.push({ type: "figure", name: f.name, title: f.title, caption: f.caption });
  }
  return out;
}

/** The report as a document model. */
export function reportBlocks(suite: SuiteResult, figures: Figure[] = buildFigures(suite)): Block[] {
  const claims = evaluateClaims(suite);
  const sweep = sweepBlocks(suite, claims);
  const runs = suite.experiments.reduce((n, e) => n + e.runs.length, 0);
  const methods = suite.experiments.reduce(
    (n, e) => n + e.runs.reduce((k, r) => k + r.result.methods.length, 0),
    0,
  );
  const scaleNote: Record<string, string> = {
    cpu: "CPU scale: subsets of the data and a few epochs, sized to finish on a 2-core machine " +
      "within an hour (settings below). The full-scale setting (`deno task experiments --scale " +
      "full`) uses whole datasets and the paper's optimiser defaults and is meant for a GPU.",
    long: "Long scale: whole training splits, the paper's optimiser defaults and 30+ epochs " +
      "where the paper's dynamics are (settings below), sized to finish on a 2-core machine in " +
      "under two hours with two runs at a time; smaller grids than the full scale (see " +
      "docs/experiments.md for what it leaves out).",
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
      text: "Generated by infoplane (lib/report) from the results of the run described " +
        'here; nothing in it is written by hand. Paper: "End-to-End Training Induces Information ' +
        "Bottleneck through Layer-Role Differentiation: A Comparative Analysis with Layer-wise " +
        'Training" (arXiv 2402.09050).',
    },
    {
      type: "list",
      items: [
        `Command: \`${suite.command || "(not recorded)"}\``,
        `Wall time: ${clock(suite.wall_seconds)} (${suite.started_at} to ${suite.finished_at}); ` +
        `${runs} runs, ${methods} method trainings, ${suite.concurrency} at a time.` +
        (suite.resumed
          ? ` This session resumed an interrupted suite: ${suite.resumed.runs} runs were taken ` +
            `from earlier sessions, which ran ${clock(suite.resumed.earlier_wall_seconds)} ` +
            `(their runs' own time: ${clock(suite.resumed.run_seconds)}); in all ` +
            `${clock(suite.wall_seconds + suite.resumed.earlier_wall_seconds)} of wall time.`
          : ""),
        `Scale: ${suite.scale}. ${scaleNote[suite.scale] ?? ""}`,
        `Training backend: ${suite.backend.name} (${suite.backend.device}); nHSIC linear ` +
        `algebra: ${suite.linalg}; Deno ${suite.environment.deno} on ${suite.environment.os}, ` +
        `${suite.environment.cpus ?? "?"} CPUs.` +
        (suite.environment.load
          ? ` Machine load (1-minute load average) ${suite.environment.load.start.toFixed(2)} at ` +
            `the start, ${suite.environment.load.mean.toFixed(2)} on average over ` +
            `${suite.environment.load.samples} samples taken as runs finished, ` +
            `${suite.environment.load.end.toFixed(2)} at the end (the machine is shared: a load ` +
            `above ${suite.concurrency} means other work slowed the suite down).`
          : ""),
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
    ...(sweep.length
      ? [{
        type: "p" as const,
        text: 'How these verdicts change with the nHSIC estimator: see "Does the verdict depend ' +
          'on the estimator?" below.',
      }]
      : []),
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
  out.push(...sweep);
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

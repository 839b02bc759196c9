/**
 * The experiment report: the paper's claims with their verdicts under rules fixed in advance,
 * the measured numbers, figures and settings of a suite's results, as Markdown and HTML.
 *
 * This is the package's public face: callers (scripts, routes, tests) import from here only. The
 * experiments themselves (lib/experiments/<experiment>.ts) build their tables, figures and claim
 * rules from the building blocks in the `_` files of this folder.
 *
 * @module
 */
export {
  aggregateByMethod,
  exceeds,
  fmtDiff,
  fmtStat,
  type MethodAggregate,
  type PairedDiff,
  pairedDiff,
  ranks,
  type SeedValue,
  spearman,
  type Stat,
  stat,
} from "./_aggregate.ts";
export { type Block, scopeSvgIds, toHtml, toMarkdown } from "./_document.ts";
export { type Figure, meanTrajectories } from "./_figures.ts";
export { claimParts, evaluateClaims } from "./_claims.ts";
export {
  claimsUnder,
  sweepBlocks,
  sweepSettingsOf,
  type SweptClaim,
  trackingSettingId,
} from "./_sweep.ts";
export {
  buildFigures,
  FIGURE_PNG_SCALE,
  type RenderedReport,
  renderReport,
  reportBlocks,
  writeReport,
} from "./_report.ts";
export {
  type ClaimPart,
  type ClaimResult,
  CLAIMS,
  COMPRESSION_THRESHOLD,
  GENERAL_RULES,
  MIN_EFFECT,
  type PartResult,
  RETENTION_THRESHOLD,
  RHO_THRESHOLD,
  type UnitResult,
  type Verdict,
  verdictOf,
} from "./_rules.ts";
/** The renderer of the report's figures (lib/charts), for callers that serve them one by one. */
export { renderPng, renderSvg } from "../charts/mod.ts";
export { type RenderedSuite, ReportCache } from "./_cache.ts";

/**
 * The report's toolkit for writing an experiment (lib/experiments/*.ts): statistics over seeds,
 * the claim-rule types and thresholds, document blocks and figure helpers. A second public entry
 * point of lib/report, apart from mod.ts, because the experiments are a dependency of the report
 * (it iterates over them): importing mod.ts from an experiment would close a cycle in which an
 * experiment's top-level rule text reads a threshold before the report's modules have run.
 * Nothing here imports lib/experiments except for types.
 *
 * @example Usage
 * ```ts ignore
 * import { pairedDiff, RHO_THRESHOLD, stat } from "../report/kit.ts";
 * const s = stat([0.91, 0.93, 0.92]);
 * ```
 *
 * @module
 */
export {
  exceeds,
  fmtDiff,
  fmtStat,
  type PairedDiff,
  pairedDiff,
  type SeedValue,
  spearman,
  type Stat,
  stat,
} from "./_aggregate.ts";
export { type Block, pct } from "./_document.ts";
export {
  DEPTH_SCHEME,
  type Figure,
  meanTrajectories,
  METHOD_SCHEME,
  retitle,
  slug,
} from "./_figures.ts";
export {
  type ClaimPart,
  COMPRESSION_THRESHOLD,
  MIN_EFFECT,
  quorum,
  RETENTION_THRESHOLD,
  RHO_THRESHOLD,
  type UnitResult,
} from "./_rules.ts";

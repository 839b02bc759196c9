/**
 * What an analysis will cost before it runs: decides whether it runs while the request waits
 * or is queued.
 *
 * @module
 */
import type { Dump } from "../dump/types.ts";
import type { EstimatorConfig } from "./config.ts";

/**
 * Work units of an analysis: m_batch x m per Gram/inverse, times the matrices involved.
 *
 * @param dump the dump
 * @param cfg the estimator settings
 * @returns the work units (compared with INFOPLANE_SYNC_LIMIT)
 */
export function analysisCost(dump: Dump, cfg: EstimatorConfig): number {
  const m = dump.x.rows;
  const b = Math.min(cfg.batch_size ?? m, m);
  const matrices = dump.checkpoints.reduce((s, c) => s + c.layers.length, 0) + 2;
  return m * b * matrices;
}

/**
 * Evaluates the paper's claims on a suite: every experiment's claim parts (their rules live with
 * the experiment, lib/experiments/<experiment>.ts) are tested on the suite's runs and combined
 * into a verdict per claim (lib/report/_rules.ts).
 *
 * @module
 */
import { EXPERIMENT_LIST } from "../experiments/mod.ts";
import type { ExperimentName, RunRecord, SuiteResult } from "../experiments/mod.ts";
import { type ClaimPart, type ClaimResult, CLAIMS, evaluatePart, verdictOf } from "./_rules.ts";

/** Every experiment's claim parts, by claim and id. */
export function claimParts(): ClaimPart[] {
  return EXPERIMENT_LIST.flatMap((e) => e.parts)
    .sort((a, b) => a.claim - b.claim || a.id.localeCompare(b.id));
}

/** Evaluates every claim on a suite's runs (claims whose experiments did not run: "not tested"). */
export function evaluateClaims(suite: SuiteResult): ClaimResult[] {
  const byExperiment = new Map<ExperimentName, RunRecord[]>(
    suite.experiments.map((e) => [e.name, e.runs]),
  );
  const runsOf = (n: ExperimentName) => byExperiment.get(n) ?? [];
  const parts = claimParts();
  return CLAIMS.map((c) => {
    const own = parts.filter((p) => p.claim === c.number);
    const results = own.map((p) => evaluatePart(p, runsOf));
    return {
      ...c,
      experiments: [...new Set(own.flatMap((p) => p.evidence))],
      parts: results,
      verdict: verdictOf(results),
    };
  });
}

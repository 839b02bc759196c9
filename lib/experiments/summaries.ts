/**
 * Aggregates of each experiment over seeds (mean, sample sd and the per-seed values), stored as
 * the experiment result's `summary` and shown in the report's tables. Verdicts are computed
 * separately (lib/report/claims.ts) from the runs themselves.
 *
 * @module
 */
import { type Stat, stat } from "../report/aggregate.ts";
import {
  blockSummaries,
  differentiation,
  earlyLabelBlocks,
  finalProbe,
  meanFinalX,
  meanFinalY,
  methodLabels,
  methodOf,
  middleCompression,
  middleSnnl,
} from "../report/measures.ts";
import type { MethodResult } from "../train/types.ts";
import type { ExperimentName, RunRecord } from "./types.ts";

/** Runs grouped by their group key, in first-seen order. */
export function groupRuns(runs: RunRecord[]): Array<{ group: string; runs: RunRecord[] }> {
  const map = new Map<string, RunRecord[]>();
  for (const r of runs) map.set(r.group, [...(map.get(r.group) ?? []), r]);
  return [...map].map(([group, rs]) => ({ group, runs: rs }));
}

/** A statistic over the seeds of a group for one method. */
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

/** Per-layer statistics of a method over the seeds of a group. */
function layerStats(runs: RunRecord[], label: string) {
  const first = runs.map((r) => methodOf(r, label)).find((m) => m);
  if (!first) return [];
  return first.analysis.summary.layers.map((l, i) => {
    const pick = (f: (s: MethodResult["analysis"]["summary"]["layers"][number]) => number | null) =>
      over(runs, label, (m) => f(m.analysis.summary.layers[i]) ?? NaN);
    return {
      name: l.name,
      final_x: pick((s) => s.final_x),
      final_y: pick((s) => s.final_y),
      compression: pick((s) => s.compression),
      label_retention: pick((s) => s.label_retention),
    };
  });
}

function tagsOf(runs: RunRecord[]) {
  return runs[0]?.tags ?? {};
}

function accuracyVsDepth(runs: RunRecord[]) {
  return {
    rows: groupRuns(runs).flatMap(({ group, runs: rs }) =>
      methodLabels(rs).map((label) => ({
        group,
        dataset: tagsOf(rs).dataset,
        model: tagsOf(rs).model,
        model_name: tagsOf(rs).model_name,
        depth: tagsOf(rs).depth,
        method: label,
        accuracy: over(rs, label, (m) => m.final_test_accuracy),
        seconds: over(rs, label, (m) => m.seconds),
      }))
    ),
  };
}

function dynamics(runs: RunRecord[]) {
  return {
    groups: groupRuns(runs).map(({ group, runs: rs }) => ({
      group,
      tags: tagsOf(rs),
      methods: methodLabels(rs).map((label) => ({
        label,
        accuracy: over(rs, label, (m) => m.final_test_accuracy),
        early_label_nhsic_blocks: over(rs, label, earlyLabelBlocks),
        middle_compression: over(rs, label, middleCompression),
        differentiation: over(rs, label, differentiation),
        last_compression: over(rs, label, (m) => m.analysis.summary.last_layer.compression ?? NaN),
        last_label_retention: over(
          rs,
          label,
          (m) => m.analysis.summary.last_layer.label_retention ?? NaN,
        ),
        last_follows_ib:
          rs.filter((r) => methodOf(r, label)?.analysis.summary.last_layer.follows_ib)
            .length,
        seeds: rs.length,
        layers: layerStats(rs, label),
      })),
    })),
  };
}

function toy(runs: RunRecord[]) {
  return {
    methods: methodLabels(runs).map((label) => {
      const names = finalProbe(runs[0], label)?.layers.map((l) => l.name) ?? [];
      return {
        label,
        accuracy: over(runs, label, (m) => m.final_test_accuracy),
        layers: names.map((name, i) => ({
          name,
          nhsic_u_norm: stat(runs.map((r) => finalProbe(r, label)?.layers[i].nhsic_u_norm ?? NaN)),
          nhsic_e_norm: stat(runs.map((r) => finalProbe(r, label)?.layers[i].nhsic_e_norm ?? NaN)),
          final_y: over(runs, label, (m) => m.analysis.summary.layers[i]?.final_y ?? NaN),
        })),
      };
    }),
  };
}

function regularised(runs: RunRecord[]) {
  return {
    groups: groupRuns(runs).map(({ group, runs: rs }) => ({
      group,
      tags: tagsOf(rs),
      methods: methodLabels(rs).map((label) => {
        const spec = rs.map((r) => methodOf(r, label)).find((m) => m)?.method;
        return {
          label,
          lambda: spec?.nhsic_lambda ?? 0,
          target: spec?.nhsic_target ?? null,
          accuracy: over(rs, label, (m) => m.final_test_accuracy),
          mean_final_x: over(rs, label, meanFinalX),
          mean_final_y: over(rs, label, meanFinalY),
          layers: layerStats(rs, label).map((l) => ({ name: l.name, final_x: l.final_x })),
        };
      }),
    })),
  };
}

function entanglement(runs: RunRecord[]) {
  return {
    groups: groupRuns(runs).map(({ group, runs: rs }) => ({
      group,
      tags: tagsOf(rs),
      input_snnl: stat(rs.map((r) => finalProbe(r, methodLabels(rs)[0])?.input_snnl ?? NaN)),
      methods: methodLabels(rs).map((label) => {
        const first = rs.map((r) => methodOf(r, label)).find((m) => m);
        const names = first ? blockSummaries(first).map((l) => l.name).concat(["logits"]) : [];
        return {
          label,
          accuracy: over(rs, label, (m) => m.final_test_accuracy),
          middle_snnl: stat(rs.map((r) => middleSnnl(r, label))),
          middle_compression: over(rs, label, middleCompression),
          layers: names.map((name) => ({
            name,
            snnl: stat(
              rs.map((r) => finalProbe(r, label)?.layers.find((l) => l.name === name)?.snnl ?? NaN),
            ),
            compression: over(
              rs,
              label,
              (m) => m.analysis.summary.layers.find((l) => l.name === name)?.compression ?? NaN,
            ),
          })),
        };
      }),
    })),
  };
}

/** The `summary` of an experiment's result. */
export function summariseExperiment(
  name: ExperimentName,
  runs: RunRecord[],
): Record<string, unknown> {
  switch (name) {
    case "accuracy-vs-depth":
      return accuracyVsDepth(runs);
    case "information-dynamics":
      return dynamics(runs);
    case "toy":
      return toy(runs);
    case "nhsic-regularised":
      return regularised(runs);
    case "entanglement":
      return entanglement(runs);
  }
}

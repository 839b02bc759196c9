/**
 * Experiment `information-dynamics` (claims 2, 3 and 4): how do nHSIC(X;T_l) and nHSIC(Y;T_l) of
 * each layer evolve during E2E and layer-wise training: early label propagation, late compression
 * of middle layers, an information bottleneck at the output? An MLP on MNIST and a conv net on
 * Fashion-MNIST, tracked densely in the first epoch and at every epoch's end.
 *
 * @module
 */
import { exceeds, fmtDiff, fmtStat, pairedDiff, stat } from "../report/kit.ts";
import { type Block, pct } from "../report/kit.ts";
import {
  type ClaimPart,
  COMPRESSION_THRESHOLD,
  MIN_EFFECT,
  quorum,
  RETENTION_THRESHOLD,
  type UnitResult,
} from "../report/kit.ts";
import type { MethodResult } from "../train/mod.ts";
import { type Config, configRuns, E2E_VS_LAYERWISE, settingsOf } from "./_configs.ts";
import type { Experiment } from "./_experiment.ts";
import {
  differentiation,
  E2E,
  earlyLabelBlocks,
  groups,
  groupTitle,
  layerStats,
  LW,
  methodLabels,
  methodOf,
  middleCompression,
  over,
  tagsOf,
  values,
} from "./_measures.ts";
import { SWEEP_WORDS } from "./_sweep.ts";
import { trajectoryFigures } from "./_trajectories.ts";
import type { ExperimentName, ExperimentResult, RunRecord, Scale, SweepSetting } from "./types.ts";

const NAME = "information-dynamics" as const;

const CONFIGS: Record<Scale, Config[]> = {
  micro: [{
    dataset: "mnist",
    train: 128,
    model: { family: "mlp", depth: 3, width: 16 },
    epochs: 2,
    firstEpochPoints: 1,
    methods: E2E_VS_LAYERWISE,
  }],
  cpu: [
    {
      dataset: "mnist",
      train: 10000,
      model: { family: "mlp", depth: 5, width: 128 },
      epochs: 20,
      firstEpochPoints: 4,
      methods: E2E_VS_LAYERWISE,
    },
    {
      dataset: "fashion-mnist",
      train: 4000,
      model: { family: "conv", depth: 4, channels: [8, 16] },
      epochs: 10,
      firstEpochPoints: 4,
      methods: E2E_VS_LAYERWISE,
    },
  ],
  // The paper's dynamics are about late training: whole datasets, 40 and 30 epochs, nine tracking
  // points in the first epoch.
  long: [
    {
      dataset: "mnist",
      train: undefined,
      model: { family: "mlp", depth: 5, width: 256 },
      epochs: 40,
      firstEpochPoints: 8,
      methods: E2E_VS_LAYERWISE,
    },
    {
      dataset: "fashion-mnist",
      train: undefined,
      model: { family: "conv", depth: 4, channels: [8, 16] },
      epochs: 30,
      firstEpochPoints: 8,
      methods: E2E_VS_LAYERWISE,
    },
  ],
  full: [
    {
      dataset: "mnist",
      train: undefined,
      model: { family: "mlp", depth: 5, width: 256 },
      epochs: 50,
      firstEpochPoints: 4,
      methods: E2E_VS_LAYERWISE,
    },
    {
      dataset: "fashion-mnist",
      train: undefined,
      model: { family: "conv", depth: 4, channels: [16, 32] },
      epochs: 30,
      firstEpochPoints: 4,
      methods: E2E_VS_LAYERWISE,
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// Rules of claims 2a, 3 and 4

/** Experiments whose configurations of depth >= 2 count for claim 2a (in this order). */
const EARLY_SOURCES: ExperimentName[] = ["accuracy-vs-depth", NAME, "entanglement"];

function earlyLabelUnits(runsOf: (n: ExperimentName) => RunRecord[]): UnitResult[] {
  const a: UnitResult[] = [];
  for (const name of EARLY_SOURCES) {
    for (const [group, rs] of groups(runsOf(name))) {
      if (Number(rs[0].tags.depth) < 2) continue;
      const labels = methodLabels(rs);
      if (!labels.includes(E2E) || !labels.includes(LW)) continue;
      const d = pairedDiff(values(rs, E2E, earlyLabelBlocks), values(rs, LW, earlyLabelBlocks));
      const step = methodOf(rs[0], E2E)?.analysis.checkpoints.map((c) => c.step)
        .sort((x, y) => x - y)[1];
      a.push({
        unit: `${name} ${group} (step ${step})`,
        holds: exceeds(d, MIN_EFFECT.nhsic),
        detail: `e2e - layer-wise, mean normalised nHSIC(Y;T) over blocks: ${fmtDiff(d)}`,
      });
    }
  }
  return a;
}

const lastRetention = (m: MethodResult) => m.analysis.summary.last_layer.label_retention ?? NaN;

function compressionUnits(runs: RunRecord[]): UnitResult[] {
  return groups(runs).map(([group, rs]) => {
    const comp = stat(values(rs, E2E, middleCompression).map((v) => v.value));
    return {
      unit: group,
      holds: comp.mean >= COMPRESSION_THRESHOLD,
      detail: `e2e mean compression of the middle layers ${comp.mean.toFixed(3)} ± ` +
        `${comp.sd.toFixed(3)} sd; layer-wise ${
          stat(values(rs, LW, middleCompression).map((v) => v.value)).mean.toFixed(3)
        }`,
    };
  });
}

function retentionUnits(runs: RunRecord[]): UnitResult[] {
  return groups(runs).map(([group, rs]) => {
    const ret = stat(values(rs, E2E, lastRetention).map((v) => v.value));
    return {
      unit: group,
      holds: ret.mean >= RETENTION_THRESHOLD,
      detail: `e2e output label retention ${ret.mean.toFixed(3)} ± ${ret.sd.toFixed(3)} sd`,
    };
  });
}

function differentiationUnits(runs: RunRecord[]): UnitResult[] {
  return groups(runs).map(([group, rs]) => {
    const d = pairedDiff(values(rs, E2E, differentiation), values(rs, LW, differentiation));
    return {
      unit: group,
      holds: exceeds(d, MIN_EFFECT.differentiation),
      detail: `differentiation score e2e - layer-wise ${fmtDiff(d)}`,
    };
  });
}

/** How many seeds' outputs follow the bottleneck under a method, of how many. */
function ibCount(rs: RunRecord[], label: string): { n: number; ib: number } {
  const ms = rs.map((r) => methodOf(r, label)).filter((m) => m) as MethodResult[];
  return {
    n: ms.length,
    ib: ms.filter((m) => m.analysis.summary.last_layer.follows_ib === true).length,
  };
}

function bottleneckUnits(runs: RunRecord[], label: string): UnitResult[] {
  return groups(runs).flatMap(([group, rs]): UnitResult[] => {
    const c = ibCount(rs, label);
    if (c.n === 0) return [];
    return [
      label === E2E
        ? {
          unit: group,
          holds: quorum(c.ib, c.n),
          detail: `e2e output follows the bottleneck in ${c.ib} of ${c.n} seeds`,
        }
        : {
          unit: group,
          holds: c.ib <= Math.floor(c.n / 3 + 1e-9),
          detail: `${label} output follows the bottleneck in ${c.ib} of ${c.n} seeds`,
        },
    ];
  });
}

const IB_RULE = "follows the information bottleneck (lib/summary.ts: compression >= " +
  `${COMPRESSION_THRESHOLD}, label retention >= ${RETENTION_THRESHOLD}, peak of ` +
  "nHSIC(X;T) before the last tracking point)";

const PARTS: ClaimPart[] = [
  {
    claim: 2,
    id: "2a",
    estimator: true,
    statement: "Early in training, E2E's layers carry more label information than layer-wise ones.",
    rule: "Unit: a configuration of depth >= 2 in accuracy-vs-depth, information-dynamics or " +
      "entanglement. Test: at the first tracking point after step 0, the mean over the blocks " +
      "(every layer but the output) of nHSIC(Y;T_l)/nHSIC(Y;Y) of e2e exceeds that of " +
      "layerwise(cross_entropy).",
    evidence: [NAME, "accuracy-vs-depth", "entanglement"],
    units: earlyLabelUnits,
  },
  {
    claim: 3,
    id: "3a",
    estimator: true,
    statement: "E2E's middle layers compress late in training.",
    rule: "Unit: a configuration of information-dynamics. Test: e2e's compression (peak minus " +
      "final nHSIC(X;T_l)/nHSIC(X;X)), averaged over the middle layers (the blocks after the " +
      `first) and the seeds, is at least ${COMPRESSION_THRESHOLD}.`,
    evidence: [NAME],
    units: (runsOf) => compressionUnits(runsOf(NAME)),
  },
  {
    claim: 3,
    id: "3b",
    estimator: true,
    statement: "E2E's last layer keeps its label information.",
    rule: "Unit: a configuration. Test: the output's label retention (final over peak " +
      `nHSIC(Y;T)/nHSIC(Y;Y)) of e2e, averaged over seeds, is at least ${RETENTION_THRESHOLD}.`,
    evidence: [NAME],
    units: (runsOf) => retentionUnits(runsOf(NAME)),
  },
  {
    claim: 3,
    id: "3c",
    estimator: true,
    statement: "E2E's layers move differently from each other, layer-wise ones alike.",
    rule: "Unit: a configuration. Test: e2e's differentiation score (population sd over all " +
      "tracked layers of their compression) exceeds layerwise(cross_entropy)'s.",
    evidence: [NAME],
    units: (runsOf) => differentiationUnits(runsOf(NAME)),
  },
  {
    claim: 4,
    id: "4a",
    estimator: true,
    statement: "E2E's final representation reaches an information bottleneck.",
    rule: `Unit: a configuration of information-dynamics. Test: e2e's output ${IB_RULE} in at ` +
      "least two thirds of the seeds.",
    evidence: [NAME],
    units: (runsOf) => bottleneckUnits(runsOf(NAME), E2E),
  },
  {
    claim: 4,
    id: "4b",
    estimator: true,
    statement: "Layer-wise training's final representation does not.",
    rule: "Unit: a configuration. Test: layerwise(cross_entropy)'s output follows the " +
      "bottleneck in at most a third of the seeds.",
    evidence: [NAME],
    units: (runsOf) => bottleneckUnits(runsOf(NAME), LW),
  },
];

// ---------------------------------------------------------------------------------------------
// Results: summary, tables, figures

function summarise(runs: RunRecord[]) {
  return {
    groups: groups(runs).map(([group, rs]) => ({
      group,
      tags: tagsOf(rs),
      methods: methodLabels(rs).map((label) => ({
        label,
        accuracy: over(rs, label, (m) => m.final_test_accuracy),
        early_label_nhsic_blocks: over(rs, label, earlyLabelBlocks),
        middle_compression: over(rs, label, middleCompression),
        differentiation: over(rs, label, differentiation),
        last_compression: over(rs, label, (m) => m.analysis.summary.last_layer.compression ?? NaN),
        last_label_retention: over(rs, label, lastRetention),
        last_follows_ib:
          rs.filter((r) => methodOf(r, label)?.analysis.summary.last_layer.follows_ib)
            .length,
        seeds: rs.length,
        layers: layerStats(rs, label),
      })),
    })),
  };
}

function tables(e: ExperimentResult): Block[] {
  return groups(e.runs).flatMap(([, runs]): Block[] => {
    const labels = methodLabels(runs);
    const rows = labels.map((label) => [
      label,
      pct(over(runs, label, (m) => m.final_test_accuracy)),
      fmtStat(over(runs, label, middleCompression)),
      fmtStat(over(runs, label, lastRetention)),
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

/** Per configuration, the numbers behind claims 3 and 4 under each estimator setting. */
function sweepTables(swept: Array<{ setting: SweepSetting; runs: RunRecord[] }>): Block[] {
  const configs = groups(swept[0]?.runs ?? []).map(([group, rs]) => ({
    group,
    title: groupTitle(rs),
  }));
  return configs.flatMap(({ group, title }): Block[] => {
    const rows = swept.map(({ setting, runs }) => {
      const rs = runs.filter((r) => r.group === group);
      const ib = (label: string) => {
        const c = ibCount(rs, label);
        return `${c.ib} / ${c.n}`;
      };
      return [
        setting.label,
        fmtStat(over(rs, E2E, middleCompression)),
        fmtStat(over(rs, LW, middleCompression)),
        fmtStat(over(rs, E2E, (m) => m.analysis.summary.last_layer.compression ?? NaN)),
        fmtStat(over(rs, E2E, lastRetention)),
        fmtDiff(pairedDiff(values(rs, E2E, differentiation), values(rs, LW, differentiation))),
        ib(E2E),
        ib(LW),
      ];
    });
    return [
      {
        type: "p",
        text: `information-dynamics, ${title} (mean ± sd over seeds; differentiation: paired ` +
          "difference ± SE):",
      },
      {
        type: "table",
        head: [
          "estimator",
          "e2e middle compression",
          "layer-wise middle compression",
          "e2e output compression",
          "e2e output label retention",
          "differentiation e2e - layer-wise",
          "e2e output follows IB",
          "layer-wise output follows IB",
        ],
        rows,
      },
    ];
  });
}

/** The `information-dynamics` experiment. */
export const informationDynamics: Experiment = {
  name: NAME,
  title: "Information dynamics per layer",
  question: "How do nHSIC(X;T_l) and nHSIC(Y;T_l) of each layer evolve during E2E and layer-wise " +
    "training: early label propagation, late compression of middle layers, an information " +
    "bottleneck at the output?",
  claims: [2, 3, 4],
  runs: (scale, opts = {}) =>
    configRuns(NAME, CONFIGS[scale], scale, opts, { estimator_sweep: true }),
  settings: (scale, opts = {}) => settingsOf(CONFIGS[scale], scale, opts, [SWEEP_WORDS]),
  summarise,
  figures: (e) => trajectoryFigures(e, "dynamics"),
  parts: PARTS,
  sweepTables,
  section: (claim, e, figs) => {
    switch (claim) {
      case 2:
        return { figures: figs.filter((f) => f.name.startsWith("dynamics-nhsic-")) };
      case 3:
        return {
          primary: true,
          measured: tables(e),
          figures: figs.filter((f) => f.name.startsWith("dynamics-plane-")),
        };
      case 4:
        return {
          primary: true,
          notes: [{
            type: "p",
            text: "The numbers behind claim 4 are in the table of claim 3 (output compression, " +
              "label retention, and how many seeds' outputs follow the bottleneck).",
          }],
        };
      default:
        return null;
    }
  },
};

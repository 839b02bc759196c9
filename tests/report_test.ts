/**
 * The experiment report: constructed results (no training) with known outcomes go through the
 * verdict rules and the Markdown/HTML generator; every claim appears with its verdict, a claim
 * whose measurements contradict it is reported as "did not hold", claims without experiments as
 * "not tested"; the statistics behind the rules are checked on small examples.
 */
import assert from "node:assert/strict";
import type { AnalysisOutput } from "../lib/analysis.ts";
import type {
  ExperimentName,
  ExperimentResult,
  ProbePoint,
  RunRecord,
  SuiteResult,
} from "../lib/experiments/mod.ts";
import { DEFAULT_ESTIMATOR } from "../lib/nhsic/mod.ts";
import {
  buildFigures,
  CLAIMS,
  claimsUnder,
  evaluateClaims,
  exceeds,
  pairedDiff,
  ranks,
  renderReport,
  reportBlocks,
  scopeSvgIds,
  spearman,
  sweepSettingsOf,
  toMarkdown,
  trackingSettingId,
  verdictOf,
} from "../lib/report/mod.ts";
import { summarise } from "../lib/summary.ts";
import type { MethodResult, MethodSpec, TrainingResult } from "../lib/train/mod.ts";
const STEPS = [0, 10, 20, 40, 80];

/** Per layer, per step: [normalised nHSIC(X;T), normalised nHSIC(Y;T)]. */
type Trajectory = Array<Array<[number, number]>>;

function method(
  spec: MethodSpec & { label: string },
  accuracy: number,
  names: string[],
  traj: Trajectory,
): MethodResult {
  const reference = { nhsic_x_x: 50, nhsic_y_y: 10 };
  const checkpoints = STEPS.map((step, t) => ({
    step,
    layers: names.map((name, l) => ({
      name,
      nhsic_x: traj[l][t][0] * reference.nhsic_x_x,
      nhsic_y: traj[l][t][1] * reference.nhsic_y_y,
      nhsic_x_norm: traj[l][t][0],
      nhsic_y_norm: traj[l][t][1],
      cka_x: 0,
      cka_y: 0,
    })),
  }));
  const analysis: AnalysisOutput = {
    m: 64,
    num_classes: 10,
    estimator: { ...DEFAULT_ESTIMATOR, batch_size: 32, batches: 2, samples_used: 64 },
    reference,
    checkpoints,
    summary: summarise({ reference, checkpoints }),
    compute: { linalg: "portable", seconds: 0 },
  };
  return {
    method: spec,
    curves: STEPS.map((step, i) => ({
      epoch: step / 40,
      step,
      train_loss: 1,
      train_accuracy: accuracy,
      test_accuracy: i === STEPS.length - 1 ? accuracy : accuracy / 2,
    })),
    analysis,
    final_test_accuracy: accuracy,
    seconds: 1,
  };
}

/** E2E-like: middle layers rise then compress, the output keeps its label dependence. */
function e2eTraj(n: number, jitter: number): Trajectory {
  return Array.from({ length: n }, (_, l) => {
    const last = l === n - 1, first = l === 0;
    return STEPS.map((_, t): [number, number] => {
      const x = first
        ? 0.5 + 0.05 * t
        : last
        ? [0.5, 0.8, 0.85, 0.75, 0.7][t]
        : [0.5, 0.8, 0.9, 0.7, 0.6][t];
      const y = last ? [0.1, 0.6, 0.8, 0.85, 0.86][t] : [0.1, 0.5, 0.6, 0.6, 0.6][t];
      return [x + jitter, y + jitter];
    });
  });
}

/** Layer-wise-like: every layer rises alike, slowly, nothing compresses. */
function layerwiseTraj(n: number, jitter: number): Trajectory {
  return Array.from(
    { length: n },
    () => STEPS.map((_, t): [number, number] => [0.5 + 0.08 * t + jitter, 0.1 + 0.1 * t + jitter]),
  );
}

const LAYERS = (
  depth: number,
) => [...Array.from({ length: depth }, (_, i) => `fc${i + 1}`), "logits"];
const E2E = { name: "e2e" as const, label: "e2e" };
const LW = {
  name: "layerwise" as const,
  loss: "cross_entropy" as const,
  label: "layerwise(cross_entropy)",
};

function run(
  experiment: ExperimentName,
  group: string,
  tags: Record<string, string | number>,
  seed: number,
  methods: MethodResult[],
  probes?: ProbePoint[],
): RunRecord {
  const result: TrainingResult = {
    backend: { name: "wasm", device: "test" },
    dataset: {
      name: String(tags.dataset),
      train: 100,
      test: 64,
      shape: [28, 28, 1],
      num_classes: 10,
    },
    model: null,
    optimizer: { lr: 1e-3, weight_decay: 0, epochs: 2, batch_size: 32 },
    tracking: {
      probe_size: 64,
      probe_batch: 32,
      first_epoch_points: 1,
      linear_probe: false,
      estimator: { ...DEFAULT_ESTIMATOR, batch_size: 32 },
    },
    seed,
    methods,
    seconds: 1,
  };
  return {
    key: `${experiment}/${group}/seed${seed}`,
    experiment,
    group,
    tags,
    seed,
    result,
    seconds: 1,
    ...(probes ? { probes } : {}),
  };
}

function experiment(name: ExperimentName, runs: RunRecord[], claims: number[]): ExperimentResult {
  return {
    name,
    title: name,
    question: `What does ${name} show?`,
    claims,
    scale: "cpu",
    settings: { description: [`settings of ${name}`], seeds: [0, 1, 2], requests: [] },
    seeds: [0, 1, 2],
    runs,
    summary: { note: "constructed" },
    started_at: "2026-01-01T00:00:00Z",
    finished_at: "2026-01-01T00:01:00Z",
    wall_seconds: 60,
  };
}

const SEEDS = [0, 1, 2];
const j = (seed: number) => (seed - 1) * 0.002;

/** A suite whose measurements support claims 1-5 and contradict claim 6. */
function constructedSuite(): SuiteResult {
  const depthRuns = [1, 2, 4].flatMap((depth) =>
    SEEDS.map((seed) =>
      run(
        "accuracy-vs-depth",
        `mnist/mlp/d${depth}`,
        {
          dataset: "mnist",
          model: "mlp",
          model_name: "mlp w16",
          depth,
        },
        seed,
        [
          method(
            E2E,
            [0.9, 0.93, 0.96][[1, 2, 4].indexOf(depth)] + j(seed),
            LAYERS(depth),
            e2eTraj(depth + 1, j(seed)),
          ),
          method(
            LW,
            0.88 + (depth > 1 ? 0.01 : 0) - j(seed),
            LAYERS(depth),
            layerwiseTraj(depth + 1, -j(seed)),
          ),
        ],
      )
    )
  );
  const tags = { dataset: "mnist", model: "mlp", model_name: "mlp w16", depth: 3 };
  const dynamics = SEEDS.map((seed) =>
    run("information-dynamics", "mnist/mlp/d3", tags, seed, [
      method(E2E, 0.95 + j(seed), LAYERS(3), e2eTraj(4, j(seed))),
      method(LW, 0.9 - j(seed), LAYERS(3), layerwiseTraj(4, j(seed))),
    ])
  );
  const probe = (label: string, snnl: number[], u: number): ProbePoint => ({
    method: label,
    step: 80,
    input_snnl: 1,
    layers: LAYERS(3).map((name, i) => ({
      name,
      snnl: snnl[i],
      nhsic_u_norm: i === 0 ? u : u / 2,
      nhsic_e_norm: 0.5,
    })),
  });
  const entanglement = SEEDS.map((seed) =>
    run("entanglement", "mnist/mlp/d3", tags, seed, [
      method(E2E, 0.95 + j(seed), LAYERS(3), e2eTraj(4, j(seed))),
      method(LW, 0.9 - j(seed), LAYERS(3), layerwiseTraj(4, j(seed))),
    ], [
      probe("e2e", [0.8, 1.2 + j(seed), 1.1 + j(seed), 0.3], 0),
      probe("layerwise(cross_entropy)", [0.7, 0.5 - j(seed), 0.4 - j(seed), 0.3], 0),
    ])
  );
  const toyTags = { dataset: "toy", model: "bottleneck-3" };
  const toy = SEEDS.map((seed) =>
    run("toy", "xor-shortcut", toyTags, seed, [
      method(E2E, 0.97 + j(seed), LAYERS(3), e2eTraj(4, 0)),
      method(LW, 0.82 - j(seed), LAYERS(3), layerwiseTraj(4, 0)),
    ], [
      probe("e2e", [0, 0, 0, 0], 0.7 + j(seed)),
      probe("layerwise(cross_entropy)", [0, 0, 0, 0], 0.4 - j(seed)),
    ])
  );
  // The nHSIC term neither moves nHSIC nor costs accuracy against E2E: claim 6 is contradicted.
  const reg = {
    name: "layerwise" as const,
    loss: "cross_entropy" as const,
    nhsic_lambda: 0.1,
    nhsic_target: "global" as const,
    label: "layerwise(cross_entropy, nhsic=0.1 global)",
  };
  const regularised = SEEDS.map((seed) =>
    run("nhsic-regularised", "mnist/mlp/d2", { ...tags, depth: 2 }, seed, [
      method(E2E, 0.93 + j(seed), LAYERS(2), e2eTraj(3, j(seed))),
      method(LW, 0.92 + j(seed), LAYERS(2), layerwiseTraj(3, j(seed))),
      method(reg, 0.95 + j(seed), LAYERS(2), layerwiseTraj(3, j(seed))),
    ])
  );
  return {
    kind: "infoplane-experiment-suite",
    version: 1,
    scale: "cpu",
    names: [
      "accuracy-vs-depth",
      "information-dynamics",
      "toy",
      "nhsic-regularised",
      "entanglement",
    ],
    command: "deno task experiments --scale cpu",
    backend: { name: "wasm", device: "test" },
    linalg: "portable",
    environment: { deno: "2", os: "linux", cpus: 2 },
    datasets: [{ name: "mnist", source: "embedded", md5_verified: false }],
    concurrency: 1,
    failures: [],
    started_at: "2026-01-01T00:00:00Z",
    finished_at: "2026-01-01T00:10:00Z",
    wall_seconds: 600,
    experiments: [
      experiment("accuracy-vs-depth", depthRuns, [1, 2]),
      experiment("information-dynamics", dynamics, [2, 3, 4]),
      experiment("toy", toy, [2]),
      experiment("nhsic-regularised", regularised, [6]),
      experiment("entanglement", entanglement, [5]),
    ],
  };
}

Deno.test("paired differences, the 'exceeds' test and rank correlation", () => {
  const a = [{ seed: 0, value: 1.0 }, { seed: 1, value: 1.2 }, { seed: 2, value: 1.1 }, {
    seed: 9,
    value: 5,
  }];
  const b = [{ seed: 0, value: 0.9 }, { seed: 1, value: 1.0 }, { seed: 2, value: 1.0 }];
  const d = pairedDiff(a, b);
  assert.deepStrictEqual(d.n, 3); // seed 9 has no partner
  assert.ok(Math.abs(d.mean - ((0.1 + 0.2 + 0.1) / 3)) <= 1e-12);
  assert.ok(
    Math.abs(
      d.se - (Math.sqrt(((0.1 - d.mean) ** 2 * 2 + (0.2 - d.mean) ** 2) / 2) / Math.sqrt(3)),
    ) <= 1e-12,
  );
  assert(exceeds(d, 0.05));
  assert(!exceeds(d, 0.2)); // below the minimum effect
  assert(!exceeds({ mean: 0.1, se: 0.06, n: 3, values: [] }, 0.01)); // within two standard errors
  assert.deepStrictEqual(ranks([3, 1, 3, 2]), [3.5, 1, 3.5, 2]);
  assert.ok(Math.abs((spearman([1, 2, 3, 4], [10, 20, 30, 40])) - 1) <= 1e-12);
  assert.ok(Math.abs((spearman([1, 2, 3, 4], [4, 3, 2, 1])) - (-1)) <= 1e-12);
  assert(Number.isNaN(spearman([1, 2], [1, 2])));
});

Deno.test("claim verdicts from their parts", () => {
  const p = (holds: boolean | null) => ({ id: "x", statement: "", rule: "", units: [], holds });
  assert.deepStrictEqual(verdictOf([p(true), p(true)]), "held");
  assert.deepStrictEqual(verdictOf([p(true), p(false)]), "held partly");
  assert.deepStrictEqual(verdictOf([p(true), p(null)]), "held partly");
  assert.deepStrictEqual(verdictOf([p(false), p(false)]), "did not hold");
  assert.deepStrictEqual(verdictOf([p(false), p(null)]), "did not hold");
  assert.deepStrictEqual(verdictOf([p(null), p(null)]), "not tested");
});

Deno.test("constructed results: every claim gets the verdict its measurements imply", () => {
  const claims = evaluateClaims(constructedSuite());
  assert.deepStrictEqual(claims.map((c) => c.number), [1, 2, 3, 4, 5, 6]);
  const verdicts = Object.fromEntries(claims.map((c) => [c.number, c.verdict]));
  assert.deepStrictEqual(
    verdicts,
    {
      1: "held",
      2: "held",
      3: "held",
      4: "held",
      5: "held",
      6: "did not hold",
    },
    JSON.stringify(
      claims.map((c) => c.parts.map((p) => [p.id, p.holds, p.units.map((u) => u.detail)])),
    ),
  );
  for (const c of claims) {
    for (const part of c.parts) assert(part.rule.length > 20 && part.units.length > 0, part.id);
  }
});

Deno.test("the report states every claim with its verdict, rules, numbers and figures", async () => {
  const suite = constructedSuite();
  const r = await renderReport(suite);
  for (const c of CLAIMS) {
    assert(r.markdown.includes(`## Claim ${c.number}: ${c.title} — `), `claim ${c.number} missing`);
    assert(r.markdown.includes(c.claim), `claim ${c.number} text missing`);
    assert(r.html.includes(`Claim ${c.number}: ${c.title}`), `claim ${c.number} missing in HTML`);
  }
  assert(r.markdown.includes("## Claim 6: nHSIC-regularised layer-wise training — did not hold"));
  assert(r.markdown.includes("| 6 | nHSIC-regularised layer-wise training | **did not hold** |"));
  assert(r.markdown.includes("| 1 | Accuracy | **held** |"));
  assert(r.html.includes("<strong>did not hold</strong>"));
  // Rules, command, wall time, seeds.
  assert(r.markdown.includes("more than twice its standard error"));
  assert(r.markdown.includes("`deno task experiments --scale cpu`"));
  assert(r.markdown.includes("Wall time: 10 min 0 s"));
  assert(r.markdown.includes("Seeds: 0, 1, 2"));
  // Mean ± sd in the tables (accuracy in %).
  assert(r.markdown.includes("| 4 | 96.0 ± 0.2 | 89.0 ± 0.2 |"), "accuracy table (mean ± sd, %)");
  // Figures: PNG files referenced from the Markdown, inline SVG in the HTML.
  assert(r.figures.length >= 6);
  for (const f of r.figures) {
    assert(r.markdown.includes(`](figures/${f.name}.png)`), f.name);
    assert.deepStrictEqual(f.png.slice(1, 4), new TextEncoder().encode("PNG"));
  }
  assert.deepStrictEqual((r.html.match(/<svg/g) ?? []).length, r.figures.length);
});

Deno.test("claims whose experiments did not run are reported as not tested", () => {
  const suite = constructedSuite();
  suite.experiments = suite.experiments.filter((e) => e.name === "toy");
  suite.names = ["toy"];
  const claims = evaluateClaims(suite);
  assert.deepStrictEqual(claims.map((c) => c.verdict), [
    "not tested",
    "held partly", // 2b holds, 2a has no unit
    "not tested",
    "not tested",
    "not tested",
    "not tested",
  ]);
  const md = toMarkdown(reportBlocks(suite, buildFigures(suite)));
  assert(md.includes("## Claim 1: Accuracy — not tested"));
  assert(md.includes("The experiments this claim needs were not part of this run."));
  assert(md.includes("2a. ") && md.includes("not tested (no unit in this suite)"));
});

Deno.test("SVG ids are scoped so several figures can share a page", () => {
  const svg = '<?xml version="1.0"?><svg><clipPath id="c1"/><g clip-path="url(#c1)"/>' +
    '<use href="#c1"/></svg>';
  assert.deepStrictEqual(
    scopeSvgIds(svg, "f3"),
    '<svg><clipPath id="f3-c1"/><g clip-path="url(#f3-c1)"/><use href="#f3-c1"/></svg>',
  );
});

/**
 * The constructed suite's dynamics runs with a two-setting estimator sweep: "same" repeats the
 * tracked values (the tracking's own estimator), "flat" is an estimator under which nothing
 * compresses (nHSIC(X;T) only rises).
 */
function sweptSuite(): SuiteResult {
  const suite = constructedSuite();
  const settings = [
    { id: "same", label: "the tracked one", estimator: { ...DEFAULT_ESTIMATOR, batch_size: 32 } },
    {
      id: "flat",
      label: "a flat one",
      estimator: { ...DEFAULT_ESTIMATOR, sigma: 1, batch_size: 32 },
    },
  ];
  const dyn = suite.experiments.find((e) => e.name === "information-dynamics")!;
  dyn.runs = dyn.runs.map((r) => ({
    ...r,
    sweep_settings: settings,
    probes: r.result.methods.flatMap((m) =>
      m.analysis.checkpoints.map((cp, t): ProbePoint => ({
        method: m.method.label,
        step: cp.step,
        layers: cp.layers.map((l) => ({ name: l.name })),
        sweep: {
          same: {
            xx: m.analysis.reference.nhsic_x_x,
            yy: m.analysis.reference.nhsic_y_y,
            x: cp.layers.map((l) => l.nhsic_x),
            y: cp.layers.map((l) => l.nhsic_y),
          },
          flat: {
            xx: 50,
            yy: 10,
            x: cp.layers.map(() => 50 * (0.5 + 0.05 * t)),
            y: cp.layers.map((l) => l.nhsic_y),
          },
        },
      }))
    ),
  }));
  return suite;
}

Deno.test("the estimator sweep re-tests the nHSIC parts under each setting", () => {
  const suite = sweptSuite();
  assert.deepStrictEqual(sweepSettingsOf(suite).map((s) => s.id), ["same", "flat"]);
  assert.deepStrictEqual(trackingSettingId(suite), "same");
  const main = evaluateClaims(suite);
  const same = claimsUnder(suite, sweepSettingsOf(suite)[0], main);
  const flat = claimsUnder(suite, sweepSettingsOf(suite)[1], main);
  const part = (cs: typeof same, id: string) =>
    cs.flatMap((c) => c.parts).find((p) => p.id === id)!;
  // The tracked values give the main verdicts on the swept runs.
  assert.deepStrictEqual(same.find((c) => c.number === 3)!.verdict, "held");
  assert(part(same, "3a").retested && part(same, "3a").holds);
  // Nothing compresses under "flat": 3a, 3c and 4a fail; accuracy parts keep their result.
  assert.deepStrictEqual(part(flat, "3a").holds, false);
  assert.deepStrictEqual(part(flat, "4a").holds, false);
  assert.deepStrictEqual(part(flat, "1a").retested, false);
  assert.deepStrictEqual(part(flat, "1a").holds, part(same, "1a").holds);
  // 2a is re-tested on the swept runs only (the dynamics configuration).
  assert.deepStrictEqual(part(flat, "2a").units.length, 1);
  const md = toMarkdown(reportBlocks(suite));
  assert(md.includes("## Does the verdict depend on the estimator?"));
  assert(
    md.includes("| the tracked one (the tracking's) | held |"),
    md.slice(md.indexOf("### Verdicts under")),
  );
  assert(md.includes("Claim 3 (Layer-role differentiation): **held** under the tracked one;"));
  assert(md.includes("largest relative difference 0.0e+0"));
  // Without sweeps the section is absent.
  assert(!toMarkdown(reportBlocks(constructedSuite())).includes("depend on the estimator"));
});

/**
 * The report's section "Does the verdict depend on the estimator?": runs that kept an estimator
 * sweep (lib/experiments/_sweep.ts: their tracked activations measured again under each setting)
 * are re-analysed under every setting, and every claim part that reads nHSIC values is tested
 * again with the same rules; the parts that do not read nHSIC (accuracy, SNNL) keep their result.
 * The section appears only when the suite has such runs.
 *
 * @module
 */
import { EXPERIMENT_LIST } from "../experiments/mod.ts";
import { sweptRuns } from "../experiments/mod.ts";
import type { RunRecord, SuiteResult, SweepSetting } from "../experiments/mod.ts";
import { claimParts, evaluateClaims } from "./_claims.ts";
import type { Block } from "./_document.ts";
import { type ClaimResult, type PartResult, type Verdict, verdictOf } from "./_rules.ts";

/** Whether a sweep setting is the estimator the run's tracking used. */
function isTracking(r: RunRecord, s: SweepSetting): boolean {
  return JSON.stringify(s.estimator) === JSON.stringify(r.result.tracking.estimator);
}

/** The id of the setting that is the tracking's own estimator in every swept run, if any. */
export function trackingSettingId(suite: SuiteResult): string | null {
  const runs = suite.experiments.flatMap((e) => e.runs).filter((r) => r.sweep_settings?.length);
  const ids = runs.map((r) => r.sweep_settings!.find((s) => isTracking(r, s))?.id ?? null);
  return ids.length > 0 && ids.every((id) => id !== null && id === ids[0]) ? ids[0] : null;
}

/** The sweep's settings as the runs recorded them (the tracking's own first). */
export function sweepSettingsOf(suite: SuiteResult): SweepSetting[] {
  const out = new Map<string, SweepSetting>();
  for (const e of suite.experiments) {
    for (const r of e.runs) {
      for (const s of r.sweep_settings ?? []) out.set(s.id, out.get(s.id) ?? s);
    }
  }
  const all = [...out.values()];
  const own = trackingSettingId(suite);
  return [...all.filter((s) => s.id === own), ...all.filter((s) => s.id !== own)];
}

/** A claim re-evaluated under one setting. */
export interface SweptClaim {
  number: number;
  title: string;
  verdict: Verdict;
  /** Every part: re-tested (estimator parts) or as in the main evaluation. */
  parts: Array<PartResult & { retested: boolean }>;
}

/** The claims under one setting of the sweep. */
export function claimsUnder(
  suite: SuiteResult,
  s: SweepSetting,
  main: ClaimResult[] = evaluateClaims(suite),
): SweptClaim[] {
  const swept: SuiteResult = {
    ...suite,
    experiments: suite.experiments.map((e) => ({ ...e, runs: sweptRuns(e.runs, s) })),
  };
  const again = evaluateClaims(swept);
  const estimatorParts = new Set(claimParts().filter((p) => p.estimator).map((p) => p.id));
  return main.map((c, ci) => {
    const parts = c.parts.map((p, pi) =>
      estimatorParts.has(p.id)
        ? { ...again[ci].parts[pi], retested: true }
        : { ...p, retested: false }
    );
    return { number: c.number, title: c.title, verdict: verdictOf(parts), parts };
  });
}

/**
 * Largest relative difference between the tracked values and the sweep's values under the
 * tracking's own setting (the sweep measures the same activations again).
 */
function trackingCheck(suite: SuiteResult): { max: number; n: number } {
  let max = 0, n = 0;
  for (const e of suite.experiments) {
    for (const r of e.runs) {
      const own = r.sweep_settings?.find((s) => isTracking(r, s));
      if (!own) continue;
      for (const p of r.probes ?? []) {
        const v = p.sweep?.[own.id];
        const m = r.result.methods.find((m) => m.method.label === p.method);
        const cp = m?.analysis.checkpoints.find((c) => c.step === p.step);
        if (!v || !cp) continue;
        cp.layers.forEach((l, i) => {
          for (const [a, b] of [[l.nhsic_x, v.x[i]], [l.nhsic_y, v.y[i]]]) {
            max = Math.max(max, Math.abs(a - b) / Math.max(Math.abs(a), 1e-12));
            n++;
          }
        });
      }
    }
  }
  return { max, n };
}

function cell(p: PartResult): string {
  if (p.holds === null) return "no unit";
  const pass = p.units.filter((u) => u.holds).length;
  return `${p.holds ? "holds" : "fails"} (${pass}/${p.units.length})`;
}

/** The section's blocks (none when no run of the suite kept an estimator sweep). */
export function sweepBlocks(suite: SuiteResult, main: ClaimResult[]): Block[] {
  const settings = sweepSettingsOf(suite);
  if (settings.length === 0) return [];
  const kept = suite.experiments.map((e) => ({
    name: e.name,
    runs: e.runs.filter((r) => (r.sweep_settings?.length ?? 0) > 0),
  })).filter((e) => e.runs.length > 0);
  const under = settings.map((s) => ({ setting: s, claims: claimsUnder(suite, s, main) }));
  const estimatorIds = claimParts().filter((p) => p.estimator).map((p) => p.id);
  const claimNumbers = main.filter((c) => c.parts.some((p) => estimatorIds.includes(p.id)))
    .map((c) => c.number);
  const own = trackingSettingId(suite);
  const label = (s: SweepSetting) => s.id === own ? `${s.label} (the tracking's)` : s.label;
  const check = trackingCheck(suite);
  const base = settings[0].estimator;
  const out: Block[] = [
    { type: "h", level: 2, text: "Does the verdict depend on the estimator?" },
    {
      type: "p",
      text: "nHSIC has free choices: the distance inside the Gaussian kernel (squared, as in the " +
        "authors' later code, or plain, as in their May 2024 code), its width sigma (scaled by " +
        "sqrt(d)) or the median heuristic, and the mini-batch size m over which the estimate is " +
        "averaged. The runs below kept, at every tracking point, nHSIC(X;T_l) and nHSIC(Y;T_l) " +
        "of every layer measured again on the same probe samples under " +
        `${settings.length} settings (lib/experiments/_sweep.ts): ` +
        kept.map((e) => `${e.name} (${e.runs.length} runs)`).join(", ") + ". Every claim part " +
        "whose test reads nHSIC values " + `(${estimatorIds.join(", ")}) is tested again under ` +
        "each setting with the same rules and thresholds, on these runs only (part 2a therefore " +
        "on fewer units than above when accuracy-vs-depth ran: its runs keep no sweep); the " +
        "parts that read accuracy or SNNL only keep their result. The other estimator fields " +
        `are the tracking's (eps ${base.eps}, ${base.centring} centring, ${base.label_kernel} ` +
        "label kernel).",
    },
    ...(check.n > 0
      ? [{
        type: "p" as const,
        text: `Check: under the tracking's own setting the sweep reproduces the tracked values ` +
          `(largest relative difference ${check.max.toExponential(1)} over ${check.n} values; ` +
          "the sweep's values are kept to six significant digits).",
      }]
      : []),
    { type: "h", level: 3, text: "Verdicts under each setting" },
    {
      type: "table",
      head: ["estimator", ...claimNumbers.map((n) => `claim ${n}`)],
      rows: under.map(({ setting, claims }) => [
        label(setting),
        ...claimNumbers.map((n) => claims.find((c) => c.number === n)!.verdict),
      ]),
    },
    {
      type: "list",
      items: claimNumbers.map((n) => {
        const title = main.find((c) => c.number === n)!.title;
        const by = new Map<Verdict, string[]>();
        for (const { setting, claims } of under) {
          const v = claims.find((c) => c.number === n)!.verdict;
          by.set(v, [...(by.get(v) ?? []), setting.label]);
        }
        const order: Verdict[] = ["held", "held partly", "did not hold", "not tested"];
        const parts = order.filter((v) => by.has(v)).map((v) =>
          by.get(v)!.length === under.length
            ? `**${v}** under every setting`
            : `**${v}** under ${by.get(v)!.join("; ")}`
        );
        return `Claim ${n} (${title}): ${parts.join("; ")}.`;
      }),
    },
    { type: "h", level: 3, text: "Parts under each setting" },
    {
      type: "p",
      text: "Each cell: whether the part holds under the setting, and in how many of its units " +
        "the test passes.",
    },
    {
      type: "table",
      head: ["estimator", ...estimatorIds],
      rows: under.map(({ setting, claims }) => [
        label(setting),
        ...estimatorIds.map((id) => cell(claims.flatMap((c) => c.parts).find((p) => p.id === id)!)),
      ]),
    },
  ];
  const tables = EXPERIMENT_LIST.flatMap((def) => {
    const e = suite.experiments.find((x) => x.name === def.name);
    if (!def.sweepTables || !e) return [];
    const swept = settings.map((s) => ({ setting: s, runs: sweptRuns(e.runs, s) as RunRecord[] }))
      .filter((x) => x.runs.length > 0);
    return swept.length ? def.sweepTables(swept) : [];
  });
  if (tables.length) out.push({ type: "h", level: 3, text: "The numbers behind them" }, ...tables);
  return out;
}

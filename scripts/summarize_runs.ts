/**
 * Summarises training results (one JSON per seed, as written by `deno task train --out`) as
 * Markdown: accuracy, layer differentiation and last-layer information-bottleneck measures per
 * method, mean ± sd over seeds, and a plain statement of whether the paper's claims held.
 *
 *   deno run -A scripts/summarize_runs.ts data/runs/mnist-mlp4-seed*.json > docs/results.md
 */
import { aggregateByMethod, fmtStat, type MethodAggregate } from "../lib/report/mod.ts";
import type { TrainingResult } from "../lib/train/mod.ts";

/** Markdown summary of several seeds of the same job. */
export function summarizeRuns(results: TrainingResult[]): string {
  const agg = aggregateByMethod(results);
  const r0 = results[0];
  const out: string[] = [];
  out.push(
    `Dataset ${r0.dataset.name} (${r0.dataset.train} train / ${r0.dataset.test} test), ` +
      `backend ${r0.backend.name} (${r0.backend.device}), seeds ${
        results.map((r) => r.seed).join(", ")
      }; ${r0.optimizer.epochs} epochs, batch ${r0.optimizer.batch_size}, Adam lr ${r0.optimizer.lr}; ` +
      `nHSIC on ${r0.tracking.probe_size} test samples in batches of ${r0.tracking.probe_batch}.`,
    "",
    "| method | test accuracy | differentiation | last-layer compression | last-layer label retention | last layer follows IB | early nHSIC(Y;T) (mean over layers) |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  );
  for (const a of agg) {
    out.push(
      `| ${a.label} | ${fmtStat(a.test_accuracy, 4)} | ${fmtStat(a.differentiation)} | ${
        fmtStat(a.last_compression)
      } | ${fmtStat(a.last_label_retention)} | ${a.last_follows_ib}/${a.seeds.length} | ${
        fmtStat(a.early_label_nhsic)
      } |`,
    );
  }
  out.push("", "Compression per layer (mean ± sd over seeds):", "");
  const names = agg[0].layer_compression.map((l) => l.name);
  out.push(`| method | ${names.join(" | ")} |`, `| --- | ${names.map(() => "---").join(" | ")} |`);
  for (const a of agg) {
    out.push(
      `| ${a.label} | ${a.layer_compression.map((l) => fmtStat(l.compression)).join(" | ")} |`,
    );
  }
  const e2e = agg.find((a) => a.label === "e2e");
  const lw = agg.find((a) => a.label.startsWith("layerwise"));
  if (e2e && lw) out.push("", ...claims(e2e, lw));
  return out.join("\n") + "\n";
}

/** The three claims of the training issue, checked with fixed rules (no tuning). */
function claims(e2e: MethodAggregate, lw: MethodAggregate): string[] {
  const verdict = (ok: boolean) => (ok ? "held" : "did not hold");
  const acc = e2e.test_accuracy.mean > lw.test_accuracy.mean;
  const diff = e2e.differentiation.mean > lw.differentiation.mean;
  const n = e2e.seeds.length;
  const ib = e2e.last_follows_ib > n / 2 && lw.last_follows_ib <= lw.seeds.length / 2;
  return [
    "Claims (rules fixed in advance: mean over seeds; IB by majority of seeds):",
    "",
    `- E2E more accurate than layer-wise: ${verdict(acc)} (${fmtStat(e2e.test_accuracy, 4)} vs ${
      fmtStat(lw.test_accuracy, 4)
    }).`,
    `- Higher layer differentiation in E2E: ${verdict(diff)} (${fmtStat(e2e.differentiation)} vs ${
      fmtStat(lw.differentiation)
    }).`,
    `- Information bottleneck in the last layer only under E2E: ${
      verdict(ib)
    } (E2E ${e2e.last_follows_ib}/${n} seeds, layer-wise ${lw.last_follows_ib}/${lw.seeds.length}).`,
  ];
}

if (import.meta.main) {
  const results = await Promise.all(
    Deno.args.map(async (f) => JSON.parse(await Deno.readTextFile(f)) as TrainingResult),
  );
  if (results.length === 0) {
    console.error("usage: summarize_runs.ts result1.json [result2.json ...]");
    Deno.exit(2);
  }
  console.log(summarizeRuns(results));
}

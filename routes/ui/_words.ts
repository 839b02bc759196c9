/**
 * The summaries of a result in words, for the viewer's pages: which layers compress, whether the
 * last layer follows the information bottleneck and why (or why not), how differentiated the
 * layers are, and which conclusions survive the estimator sweep. Definitions: docs/metrics.md.
 *
 * @module
 */
import type { AnalysisOutput } from "../../lib/analysis.ts";
import type { EstimatorConfig } from "../../lib/nhsic/mod.ts";

const f2 = (v: number) => v.toFixed(2);
const f3 = (v: number) => v.toFixed(3);
const pct = (v: number) => `${Math.round(v * 100)}%`;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "a, b and c". */
export function listing(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** An estimator in one line: "Gaussian kernel (sigma 5), exact on m = 512". */
export function estimatorText(
  e: EstimatorConfig & { batches?: number },
  m?: number,
): string {
  const kernel = e.kernel === "gaussian"
    ? `Gaussian kernel (sigma ${e.sigma}${e.distance === "plain" ? ", plain distance" : ""})`
    : "linear kernel";
  const on = m === undefined ? "" : ` on m = ${m}`;
  const batch = e.batch_size
    ? `averaged over ${
      e.batches ? plural(e.batches, "batch", "batches") : "batches"
    } of ${e.batch_size}${on}`
    : `exact${on}`;
  const extra = [
    e.eps !== 1e-5 ? `eps ${e.eps}` : "",
    e.centring !== "right" ? `${e.centring} centring` : "",
    e.label_kernel !== "linear" ? `${e.label_kernel} label kernel` : "",
    e.label_centring !== "none" ? `label centring ${e.label_centring}` : "",
  ].filter(Boolean);
  return `${kernel}, ${batch}${extra.length ? `; ${extra.join(", ")}` : ""}`;
}

/**
 * Paragraphs that say what an analysis found.
 *
 * @param a the analysis
 * @returns one string per paragraph (plain text)
 */
export function analysisWords(a: AnalysisOutput): string[] {
  const s = a.summary;
  const out: string[] = [];
  const cps = a.checkpoints.length;
  const layers = s.layers.length;
  out.push(
    `${plural(layers, "layer")} measured at ${plural(cps, "checkpoint")}` +
      (cps > 1 ? ` (steps ${s.first_step} to ${s.last_step})` : "") +
      ` on m = ${a.m} samples of ${plural(a.num_classes, "class", "classes")}; estimator: ` +
      `${estimatorText(a.estimator)}.`,
  );
  const last = s.last_layer;
  if (!s.dynamics) {
    const byY = [...s.layers].sort((p, q) => q.final_y - p.final_y)[0];
    out.push(
      "One checkpoint: there are no dynamics to read (compression needs several " +
        "checkpoints), only the depth profile. " +
        `The last layer (${last.name}) has nHSIC(X;T)/nHSIC(X;X) = ${f2(last.final_x)} and ` +
        `nHSIC(Y;T)/nHSIC(Y;Y) = ${f2(last.final_y)}; the layer most dependent on the labels ` +
        `is ${byY.name} (${f2(byY.final_y)}).`,
    );
    return out;
  }
  const t = s.thresholds;
  const compressing = s.layers.filter((l) => (l.compression ?? -Infinity) >= t.compression);
  if (compressing.length === 0) {
    const most = [...s.layers].sort((p, q) => (q.compression ?? 0) - (p.compression ?? 0))[0];
    if ((most.compression ?? 0) < 0.0005) {
      out.push(
        "No layer compresses: every layer's input dependence (nHSIC(X;T)/nHSIC(X;X)) is at " +
          "its highest at the last checkpoint.",
      );
    } else {
      out.push(
        `No layer compresses: none loses at least ${t.compression} of its input dependence ` +
          `(nHSIC(X;T)/nHSIC(X;X)) after its peak; the most is ${most.name} with ` +
          `${f3(most.compression ?? 0)}.`,
      );
    }
  } else {
    out.push(
      `${compressing.length === layers ? "Every layer compresses" : "Compressing layers"} ` +
        `(input dependence falls by at least ${t.compression} after its peak): ` +
        listing(
          compressing.map((l) => `${l.name} (${f3(l.compression!)}, peak at step ${l.peak_step})`),
        ) + ".",
    );
  }
  const ib = s.layers.filter((l) => l.follows_ib).map((l) => l.name);
  if (last.follows_ib) {
    out.push(
      `The last layer (${last.name}) follows the information bottleneck: its input dependence ` +
        `peaked at step ${last.peak_step} and then fell by ${f3(last.compression!)}, while it ` +
        `kept ${pct(last.label_retention!)} of its peak label dependence.`,
    );
  } else {
    const why: string[] = [];
    if ((last.compression ?? 0) < t.compression) {
      why.push(`it compresses by only ${f3(last.compression ?? 0)} (threshold ${t.compression})`);
    }
    if ((last.label_retention ?? 0) < t.label_retention) {
      why.push(
        `it keeps ${pct(last.label_retention ?? 0)} of its peak label dependence ` +
          `(threshold ${pct(t.label_retention)})`,
      );
    }
    if (why.length === 0 && last.peak_step === s.last_step) {
      why.push("its input dependence peaks at the last checkpoint");
    }
    out.push(
      `The last layer (${last.name}) does not follow the information bottleneck: ` +
        `${listing(why)}.`,
    );
  }
  if (ib.length > 0 && !(ib.length === 1 && ib[0] === last.name)) {
    out.push(`Layers that follow the information bottleneck: ${listing(ib)}.`);
  }
  if (s.differentiation) {
    const d = s.differentiation;
    out.push(
      `Layer differentiation (standard deviation of compression over the layers): ` +
        `${f3(d.score)}, mean compression ${f3(d.mean_compression)} (0 when every layer ` +
        "compresses alike; higher when the layers take different roles).",
    );
  }
  const r = a.robustness;
  if (r && r.conclusions.length > 0) {
    const shaky = r.conclusions.filter((c) => c.verdict === "depends on the estimator");
    const robust = r.conclusions.filter((c) => c.verdict === "robust");
    const absent = r.conclusions.filter((c) => c.verdict === "absent");
    out.push(
      `Across the ${r.settings} estimator settings of the sweep, of the ` +
        `${plural(r.conclusions.length, "conclusion")} about the layers, ` +
        `${robust.length} hold under (almost) every setting, ${absent.length} under (almost) ` +
        `none, and ${shaky.length} depend on the estimator` +
        (shaky.length ? `: ${listing(shaky.map((c) => c.statement))}` : "") + ".",
    );
  } else if (r?.note) out.push(`Robustness: ${r.note}.`);
  return out;
}

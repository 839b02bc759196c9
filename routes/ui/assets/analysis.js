// The page of an analysis: summaries in words, the per-layer table, reference values, the
// charts (information plane, nHSIC over checkpoints, depth profile, compression, similarity
// maps, the sweep's robustness) and downloads.
import { h, num } from "./core.js";
import { chartCards, resultPage, table, words, yesNo } from "./result.js";

resultPage({
  progressText: (p) => (p.total ? ` · ${p.done} of ${p.total} units` : ""),
  body(view) {
    const r = view.result;
    const settings = h(
      "section",
      { class: "card" },
      h("h2", {}, "Estimator"),
      h("p", {}, view.estimator_text),
      h(
        "details",
        {},
        h("summary", {}, "all settings"),
        table(
          [{ label: "setting" }, { label: "value" }],
          Object.entries(view.estimator).map(([k, v]) => [k, v === null ? "null" : String(v)]),
        ),
      ),
    );
    if (!r) {
      const waiting = view.status === "queued" || view.status === "running";
      return [
        h(
          "section",
          { class: "card" },
          h(
            "p",
            { class: "muted" },
            waiting
              ? "The analysis is being computed; this page fills in when it is done."
              : "This analysis has no result.",
          ),
        ),
        settings,
      ];
    }
    const robust = r.layers.some((l) => l.compression_verdict);
    const cols = [
      { label: "layer" },
      { label: "final X", num: true },
      { label: "final Y", num: true },
      { label: "peak X", num: true },
      { label: "peak at step", num: true },
      { label: "compression", num: true },
      { label: "label retention", num: true },
      { label: "follows IB" },
      ...(robust ? [{ label: "compression across sweep" }, { label: "IB across sweep" }] : []),
    ];
    const rows = r.layers.map((l) => [
      l.name,
      num(l.final_x),
      num(l.final_y),
      num(l.peak_x),
      l.peak_step ?? "—",
      num(l.compression),
      num(l.label_retention, 2),
      yesNo(l.follows_ib),
      ...(robust ? [l.compression_verdict, l.ib_verdict] : []),
    ]);
    const checkpointRows = r.checkpoints.flatMap((cp) =>
      cp.layers.map((l) => [
        cp.name ?? String(cp.step),
        l.name,
        num(l.nhsic_x),
        num(l.nhsic_y),
        num(l.nhsic_x_norm),
        num(l.nhsic_y_norm),
        num(l.cka_x),
        num(l.cka_y),
      ])
    );
    const planes = ["information-plane", "nhsic-vs-step"];
    return [
      h(
        "div",
        { class: "grid" },
        h("section", { class: "card" }, h("h2", {}, "What it shows"), words(r.words)),
        h(
          "section",
          { class: "card" },
          h("h2", {}, "Reference values"),
          h(
            "p",
            { class: "small muted" },
            "Every normalised value below is divided by these: the input's and the labels' " +
              "dependence on themselves.",
          ),
          table(
            [{ label: "quantity" }, { label: "value", num: true }],
            [
              ["nHSIC(X;X)", num(r.reference.nhsic_x_x, 4)],
              ["nHSIC(Y;Y)", num(r.reference.nhsic_y_y, 4)],
              ["samples (m)", String(view.m)],
              ["classes", String(r.num_classes)],
              ["compute", `${r.compute.linalg}, ${num(r.compute.seconds, 2)} s`],
            ],
          ),
        ),
      ),
      ...chartCards(view, planes),
      h(
        "section",
        { class: "card" },
        h("h2", {}, "Per layer"),
        h(
          "p",
          { class: "small muted" },
          "X = nHSIC(X;T)/nHSIC(X;X), Y = nHSIC(Y;T)/nHSIC(Y;Y). Compression = peak X − final " +
            "X; label retention = final Y / peak Y; a layer follows the information bottleneck " +
            "(IB) when it compresses by at least 0.05 after its peak and keeps 90% of its label " +
            "dependence.",
        ),
        table(cols, rows),
        h(
          "details",
          {},
          h("summary", {}, `every checkpoint (${checkpointRows.length} rows)`),
          table(
            [
              { label: "checkpoint" },
              { label: "layer" },
              { label: "nHSIC(X;T)", num: true },
              { label: "nHSIC(Y;T)", num: true },
              { label: "X (normalised)", num: true },
              { label: "Y (normalised)", num: true },
              { label: "CKA(X)", num: true },
              { label: "CKA(Y)", num: true },
            ],
            checkpointRows,
          ),
        ),
      ),
      ...chartCards(view, view.charts.map((c) => c.key).filter((k) => !planes.includes(k))),
      r.robustness?.conclusions?.length
        ? h(
          "section",
          { class: "card" },
          h("h2", {}, "Robustness across the estimator sweep"),
          table(
            [{ label: "conclusion" }, { label: "holds under", num: true }, { label: "verdict" }],
            r.robustness.conclusions.map((c) => [
              c.statement,
              `${c.holds} of ${r.robustness.settings}`,
              c.verdict,
            ]),
          ),
        )
        : null,
      settings,
    ];
  },
});

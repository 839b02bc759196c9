// The page of a training: while it trains, live curves and information planes drawn from its
// events; once done, the service's charts (accuracy, loss, the methods' information planes side
// by side, nHSIC over training, compression, depth profile) and each method's summary.
import { draw, h, num, pct, untitled, viewExport } from "./core.js";
import { chartCards, resultPage, table, words, yesNo } from "./result.js";

const METHOD = { scheme: "tableau10" };
const CONFIG = {
  padding: 10,
  title: { anchor: "start", fontSize: 15, subtitleColor: "#555", subtitleFontSize: 11.5 },
  axis: { gridColor: "#e8e8e8", domainColor: "#999", tickColor: "#999", titleFontWeight: "normal" },
  legend: { titleFontWeight: "normal" },
  view: { stroke: "#ddd" },
};

// Live data, kept across re-renders while the job runs.
const live = { accuracy: [], loss: [], plane: [], layers: [], charts: [] };

function liveSpecs() {
  const step = {
    field: "step",
    type: "quantitative",
    title: "training step",
    axis: { format: ",d", tickMinStep: 1 },
  };
  return [
    {
      name: "live-accuracy",
      spec: {
        $schema: "https://vega.github.io/schema/vega-lite/v5.json",
        title: { text: "Test accuracy (live)", subtitle: ["One point per tracking checkpoint."] },
        config: CONFIG,
        width: 420,
        height: 220,
        data: { name: "accuracy" },
        mark: { type: "line", point: { filled: true, size: 30 }, strokeWidth: 2.2 },
        encoding: {
          x: step,
          y: {
            field: "accuracy",
            type: "quantitative",
            axis: { format: ".0%" },
            scale: { domain: [0, 1] },
            title: "test accuracy",
          },
          color: { field: "method", type: "nominal", scale: METHOD, title: "method" },
          tooltip: [
            { field: "method" },
            { field: "step" },
            { field: "accuracy", format: ".2%" },
          ],
        },
      },
    },
    {
      name: "live-loss",
      spec: {
        $schema: "https://vega.github.io/schema/vega-lite/v5.json",
        title: {
          text: "Training loss (live)",
          subtitle: ["Loss of the training batches, a few steps a second."],
        },
        config: CONFIG,
        width: 420,
        height: 220,
        data: { name: "loss" },
        mark: { type: "line", strokeWidth: 1.8 },
        encoding: {
          x: step,
          y: { field: "loss", type: "quantitative", scale: { zero: false } },
          color: { field: "method", type: "nominal", scale: METHOD, title: "method" },
        },
      },
    },
    {
      name: "live-plane",
      spec: {
        $schema: "https://vega.github.io/schema/vega-lite/v5.json",
        title: {
          text: "Information plane (live)",
          subtitle: [
            "Raw nHSIC while it trains, one panel per method; the normalised plane appears " +
            "when the training is done.",
          ],
        },
        config: CONFIG,
        data: { name: "plane" },
        facet: { column: { field: "method", type: "nominal", header: { title: null } } },
        spec: {
          width: 300,
          height: 260,
          layer: [
            {
              mark: { type: "line", strokeWidth: 2, opacity: 0.85 },
              encoding: {
                x: {
                  field: "x",
                  type: "quantitative",
                  title: "nHSIC(X;T)",
                  scale: { zero: false },
                },
                y: {
                  field: "y",
                  type: "quantitative",
                  title: "nHSIC(Y;T)",
                  scale: { zero: false },
                },
                color: {
                  field: "layer",
                  type: "ordinal",
                  scale: { scheme: { name: "viridis", extent: [0, 0.88] } },
                  sort: { field: "depth" },
                  title: "layer (input → output)",
                },
                order: { field: "step", type: "quantitative" },
                detail: { field: "layer" },
              },
            },
            {
              mark: { type: "point", filled: true, size: 40 },
              encoding: {
                x: { field: "x", type: "quantitative" },
                y: { field: "y", type: "quantitative" },
                color: { field: "layer", type: "ordinal", sort: { field: "depth" } },
                tooltip: [
                  { field: "method" },
                  { field: "layer" },
                  { field: "step" },
                  { field: "x", format: ".3f", title: "nHSIC(X;T)" },
                  { field: "y", format: ".3f", title: "nHSIC(Y;T)" },
                ],
              },
            },
          ],
        },
      },
    },
  ];
}

let pending = false;
function refreshLive() {
  if (pending) return;
  pending = true;
  setTimeout(async () => {
    pending = false;
    for (const { el, data } of live.charts) {
      const view = el._view;
      if (!view) continue;
      for (const name of data) view.data(name, live[name].slice());
      // Axes and legends grow with the data: lay the chart out again.
      await view.resize().runAsync();
    }
  }, 400);
}

function onEvent(type, e) {
  if (type === "checkpoint") {
    live.accuracy.push({ method: e.method, step: e.step, accuracy: e.test_accuracy });
    e.layers.forEach((l, i) =>
      live.plane.push({
        method: e.method,
        layer: l.name,
        depth: i,
        step: e.step,
        x: l.nhsic_x,
        y: l.nhsic_y,
      })
    );
    refreshLive();
  } else if (type === "step" && Number.isFinite(e.loss)) {
    live.loss.push({ method: e.method, step: e.step, loss: e.loss });
    refreshLive();
  }
}

function liveSection() {
  live.charts = [];
  const cards = liveSpecs().map(({ name, spec }) => {
    const el = h("div", { class: "chart", dataset: { chart: name } });
    const caption = h("figcaption", { class: "small muted" });
    live.charts.push({ el, data: [spec.data.name] });
    draw(el, untitled(spec, caption)).then((view) => {
      el._view = view;
      refreshLive();
    }).catch(() => {});
    return h(
      "figure",
      { class: "card chart-card" },
      h("div", { class: "cap" }, h("h3", {}, spec.title.text), viewExport(el, name)),
      caption,
      el,
    );
  });
  return [
    h(
      "p",
      { class: "live-note" },
      "Live: drawn from the job's event stream as it trains; this page switches to the " +
        "finished charts when the job ends.",
    ),
    h("div", { class: "grid" }, cards[0], cards[1]),
    cards[2],
  ];
}

resultPage({
  progressText: (p) =>
    p.method
      ? ` · ${p.method}: epoch ${p.epoch} of ${p.epochs}, method ${
        Math.min(p.methods_done + 1, p.methods_total)
      } of ${p.methods_total}${
        p.test_accuracy != null ? `, test accuracy ${pct(p.test_accuracy)}` : ""
      }`
      : "",
  onEvent,
  body(view) {
    const setup = h(
      "section",
      { class: "card" },
      h("h2", {}, "Setup"),
      h(
        "dl",
        { class: "facts" },
        view.setup.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
        h("dt", {}, "nHSIC tracking"),
        h("dd", {}, view.estimator_text),
      ),
    );
    const r = view.result;
    if (!r) {
      const running = view.status === "queued" || view.status === "running";
      return running ? [...liveSection(), setup] : [setup];
    }
    const methods = h(
      "section",
      { class: "card" },
      h("h2", {}, "Methods"),
      table(
        [
          { label: "method" },
          { label: "final test accuracy", num: true },
          { label: "time", num: true },
          { label: "last layer follows IB" },
        ],
        r.methods.map((m) => [
          m.label,
          pct(m.final_test_accuracy),
          `${num(m.seconds, 1)} s`,
          yesNo(m.layers.at(-1)?.follows_ib ?? null),
        ]),
      ),
      h("p", { class: "small muted" }, `Backend ${r.backend}; ${num(r.seconds, 1)} s in all.`),
    );
    const perMethod = h(
      "section",
      { class: "card" },
      h("h2", {}, "What each method shows"),
      r.methods.map((m) =>
        h(
          "div",
          {},
          h("h3", {}, m.label),
          words(m.words),
          h(
            "details",
            {},
            h("summary", {}, "per layer"),
            table(
              [
                { label: "layer" },
                { label: "final X", num: true },
                { label: "final Y", num: true },
                { label: "compression", num: true },
                { label: "label retention", num: true },
                { label: "follows IB" },
              ],
              m.layers.map((l) => [
                l.name,
                num(l.final_x),
                num(l.final_y),
                num(l.compression),
                num(l.label_retention, 2),
                yesNo(l.follows_ib),
              ]),
            ),
          ),
        )
      ),
    );
    const first = ["accuracy", "loss"];
    return [
      methods,
      ...chartCards(view, first),
      ...chartCards(view, view.charts.map((c) => c.key).filter((k) => !first.includes(k))),
      perMethod,
      setup,
    ];
  },
});

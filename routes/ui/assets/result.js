// The frame of a result's page (analysis, training, experiment suite): loads its view document,
// draws the header, follows the job's events while it runs and draws the kind's body.
import {
  apiKey,
  badge,
  chartCard,
  download,
  embedded,
  fill,
  follow,
  getJson,
  h,
  progressBar,
  setTitle,
  sharePanel,
  showError,
  when,
} from "./core.js";

/**
 * Runs a result page. `kind.body(view, ctx)` returns the nodes below the header once loaded;
 * `kind.onEvent(type, data, ctx)` sees the job's events while it runs (optional);
 * `kind.progressText(progress)` words the progress (optional).
 */
export function resultPage(kind) {
  const { id } = document.body.dataset;
  const root = document.getElementById("result");
  const seg = { analysis: "analyses", training: "trainings", experiment: "experiments" }[
    document.body.dataset.kind
  ];
  const ids = [id];
  let stop = null;

  const load = async () => {
    let view;
    try {
      view = await getJson(`/ui/${seg}/${encodeURIComponent(id)}/view.json`, { ids });
    } catch (e) {
      fill(root);
      showError(e, root);
      return;
    }
    setTitle(view.title);
    const ctx = { view, ids, root };
    const progress = h("div", { id: "progress" });
    const setProgress = (p) =>
      fill(progress, p ? progressBar(p, kind.progressText?.(p) ?? "") : null);
    setProgress(view.status === "running" ? view.progress : null);
    ctx.setProgress = setProgress;
    fill(root, header(view, progress), ...(await kind.body(view, ctx)));
    const active = view.status === "queued" || view.status === "running";
    if (active && !stop) {
      stop = new AbortController();
      follow(view.events, ids, (type, data) => {
        if (type === "progress") setProgress(data);
        else if (type === "end") {
          stop = null;
          load();
        } else if (type !== "error") kind.onEvent?.(type, data, ctx);
        const b = document.getElementById("status");
        if (b && type === "started" && view.status === "queued") {
          view.status = "running";
          fill(b, badge("running"));
        }
      }, stop.signal);
    }
  };
  load();
}

function header(view, progress) {
  const shareSlot = h("div");
  const actions = h(
    "div",
    { class: "actions noembed" },
    view.downloads.map((d) =>
      h("button", {
        type: "button",
        class: "secondary",
        onclick: () => download(d.url, d.filename, [view.id]).catch((e) => showError(e)),
      }, `⤓ ${d.label}`)
    ),
    apiKey()
      ? h("button", {
        type: "button",
        onclick: () => fill(shareSlot, sharePanel(`${view.api}/links`, () => fill(shareSlot))),
      }, "Share link")
      : null,
  );
  const facts = [
    ["kind", view.kind === "experiment" ? "experiment suite" : view.kind],
    ["id", h("code", {}, view.id)],
    ["created", when(view.created_at)],
    view.finished_at ? ["finished", when(view.finished_at)] : null,
    ["API", h("a", { href: view.api }, view.api)],
  ].filter(Boolean);
  return h(
    "section",
    { class: "card" },
    embedded ? null : h("p", { class: "crumbs" }, h("a", { href: "/" }, "← all results")),
    h(
      "div",
      { class: "head" },
      h(
        "div",
        { class: "grow" },
        h("h1", {}, view.title, " ", h("span", { id: "status" }, badge(view.status))),
        h("div", { class: "muted" }, view.subtitle),
      ),
      actions,
    ),
    view.error
      ? h(
        "div",
        { class: "notice error", role: "alert" },
        h("strong", {}, `This ${view.kind} ${view.status}.`),
        view.error.message,
        view.error.field ? ` (field: ${view.error.field})` : "",
      )
      : null,
    progress,
    embedded
      ? null
      : h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    shareSlot,
  );
}

/** Cards of the charts of a view (all of them, or those named). */
export function chartCards(view, names) {
  const refs = names
    ? names.map((n) => view.charts.find((c) => c.key === n)).filter(Boolean)
    : view.charts;
  return refs.map((ref) => chartCard(ref, [view.id]));
}

/** A table: `cols` of {label, num?}, `rows` of cell arrays (nodes or text). */
export function table(cols, rows, rowClass) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h(
        "thead",
        {},
        h("tr", {}, cols.map((c) => h("th", { class: c.num ? "num" : null }, c.label))),
      ),
      h(
        "tbody",
        {},
        rows.map((r, i) =>
          h(
            "tr",
            { class: rowClass?.(i) ?? null },
            r.map((cell, j) => h("td", { class: cols[j]?.num ? "num" : null }, cell)),
          )
        ),
      ),
    ),
  );
}

/** Words as paragraphs. */
export function words(paragraphs) {
  return h("div", { class: "words" }, paragraphs.map((p) => h("p", {}, p)));
}

/** A yes/no/n-a cell with a symbol. */
export function yesNo(v) {
  if (v === null || v === undefined) return h("span", { class: "muted" }, "n/a");
  return v
    ? h("span", { class: "verdict-yes" }, "✓ yes")
    : h("span", { class: "verdict-no" }, "✕ no");
}

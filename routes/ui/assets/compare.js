// The compare page: two to four results side by side on shared axes, the estimator settings of
// each, and a warning when they differ.
import {
  badge,
  drawLater,
  embedded,
  fill,
  getJson,
  h,
  setTitle,
  showError,
  untitled,
  viewExport,
} from "./core.js";
import { table } from "./result.js";

const root = document.getElementById("compare");
const ids = (document.body.dataset.ids ?? "").split(",").map((s) => s.trim()).filter(Boolean);

function without(id) {
  const rest = ids.filter((x) => x !== id);
  return rest.length >= 2 ? `/ui/compare?ids=${rest.map(encodeURIComponent).join(",")}` : "/";
}

async function main() {
  if (ids.length < 2) {
    fill(
      root,
      h(
        "section",
        { class: "card" },
        h("h1", {}, "Compare results"),
        h(
          "p",
          {},
          "Pick two to four finished analyses or trainings on ",
          h("a", { href: "/" }, "the results page"),
          " (tick them, then “Compare”), or open /ui/compare?ids=a,b.",
        ),
      ),
    );
    return;
  }
  let view;
  try {
    view = await getJson(`/ui/compare.json?ids=${ids.map(encodeURIComponent).join(",")}`, { ids });
  } catch (e) {
    fill(root);
    showError(e, root);
    return;
  }
  setTitle(`Compare ${view.items.map((i) => i.title).join(" · ")}`);
  const cards = view.items.map((it) =>
    h(
      "section",
      { class: "card" },
      h(
        "div",
        { class: "head" },
        h(
          "div",
          { class: "grow" },
          h("h3", {}, h("a", { href: it.page }, it.title), " ", badge(it.status)),
          h("div", { class: "small muted" }, `${it.kind} · ${it.subtitle}`),
        ),
        embedded ? null : h(
          "a",
          { class: "small noembed", href: without(it.id), title: "compare without it" },
          "remove",
        ),
      ),
      it.estimator_text ? h("p", { class: "small" }, "Estimator: ", it.estimator_text) : null,
      it.note ? h("p", { class: "small muted" }, it.note) : null,
    )
  );
  const drawnItems = view.items.filter((it) => it.panels.length > 0);
  const settings = h(
    "section",
    { class: "card" },
    h("h2", {}, "Estimator settings"),
    table(
      [{ label: "setting" }, ...view.items.map((it) => ({ label: it.title }))],
      view.settings.map((s) => [
        s.differs ? `⚠ ${s.name}` : s.name,
        ...s.values.map((v) => v ?? "—"),
      ]),
      (i) => (view.settings[i].differs ? "differs" : null),
    ),
  );
  const charts = view.charts.map((c) => {
    const el = h("div", { class: "chart", dataset: { chart: c.name } });
    const caption = h("figcaption", { class: "small muted noembed" });
    drawLater(el, () => untitled(c.spec, caption));
    return h(
      "figure",
      { class: "card chart-card", id: `chart-${c.name}` },
      h("div", { class: "cap" }, h("h3", {}, c.title), viewExport(el, `compare-${c.name}`)),
      caption,
      el,
    );
  });
  fill(
    root,
    embedded ? null : h("p", { class: "crumbs" }, h("a", { href: "/" }, "← all results")),
    h("h1", { class: "noembed" }, `Comparing ${view.items.length} results`),
    view.warning
      ? h(
        "div",
        { class: "notice", role: "alert", id: "estimator-warning" },
        h("strong", {}, "⚠ The estimators differ"),
        view.warning,
      )
      : null,
    h("div", { class: "grid" }, cards),
    drawnItems.length === 0
      ? h("p", { class: "notice" }, "None of these results can be drawn yet.")
      : null,
    settings,
    ...charts,
  );
}

main();

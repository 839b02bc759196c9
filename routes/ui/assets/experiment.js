// The page of an experiment suite: progress while it runs; once done, the verdict on each of
// the paper's claims, the runs, and the report (HTML and Markdown).
import { api, apiKey, duration, h, pct, showError } from "./core.js";
import { resultPage, table } from "./result.js";

/** Opens the report: directly, or with a short share token when the page holds the key. */
async function openReport(view) {
  if (!apiKey()) {
    location.href = view.report.html;
    return;
  }
  try {
    const res = await api(`${view.api}/links`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ expires_in_s: 600 }),
    });
    const link = await res.json();
    location.href = `${view.report.html}?token=${encodeURIComponent(link.token)}`;
  } catch (e) {
    showError(e);
  }
}

/** `content` inside a fold when `fold`. */
function foldIf(fold, label, content) {
  return fold ? h("details", {}, h("summary", {}, label), content) : content;
}

resultPage({
  progressText: (p) =>
    p.method ? ` · ${p.methods_done} of ${p.methods_total} method trainings; now ${p.method}` : "",
  body(view) {
    const req = view.request;
    const setup = h(
      "section",
      { class: "card" },
      h("h2", {}, "Suite"),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "experiments"),
        h("dd", {}, req.names.join(", ")),
        h("dt", {}, "scale"),
        h("dd", {}, req.scale),
        h("dt", {}, "backend"),
        h("dd", {}, req.backend),
        h("dt", {}, "runs"),
        h("dd", {}, String(view.runs_total)),
      ),
    );
    const r = view.result;
    if (!r) {
      return [
        h(
          "section",
          { class: "card" },
          h(
            "p",
            { class: "muted" },
            view.status === "queued" || view.status === "running"
              ? "The suite is running; its report appears here when it is done."
              : "This suite has no result.",
          ),
        ),
        setup,
      ];
    }
    return [
      h(
        "section",
        { class: "card" },
        h("h2", {}, "Report"),
        h(
          "p",
          {},
          "Each of the paper's claims with the measured numbers, the verdict and the rule " +
            "behind it, the figures, settings and seeds.",
        ),
        h(
          "p",
          { class: "downloads" },
          h("button", { type: "button", onclick: () => openReport(view) }, "Open the report"),
        ),
      ),
      h(
        "section",
        { class: "card" },
        h("h2", {}, "Verdicts"),
        table(
          [{ label: "#" }, { label: "claim" }, { label: "verdict" }],
          r.verdicts.map((v) => [
            String(v.number),
            h("span", { title: v.claim }, v.title),
            h("strong", {}, v.verdict),
          ]),
        ),
      ),
      r.failures.length
        ? h(
          "section",
          { class: "notice error" },
          h("strong", {}, `${r.failures.length} run(s) failed`),
          table([{ label: "run" }, { label: "error" }], r.failures.map((f) => [f.key, f.message])),
        )
        : null,
      h(
        "section",
        { class: "card" },
        h("h2", {}, `Runs (${r.runs.length})`),
        h(
          "p",
          { class: "small muted" },
          `Wall time ${duration(r.wall_seconds)}. Each run trains its methods on one ` +
            "configuration and seed; the report aggregates them.",
        ),
        foldIf(
          r.runs.length > 12,
          `all ${r.runs.length} runs`,
          table(
            [
              { label: "run" },
              { label: "experiment" },
              { label: "seed", num: true },
              { label: "final test accuracy by method" },
              { label: "time", num: true },
            ],
            r.runs.map((run) => [
              h("span", { id: `run-${run.key}` }, run.key),
              run.experiment,
              String(run.seed),
              run.methods.map((m) => `${m.label} ${pct(m.test_accuracy)}`).join(" · "),
              duration(run.seconds),
            ]),
          ),
        ),
      ),
      setup,
    ];
  },
});

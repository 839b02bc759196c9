// The list of the caller's jobs: label search and status/kind filters (kept in the address),
// newest first with "More" (the API's cursor), a selection to compare, and live updates: while
// a listed job is queued or running, the list is fetched again every 2 s (every 15 s otherwise,
// to show new jobs; never while the tab is hidden).
import {
  ago,
  api,
  badge,
  fill,
  getJson,
  h,
  HttpError,
  progressBar,
  showError,
  when,
} from "./core.js";

const SEG = { analysis: "analyses", training: "trainings", experiment: "experiments" };
const KIND = { analysis: "analysis", training: "training", experiment: "experiment suite" };
const PICKED = "infoplane.compare";
const ACTIVE_MS = 2000;
const IDLE_MS = 15000;

const form = document.getElementById("filters");
const list = document.getElementById("jobs");
const more = document.getElementById("more");
const note = document.getElementById("live");
const bar = document.getElementById("compare-bar");
const count = document.getElementById("compare-count");
const go = document.getElementById("compare-go");

let picked = [];
try {
  picked = JSON.parse(sessionStorage.getItem(PICKED) ?? "[]");
} catch { /* none */ }

let items = [];
let next = null;
let stopped = false;
let timer = null;
let lastCheck = 0;

const params = new URLSearchParams(location.search);
for (const k of ["label", "status", "kind"]) form.elements[k].value = params.get(k) ?? "";

function filters() {
  const q = new URLSearchParams();
  for (const k of ["label", "status", "kind"]) {
    const v = form.elements[k].value.trim();
    if (v) q.set(k, v);
  }
  return q;
}

function filtered() {
  return [...filters().keys()].length > 0;
}

async function reload(keep) {
  const q = filters();
  q.set("limit", String(keep ? Math.min(200, Math.max(20, items.length)) : 20));
  try {
    const page = await getJson(`/v1/jobs?${q}`);
    items = page.items;
    // A refresh that covers every listed job keeps the cursor of its own last page.
    next = page.next;
    lastCheck = Date.now();
    render();
  } catch (e) {
    if (e instanceof HttpError && e.status === 401) stopped = true;
    else showError(e, list);
  }
}

async function loadMore() {
  if (!next) return;
  more.disabled = true;
  try {
    const page = await getJson(next);
    const known = new Set(items.map((j) => j.id));
    items.push(...page.items.filter((j) => !known.has(j.id)));
    next = page.next;
    render();
  } catch (e) {
    showError(e, list);
  } finally {
    more.disabled = false;
  }
}

function savePicked() {
  sessionStorage.setItem(PICKED, JSON.stringify(picked));
  updateBar();
}

function updateBar() {
  bar.hidden = picked.length === 0;
  const ok = picked.length >= 2 && picked.length <= 4;
  fill(
    count,
    `${picked.length} selected`,
    ok ? "" : picked.length > 4 ? " (at most 4)" : " (pick 2 to 4)",
  );
  go.href = `/ui/compare?ids=${picked.map(encodeURIComponent).join(",")}`;
  go.classList.toggle("secondary", !ok);
  go.setAttribute("aria-disabled", ok ? "false" : "true");
  go.onclick = ok ? null : (e) => e.preventDefault();
}

function row(j) {
  const page = `/ui/${SEG[j.kind]}/${encodeURIComponent(j.id)}`;
  const title = j.label ?? `(no label) …${j.id.slice(-8)}`;
  const comparable = j.kind !== "experiment" && j.status === "done";
  const pick = h("input", {
    type: "checkbox",
    class: "pick",
    title: comparable ? "select to compare" : "only finished analyses and trainings compare",
    "aria-label": `compare ${title}`,
    checked: picked.includes(j.id),
    disabled: !comparable,
    onchange: (e) => {
      picked = e.target.checked
        ? [...new Set([...picked, j.id])]
        : picked.filter((x) => x !== j.id);
      savePicked();
    },
  });
  return h(
    "article",
    { class: "job", dataset: { id: j.id, status: j.status, kind: j.kind } },
    pick,
    h(
      "div",
      { class: "main" },
      h(
        "div",
        { class: "line1" },
        h("a", { class: `title${j.label ? "" : " nolabel"}`, href: page }, title),
        badge(j.status),
        h("span", { class: "chip" }, KIND[j.kind] ?? j.kind),
      ),
      h("div", { class: "meta" }, j.summary),
      j.status === "running" ? progressBar(j.progress) : null,
    ),
    h(
      "div",
      { class: "side", title: `created ${when(j.created_at)}` },
      ago(j.created_at),
      j.finished_at && j.status === "done"
        ? h("div", {}, `took ${took(j.created_at, j.finished_at)}`)
        : null,
    ),
  );
}

function took(a, b) {
  const s = (Date.parse(b) - Date.parse(a)) / 1000;
  if (!Number.isFinite(s)) return "";
  return s < 60
    ? `${s.toFixed(1)} s`
    : s < 3600
    ? `${Math.round(s / 60)} min`
    : `${(s / 3600).toFixed(1)} h`;
}

function render() {
  if (items.length === 0) fill(list, filtered() ? noMatch() : gettingStarted());
  else fill(list, items.map(row));
  more.hidden = !next;
  updateBar();
  schedule();
}

function noMatch() {
  return h("div", { class: "card" }, "No results match these filters.");
}

function gettingStarted() {
  const o = location.origin;
  const started = h("span", { class: "small muted" });
  const demo = async () => {
    fill(started, "starting…");
    try {
      const res = await api("/v1/trainings", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          label: "demo: MLP on MNIST, E2E vs layer-wise",
          model: { preset: "mlp", depth: 3 },
          dataset: { name: "mnist", train_limit: 10000, test_limit: 1000 },
          methods: [{ name: "e2e" }, { name: "layerwise" }],
          optimizer: { epochs: 3 },
        }),
      });
      const job = await res.json();
      location.href = `/ui/trainings/${encodeURIComponent(job.id)}`;
    } catch (e) {
      showError(e, started);
    }
  };
  return h(
    "section",
    { class: "card empty" },
    h("h2", {}, "No results yet"),
    h(
      "p",
      {},
      "Analyse the activations of a network you trained (an .npz of x, y and one array per " +
        "layer, optionally per checkpoint):",
    ),
    h("pre", {}, `curl -F dump=@activations.npz -F label="my network" ${o}/v1/analyses`),
    h("p", {}, "or let the service train a small network and track it:"),
    h(
      "p",
      {},
      h("button", { type: "button", onclick: demo }, "Train a small MLP on MNIST"),
      " ",
      started,
    ),
    h(
      "p",
      { class: "small muted" },
      "(10,000 images, 3 epochs, E2E against layer-wise training: seconds with OpenBLAS, " +
        "a minute or two without; the page follows it live). `deno task demo` analyses a " +
        "trained MLP from a terminal. Everything is described at ",
      h("a", { href: "/docs" }, "/docs"),
      ".",
    ),
  );
}

function schedule() {
  clearTimeout(timer);
  if (stopped) return;
  const active = items.some((j) => j.status === "queued" || j.status === "running");
  const every = active ? ACTIVE_MS : IDLE_MS;
  fill(
    note,
    active
      ? "Live: jobs are running; this list refreshes every 2 seconds."
      : `Checked ${
        lastCheck ? new Date(lastCheck).toLocaleTimeString() : "—"
      }; refreshes every 15 seconds.`,
  );
  timer = setTimeout(() => {
    if (document.hidden) schedule();
    else reload(true);
  }, every);
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden && Date.now() - lastCheck > ACTIVE_MS) reload(true);
});

let typing = null;
form.addEventListener("input", () => {
  clearTimeout(typing);
  typing = setTimeout(() => {
    const q = filters();
    history.replaceState(null, "", q.size ? `?${q}` : location.pathname);
    reload(false);
  }, 250);
});
form.addEventListener("submit", (e) => e.preventDefault());
more.addEventListener("click", loadMore);
document.getElementById("compare-clear").addEventListener("click", () => {
  picked = [];
  savePicked();
  for (const box of list.querySelectorAll("input.pick")) box.checked = false;
});

reload(false);

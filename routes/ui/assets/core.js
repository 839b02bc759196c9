// infoplane viewer: what every page shares. Authentication (an API key kept in
// sessionStorage, or share-link tokens taken from the URL fragment), requests, server-sent
// events over fetch (so that they can carry the key), a DOM builder that only ever writes
// text (user strings are never parsed as HTML), formatting, charts and downloads.

const KEY = "infoplane.key";
const TOKENS = "infoplane.tokens";

/** The API key given in this tab, or null. */
export function apiKey() {
  return sessionStorage.getItem(KEY);
}

function decodeToken(t) {
  try {
    const p = t.split(".")[0].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(p));
  } catch {
    return null;
  }
}

function tokens() {
  let all = {};
  try {
    all = JSON.parse(sessionStorage.getItem(TOKENS) ?? "{}") ?? {};
  } catch {
    all = {};
  }
  const now = Date.now() / 1000;
  for (const [id, t] of Object.entries(all)) {
    const c = decodeToken(t);
    if (!c || c.e <= now) delete all[id];
  }
  return all;
}

function saveToken(t) {
  const claims = decodeToken(t);
  if (!claims || typeof claims.i !== "string") return;
  const all = tokens();
  all[claims.i] = t;
  sessionStorage.setItem(TOKENS, JSON.stringify(all));
}

// A share link carries its token in the fragment (#token=...), which browsers never send to a
// server: keep it for this tab and take it out of the address bar.
(function takeToken() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!m) return;
  saveToken(decodeURIComponent(m[1]));
  history.replaceState(null, "", location.pathname + location.search);
})();

/** Whether a share-link token for `id` is held. */
export function hasToken(id) {
  return id in tokens();
}

/** A held share-link token for `id`, or null. */
export function tokenFor(id) {
  return tokens()[id] ?? null;
}

/** Headers that authenticate a request about `ids`: the key, else their share tokens. */
export function authHeaders(ids = []) {
  const key = apiKey();
  if (key) return { authorization: `Bearer ${key}` };
  const all = tokens();
  const held = ids.map((id) => all[id]).filter(Boolean);
  return held.length ? { "x-infoplane-token": held.join(" ") } : {};
}

/** A failed request, with the service's problem+json when there was one. */
export class HttpError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function problemOf(res) {
  try {
    return await res.json();
  } catch {
    return null;
  }
}

/**
 * fetch() with the caller's credentials; throws HttpError for non-2xx answers (and asks for a
 * key on 401).
 */
export async function api(path, { ids = [], headers = {}, ...init } = {}) {
  const res = await fetch(path, {
    ...init,
    headers: { accept: "application/json", ...authHeaders(ids), ...headers },
  });
  if (!res.ok) {
    const problem = await problemOf(res);
    if (res.status === 401) askForKey(problem?.detail);
    throw new HttpError(res.status, problem);
  }
  return res;
}

/** GET and parse JSON. */
export async function getJson(path, opts = {}) {
  return await (await api(path, opts)).json();
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/**
 * Follows a job's server-sent events (fetch-based: it sends the key or token, which
 * EventSource cannot). Calls `on(type, data)` for each event; reconnects with Last-Event-ID
 * after a drop; stops after `end`, on an HTTP error below 500 or when `signal` aborts.
 */
export function follow(path, ids, on, signal) {
  let last = null;
  (async () => {
    while (!signal?.aborted) {
      try {
        const res = await api(path, {
          ids,
          signal,
          headers: { accept: "text/event-stream", ...(last ? { "last-event-id": last } : {}) },
        });
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        let ev = {};
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let nl;
          while ((nl = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, nl).replace(/\r$/, "");
            buf = buf.slice(nl + 1);
            if (line === "") {
              if (ev.data !== undefined) {
                if (ev.id) last = ev.id;
                let data = ev.data;
                try {
                  data = JSON.parse(ev.data);
                } catch { /* plain text */ }
                const type = ev.event || "message";
                on(type, data);
                if (type === "end") {
                  reader.cancel().catch(() => {});
                  return;
                }
              }
              ev = {};
            } else if (!line.startsWith(":")) {
              const i = line.indexOf(":");
              const field = i < 0 ? line : line.slice(0, i);
              const val = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
              if (field === "data") ev.data = ev.data === undefined ? val : `${ev.data}\n${val}`;
              else if (field === "event") ev.event = val;
              else if (field === "id") ev.id = val;
            }
          }
        }
      } catch (e) {
        if (signal?.aborted) return;
        if (e instanceof HttpError && e.status < 500) {
          on("error", e);
          return;
        }
      }
      await sleep(1500);
    }
  })();
}

// ---------------------------------------------------------------------------------------------
// DOM

/**
 * Builds an element. `attrs`: `class`, `text`, `on<event>` handlers, `dataset`, `style`
 * (object), booleans, anything else as an attribute. Children: nodes, strings (as text, never
 * HTML), arrays, null/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "style") Object.assign(el.style, v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's content. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// ---------------------------------------------------------------------------------------------
// Formatting

/** A number with `d` decimals, or "—". */
export function num(v, d = 3) {
  return typeof v === "number" && Number.isFinite(v) ? v.toFixed(d) : "—";
}

/** A fraction as a percentage. */
export function pct(v, d = 1) {
  return typeof v === "number" && Number.isFinite(v) ? `${(v * 100).toFixed(d)}%` : "—";
}

/** "3 min 5 s". */
export function duration(s) {
  if (typeof s !== "number" || !Number.isFinite(s)) return "—";
  const t = Math.round(s);
  const hh = Math.floor(t / 3600), mm = Math.floor((t % 3600) / 60), ss = t % 60;
  if (hh) return `${hh} h ${mm} min`;
  if (mm) return `${mm} min ${ss} s`;
  return `${s < 10 ? s.toFixed(1) : ss} s`;
}

/** "5 min ago" (with the exact time as a tooltip by the caller). */
export function ago(iso) {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return "";
  const s = Math.max(0, (Date.now() - t) / 1000);
  if (s < 45) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  if (s < 7 * 86400) return `${Math.round(s / 86400)} d ago`;
  return new Date(t).toLocaleDateString();
}

/** A local date and time. */
export function when(iso) {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? new Date(t).toLocaleString() : "—";
}

const SYMBOLS = { queued: "…", running: "●", done: "✓", failed: "✕", cancelled: "⊘" };

/** A status badge: symbol and word. */
export function badge(status) {
  return h(
    "span",
    { class: `badge ${status}`, title: `status: ${status}` },
    h("span", { class: "sym", "aria-hidden": "true" }, SYMBOLS[status] ?? "?"),
    status,
  );
}

/** A progress bar with its words ("42% · 1 min 3 s left"). */
export function progressBar(p, extra = "") {
  if (!p) return null;
  const f = Math.max(0, Math.min(1, p.fraction ?? 0));
  const left = p.eta_s != null ? ` · about ${duration(p.eta_s)} left` : "";
  return h(
    "div",
    { class: "progress-wrap" },
    h(
      "div",
      {
        class: "progress",
        role: "progressbar",
        "aria-valuemin": 0,
        "aria-valuemax": 100,
        "aria-valuenow": Math.round(f * 100),
      },
      h("span", { style: { width: `${(f * 100).toFixed(1)}%` } }),
    ),
    h("div", { class: "small muted" }, `${Math.round(f * 100)}%${left}${extra}`),
  );
}

/** The page's title in the tab. */
export function setTitle(t) {
  document.title = `${t} · infoplane`;
}

/** Whether the page is embedded (?embed=1). */
export const embedded = document.body.classList.contains("embed");

// ---------------------------------------------------------------------------------------------
// Key and share links

function authSlot() {
  const slot = document.getElementById("auth");
  if (!slot) return;
  if (apiKey()) {
    fill(
      slot,
      h("span", { title: "kept in this tab only (sessionStorage)" }, "API key set"),
      h("button", {
        class: "link",
        type: "button",
        onclick: () => {
          sessionStorage.removeItem(KEY);
          location.reload();
        },
      }, "forget"),
    );
  } else fill(slot);
}

let asked = false;

/** Shows the form that asks for the API key (once per page). */
export function askForKey(detail) {
  if (asked) return;
  asked = true;
  const main = document.getElementById("main");
  const input = h("input", {
    type: "password",
    name: "key",
    placeholder: "API key",
    autocomplete: "off",
    required: true,
    "aria-label": "API key",
  });
  const panel = h(
    "div",
    { class: "panel", id: "key-panel" },
    h("strong", {}, "This service needs an API key."),
    h(
      "p",
      { class: "small muted" },
      detail ? `${detail}. ` : "",
      "Enter it once: it is kept in this browser tab only (sessionStorage) and sent with the " +
        "page's requests as a header, never in a URL. Or open a share link you were given.",
    ),
    h(
      "form",
      {
        onsubmit: (e) => {
          e.preventDefault();
          const v = input.value.trim();
          if (!v) return;
          sessionStorage.setItem(KEY, v);
          location.reload();
        },
      },
      input,
      h("button", { type: "submit" }, "Use key"),
    ),
  );
  main.prepend(panel);
  input.focus();
}

/** Shows an error on the page (or in `where`). */
export function showError(e, where) {
  if (e instanceof HttpError && e.status === 401) return;
  const text = e instanceof HttpError
    ? `${e.problem?.title ?? "Error"} (${e.status}): ${e.message}`
    : String(e?.message ?? e);
  const box = h("div", { class: "notice error", role: "alert" }, text);
  if (where) fill(where, box);
  else document.getElementById("main").prepend(box);
}

/**
 * A share-link panel for a result: asks the API for a signed, expiring link and shows the page
 * and embed URLs to copy. Needs the key (only its holder may share).
 */
export function sharePanel(shareUrl, onClose) {
  const out = h("div", { class: "embed-code" });
  const ttl = h(
    "select",
    { "aria-label": "valid for" },
    h("option", { value: "3600" }, "1 hour"),
    h("option", { value: "86400" }, "1 day"),
    h("option", { value: "604800" }, "7 days"),
  );
  const make = async () => {
    try {
      const res = await api(shareUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ expires_in_s: Number(ttl.value) }),
      });
      const link = await res.json();
      const plane = link.charts?.["information-plane"];
      fill(
        out,
        h("p", {}, `Valid until ${when(link.expires_at)}. Anyone with it can read this result.`),
        field("Page", link.url),
        field(
          "Embed (iframe)",
          `<iframe src="${link.embed_url}" width="100%" height="720"></iframe>`,
        ),
        plane ? field("Information plane (PNG)", plane.png) : null,
      );
    } catch (e) {
      showError(e, out);
    }
  };
  return h(
    "div",
    { class: "panel" },
    h("strong", {}, "Share this result"),
    h(
      "p",
      { class: "small muted" },
      "A signed link that opens this result (read only) without your key, until it expires.",
    ),
    h(
      "form",
      { onsubmit: (e) => (e.preventDefault(), make()) },
      h("label", {}, "valid for ", ttl),
      h("button", { type: "submit" }, "Create link"),
      h("button", { type: "button", class: "secondary", onclick: onClose }, "Close"),
    ),
    out,
  );
}

function field(label, value) {
  const ta = h("textarea", { rows: 2, readonly: true }, value);
  return h(
    "div",
    {},
    h(
      "div",
      { class: "small" },
      label,
      " ",
      h("button", {
        type: "button",
        class: "link",
        onclick: () => navigator.clipboard?.writeText(value),
      }, "copy"),
    ),
    ta,
  );
}

// ---------------------------------------------------------------------------------------------
// Downloads and charts

/** Downloads `url` (with credentials) as `filename`. */
export async function download(url, filename, ids) {
  const res = await api(url, { ids, headers: { accept: "*/*" } });
  const blob = await res.blob();
  const href = URL.createObjectURL(blob);
  const a = h("a", { href, download: filename, style: { display: "none" } });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}

/** The font the service renders charts with (served from its own node_modules). */
const CHART_FONT = "Inter, Helvetica, Arial, sans-serif";

/** Draws a Vega-Lite spec into `el` with vega-embed (SVG, no eval: CSP-safe); the vega View. */
export async function draw(el, spec) {
  if (!globalThis.vegaEmbed) throw new Error("vega-embed did not load");
  el.classList.add("loading");
  try {
    const config = { ...(spec.config ?? {}), font: spec.config?.font ?? CHART_FONT };
    const result = await globalThis.vegaEmbed(el, { ...spec, config }, {
      renderer: "svg",
      actions: false,
      ast: true,
      // Warnings (e.g. the empty extents of a live chart before its first point) stay quiet.
      logLevel: globalThis.vega?.Error ?? 1,
      tooltip: { theme: "light" },
    });
    el.classList.remove("failed");
    return result.view;
  } catch (e) {
    el.classList.add("failed");
    el.textContent = `The chart could not be drawn: ${e.message}`;
    throw e;
  } finally {
    el.classList.remove("loading");
  }
}

// Charts are drawn when they come near the screen, one at a time (a phone or a busy machine
// stays responsive on a page of many charts).
const queue = [];
let drawing = false;

async function pump() {
  if (drawing) return;
  drawing = true;
  while (queue.length) {
    const job = queue.shift();
    try {
      await job();
    } catch (e) {
      console.warn(e);
    }
  }
  drawing = false;
}

const seen = "IntersectionObserver" in globalThis
  ? new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      seen.unobserve(e.target);
      e.target._draw?.();
    }
  }, { rootMargin: "400px 0px" })
  : null;

/** Draws into `el` when it is about to be seen: `make` returns the spec. */
export function drawLater(el, make) {
  el._draw = () => {
    queue.push(async () => {
      const spec = await make();
      el._view = await draw(el, spec);
    });
    pump();
  };
  if (seen) seen.observe(el);
  else el._draw();
}

/**
 * A chart's card: title, description, tools (PNG, SVG, spec, its page, embed code) and the
 * chart, drawn from its spec URL when it comes into view.
 */
export function chartCard(ref, ids) {
  const box = h("div", { class: "chart", dataset: { chart: ref.key ?? ref.name } });
  const code = h("div", { class: "embed-code", hidden: true });
  const file = (fmt) => `${(ref.key ?? ref.name)}.${fmt}`;
  const dl = (fmt) =>
    h("button", {
      type: "button",
      title: `download the service's ${fmt.toUpperCase()} rendering`,
      onclick: () => download(ref[fmt], file(fmt), ids).catch((e) => showError(e)),
    }, fmt.toUpperCase());
  const caption = h("figcaption", { class: "small muted noembed" }, ref.description);
  const card = h(
    "figure",
    { class: "card chart-card", id: `chart-${ref.key ?? ref.name}` },
    h(
      "div",
      { class: "cap" },
      h("h3", {}, ref.title),
      h(
        "span",
        { class: "tools noembed" },
        dl("png"),
        dl("svg"),
        dl("json"),
        h("a", { href: ref.page, title: "this chart alone" }, "open"),
        h("button", {
          type: "button",
          title: "HTML to show this chart on another page",
          onclick: () => {
            code.hidden = !code.hidden;
            fill(
              code,
              h("textarea", { rows: 3, readonly: true }, embedSnippet(ref)),
              h(
                "div",
                { class: "muted" },
                "With API keys on, use a share link (button at the top) for the iframe and the " +
                  "PNG. More ways: docs/embedding.md.",
              ),
            );
          },
        }, "embed"),
      ),
    ),
    caption,
    code,
    box,
  );
  drawLater(box, async () => untitled(await getJson(ref.json, { ids }), caption));
  return card;
}

/**
 * The spec without its title, whose subtitle (how to read the chart, the estimator) becomes
 * the card's caption: the card already names the chart.
 */
export function untitled(spec, caption) {
  const { title, ...rest } = spec;
  const sub = typeof title === "object" ? title?.subtitle : null;
  if (caption && sub) fill(caption, Array.isArray(sub) ? sub.join(" ") : String(sub));
  return rest;
}

function embedSnippet(ref) {
  const origin = location.origin;
  return `<iframe src="${origin}${ref.page}${ref.page.includes("?") ? "&" : "?"}embed=1" ` +
    `width="100%" height="520" style="border:0"></iframe>\n<img src="${origin}${ref.png}" ` +
    `alt="${ref.title}">`;
}

/** Export buttons for a chart drawn in the browser (compare, live charts): PNG, SVG. */
export function viewExport(el, name) {
  const go = async (fmt) => {
    const view = el._view;
    if (!view) return;
    const url = await view.toImageURL(fmt, fmt === "png" ? 2 : 1);
    const a = h("a", { href: url, download: `${name}.${fmt}`, style: { display: "none" } });
    document.body.append(a);
    a.click();
    a.remove();
  };
  return h(
    "span",
    { class: "tools noembed" },
    h("button", { type: "button", onclick: () => go("png") }, "PNG"),
    h("button", { type: "button", onclick: () => go("svg") }, "SVG"),
  );
}

authSlot();

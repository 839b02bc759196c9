/**
 * The viewer in a real browser: Debian's Chromium (/usr/bin/chromium, or INFOPLANE_CHROMIUM)
 * driven by npm playwright-core. Opens the list, an analysis, a training (finished, and live while
 * it trains), a compare page, checks that every chart was drawn (an SVG with marks inside the
 * vega-embed container) and that pages log no errors; embeds a chart page in an iframe from a
 * second origin (allowed by INFOPLANE_FRAME_ANCESTORS, and refused from a third); with API keys
 * on, gives the key once and opens a share link in a fresh browser. Screenshots go to a
 * temporary directory (printed; INFOPLANE_UI_SHOTS chooses it). Skipped without Chromium.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import type { BrowserContext, Page } from "playwright-core";
import { bearer, call, freePort, postJson, type TestService } from "./api_helpers.ts";
import {
  postTraining,
  tinyRequest,
  waitTraining,
  withTrainingService,
} from "./trainings_helpers.ts";
import { dumpJson, HOSTILE_LABEL, seedResults, seedSuite } from "./ui_helpers.ts";

// playwright-core probes /proc/sys/fs/binfmt_misc/WSLInterop when it loads; Deno asks for
// --allow-all to read under /proc/sys and throws instead of answering "no". The test task's
// permissions are enough for everything else, so that probe answers false here.
const existsSync = fs.existsSync;
fs.existsSync = (p: fs.PathLike) => {
  try {
    return existsSync(p);
  } catch {
    return false;
  }
};
const { chromium } = await import("playwright-core");

const CHROMIUM = Deno.env.get("INFOPLANE_CHROMIUM") ?? "/usr/bin/chromium";
const hasChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);
if (!hasChromium) {
  console.log(`ui browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
}

let shots: string | null = null;

/** Where screenshots go: INFOPLANE_UI_SHOTS, or a temporary directory made on first use. */
async function shotDir(): Promise<string> {
  const chosen = Deno.env.get("INFOPLANE_UI_SHOTS");
  if (chosen) await Deno.mkdir(chosen, { recursive: true });
  return shots ??= chosen ?? await Deno.makeTempDir({ prefix: "infoplane-ui-shots-" });
}

/** The little of the DOM the in-page checks use (this file is checked without the DOM types). */
interface El {
  matches(selector: string): boolean;
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): ArrayLike<El> & Iterable<El>;
  classList: { contains(name: string): boolean };
  scrollIntoView(): void;
}
interface Win {
  document: El;
}

/** A fresh browser profile; closes and removes it after `fn`. */
async function withBrowser(fn: (ctx: BrowserContext) => Promise<void>): Promise<void> {
  const profile = await Deno.makeTempDir({ prefix: "infoplane-chromium-" });
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
    viewport: { width: 1280, height: 900 },
  });
  try {
    await fn(ctx);
  } finally {
    await ctx.close();
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

/** A page that records console errors and uncaught exceptions. */
async function open(ctx: BrowserContext): Promise<{ page: Page; errors: string[] }> {
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  return { page, errors };
}

/** Marks drawn inside a vega-embed container matching `selector` (0 when none). */
function marks(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    const root = (globalThis as unknown as Win).document.querySelector(sel);
    // vega-embed marks its container with the class vega-embed and draws an SVG inside.
    const svg = root?.classList.contains("vega-embed") ? root.querySelector("svg") : null;
    return svg
      ? svg.querySelectorAll(
        "g[class^='mark-'] > path, g[class^='mark-'] > line, " +
          "g[class^='mark-'] > rect, g[class^='mark-'] > text",
      ).length
      : 0;
  }, selector);
}

/**
 * Brings every chart into view (they are drawn when they become visible) and waits for all of
 * them. A chart still waiting is scrolled to at every poll: on a loaded machine the page can
 * grow after a first pass over it, and a chart below the first pass's end would never be seen.
 */
async function drawAll(page: Page, timeoutMs = 30_000): Promise<string[]> {
  await page.waitForFunction(
    () => {
      const charts = [
        ...(globalThis as unknown as Win).document.querySelectorAll(".chart[data-chart]"),
      ];
      const waiting = charts.filter((c) =>
        !(c.matches(".vega-embed") && c.querySelector("svg g[class^='mark-'] > *") ||
          c.classList.contains("failed"))
      );
      waiting[0]?.scrollIntoView();
      return charts.length > 0 && waiting.length === 0;
    },
    undefined,
    { timeout: timeoutMs, polling: 100 },
  );
  const names = await page.evaluate(
    `[...document.querySelectorAll(".chart[data-chart]")].map((e) => e.dataset.chart)`,
  ) as string[];
  for (const n of names) {
    const count = await marks(page, `.chart[data-chart="${n}"]`);
    assert(count > 0, `chart ${n} has marks`);
  }
  await page.evaluate("scrollTo(0, 0)");
  return names;
}

/** Waits until `selector` matches `n` elements (n < 0: at least one). */
async function waitCount(page: Page, selector: string, n: number, timeout = 10_000) {
  await page.waitForFunction(
    ([sel, want]) => {
      const got = (globalThis as unknown as Win).document.querySelectorAll(sel).length;
      return want < 0 ? got > 0 : got === want;
    },
    [selector, n] as const,
    { timeout },
  );
}

async function shot(page: Page, name: string): Promise<string> {
  const path = `${await shotDir()}/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** A page on 127.0.0.1:<port> (another origin than the service) that frames `src`. */
function framer(port: number, src: string): Deno.HttpServer {
  return Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, () =>
    new Response(
      `<!doctype html><title>dashboard</title><h1>Dashboard</h1>` +
        `<iframe id="f" src="${src}" width="900" height="600"></iframe>`,
      { headers: { "content-type": "text/html" } },
    ));
}

Deno.test({
  name: "ui in Chromium: list, analysis, training (live), compare, iframe embedding",
  ignore: !hasChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const t0 = performance.now();
    const allowedPort = freePort();
    const refusedPort = freePort();
    const env = { INFOPLANE_FRAME_ANCESTORS: `'self' http://127.0.0.1:${allowedPort}` };
    await withTrainingService(env, async (svc: TestService) => {
      const ids = await seedResults(svc);
      await withBrowser(async (ctx) => {
        const { page, errors } = await open(ctx);

        // The list: every result, labels as text (never HTML).
        await page.goto(`${svc.url}/`);
        await page.waitForSelector(".job");
        assert.deepStrictEqual(await page.locator(".job").count(), 3);
        assert(await page.getByText(HOSTILE_LABEL, { exact: true }).isVisible());
        assert.deepStrictEqual(await page.evaluate(() => "__xss" in globalThis), false);
        await page.fill("input[name=label]", "sigma");
        await waitCount(page, ".job", 1);
        await page.fill("input[name=label]", "");
        await waitCount(page, ".job", 3);
        const listShot = await shot(page, "list");

        // An analysis, reached by clicking it.
        await page.getByText(HOSTILE_LABEL, { exact: true }).click();
        await page.waitForURL(`**/ui/analyses/${ids.analysis}`);
        await page.waitForSelector(".words p");
        const drawn = await drawAll(page);
        for (
          const n of [
            "information-plane",
            "nhsic-vs-step",
            "depth-profile",
            "compression",
            "similarity",
            "checkpoint-similarity",
            "sweep-compression",
          ]
        ) assert(drawn.includes(n), `analysis page draws ${n} (drew ${drawn})`);
        assert(await page.getByText("Robustness across the estimator sweep").isVisible());
        assert.deepStrictEqual(await page.evaluate(() => "__xss" in globalThis), false);
        const analysisShot = await shot(page, "analysis");

        // A finished training.
        await page.goto(`${svc.url}/ui/trainings/${ids.training}`);
        await page.waitForSelector("h2:text('Methods')");
        const tDrawn = await drawAll(page);
        for (const n of ["accuracy", "loss", "information-plane", "compression"]) {
          assert(tDrawn.includes(n), `training page draws ${n}`);
        }
        const trainingShot = await shot(page, "training");

        // An experiment suite: verdicts and runs.
        const suite = await seedSuite(svc);
        await page.goto(`${svc.url}/ui/experiments/${suite}`);
        await page.waitForSelector("h2:text('Verdicts')");
        assert(await page.getByRole("button", { name: "Open the report" }).isVisible());
        await shot(page, "experiment");

        // Compare: two analyses with different estimators.
        await page.goto(`${svc.url}/`);
        await page.waitForSelector(".job");
        for (const id of [ids.analysis, ids.other]) {
          await page.check(`.job[data-id="${id}"] input.pick`);
        }
        await page.click("#compare-go");
        await page.waitForURL(/\/ui\/compare\?ids=/);
        await page.waitForSelector("#estimator-warning");
        const cDrawn = await drawAll(page);
        assert.deepStrictEqual(cDrawn, ["information-plane", "compression", "depth-profile"]);
        assert(await page.locator("tr.differs").count() >= 2, "differing settings are marked");
        const compareShot = await shot(page, "compare");

        // A training followed live: progress and live charts, then the finished charts.
        Deno.env.set("INFOPLANE_FAKE_STEP_MS", "120");
        const slow = await postTraining(
          svc,
          tinyRequest({
            label: "live one",
            dataset: { name: "mnist", train_limit: 1024, test_limit: 256 },
          }),
        );
        await page.goto(`${svc.url}/`);
        await page.waitForSelector(`.job[data-id="${slow.body.id}"]`);
        await page.goto(`${svc.url}/ui/trainings/${slow.body.id}`);
        await page.waitForSelector(".chart.vega-embed[data-chart=live-accuracy] svg");
        await waitCount(page, "[data-chart=live-plane] g[class^='mark-'] > path", -1, 20_000);
        const liveShot = await shot(page, "training-live");
        // The list, opened meanwhile in a second tab, shows the new job and then its end.
        const list = await open(ctx);
        await list.page.goto(`${svc.url}/`);
        await list.page.waitForSelector(`.job[data-id="${slow.body.id}"]`);
        const posted = await postJson(svc, { ...dumpJson(9), label: "arrived while looking" });
        await list.page.waitForSelector("text=arrived while looking", { timeout: 10_000 });
        await waitTraining(svc, slow.body.id);
        Deno.env.set("INFOPLANE_FAKE_STEP_MS", "5");
        await page.waitForSelector("h2:text('Methods')", { timeout: 20_000 });
        await drawAll(page);
        await list.page.waitForSelector(`.job[data-id="${slow.body.id}"][data-status=done]`, {
          timeout: 10_000,
        });
        assert.deepStrictEqual(posted.status, 200);
        assert.deepStrictEqual(list.errors, []);
        await list.page.close();

        // One chart alone, as a frame would show it.
        await page.setViewportSize({ width: 700, height: 500 });
        await page.goto(`${svc.url}/ui/analyses/${ids.analysis}/charts/information-plane?embed=1`);
        await page.waitForSelector("#chart.vega-embed svg g[class^='mark-'] > path");
        assert.deepStrictEqual(await page.locator("header.top").count(), 0, "no chrome");
        const embedShot = await shot(page, "chart-embed");
        assert.deepStrictEqual(errors, [], "no errors on the viewer's pages");

        // Framed from another origin: allowed from the listed one, refused from any other.
        const src = `${svc.url}/ui/analyses/${ids.analysis}/charts/information-plane?embed=1`;
        const good = framer(allowedPort, src);
        const bad = framer(refusedPort, src);
        try {
          const dash = await open(ctx);
          await dash.page.goto(`http://127.0.0.1:${allowedPort}/`);
          const frame = dash.page.frameLocator("#f");
          await frame.locator("#chart.vega-embed svg g[class^='mark-'] > path").first()
            .waitFor({ timeout: 20_000 });
          const dashShot = await shot(dash.page, "iframe-allowed");
          assert.deepStrictEqual(dash.errors, []);

          const other = await open(ctx);
          await other.page.goto(`http://127.0.0.1:${refusedPort}/`);
          await other.page.waitForTimeout(1500);
          const f = other.page.frames().find((fr) => fr !== other.page.mainFrame());
          const framed = f
            ? await f.evaluate(`document.querySelector("#chart") !== null`)
              .catch(() => false)
            : false;
          assert.deepStrictEqual(framed, false, "the refused frame shows nothing of the page");
          assert(
            other.errors.some((e) => /frame-ancestors/.test(e)),
            `a CSP violation is reported: ${other.errors}`,
          );
          console.log(
            `screenshots: ${
              [listShot, analysisShot, trainingShot, compareShot, liveShot, embedShot, dashShot]
                .join(" ")
            }`,
          );
        } finally {
          await good.shutdown();
          await bad.shutdown();
        }
      });
    });
    console.log(`browser test took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  },
});

Deno.test({
  name: "ui in Chromium with API keys: the key given once, and a share link",
  ignore: !hasChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withTrainingService({ INFOPLANE_API_KEYS: "browser-key" }, async (svc) => {
      const k = bearer("browser-key");
      const ids = await seedResults(svc, k);
      await withBrowser(async (ctx) => {
        const { page, errors } = await open(ctx);
        await page.goto(`${svc.url}/`);
        await page.waitForSelector("#key-panel");
        await page.fill("#key-panel input[name=key]", "browser-key");
        await page.click("#key-panel button[type=submit]");
        await page.waitForSelector(".job");
        assert.deepStrictEqual(await page.locator(".job").count(), 3);
        // The key stays in this tab: the next pages need nothing more.
        await page.click(`.job[data-id="${ids.training}"] a.title`);
        await page.waitForSelector("h2:text('Methods')");
        await drawAll(page);
        assert(!page.url().includes("browser-key"));
        const unexpected = errors.filter((e) => !/status of 401/.test(e));
        assert.deepStrictEqual(unexpected, []);
        await page.close();

        // A share link opens the result in a browser that has no key.
        const link = await call(svc, `/v1/analyses/${ids.analysis}/links`, {
          method: "POST",
          headers: k,
        });
        assert.deepStrictEqual(link.status, 201, link.text);
        const guest = await ctx.browser()?.newContext() ?? ctx;
        const g = await open(guest);
        await g.page.goto(link.body.url);
        await g.page.waitForSelector(".words p");
        await drawAll(g.page);
        assert(!g.page.url().includes("#token"), "the token leaves the address bar");
        assert.deepStrictEqual(await g.page.locator("#key-panel").count(), 0);
        assert.deepStrictEqual(g.errors, []);
        await shot(g.page, "shared-analysis");
        // The same guest cannot list the owner's jobs.
        await g.page.goto(`${svc.url}/`);
        await g.page.waitForSelector("#key-panel");
      });
    });
  },
});

/**
 * The viewer without a browser (routes/ui/): settings, share-link tokens, which paths are
 * public, page shells (escaping, CSP frame-ancestors), assets from node_modules, the pages' view
 * documents and charts, the API's links, and share links with API keys on.
 * tests/ui_browser_test.ts drives the same pages in Chromium.
 */
import assert from "node:assert/strict";
import { frameAncestors, loadSettings } from "../lib/settings.ts";
import { linkCovers, LinkSigner } from "../routes/ui/_links.ts";
import { isPublicUiPath } from "../routes/ui/mod.ts";
import { analysisWords, estimatorText } from "../routes/ui/_words.ts";
import { esc } from "../routes/ui/_pages.ts";
import { bearer, call, postJson, type TestService, waitDone } from "./api_helpers.ts";
import { withTrainingService } from "./trainings_helpers.ts";
import { dumpJson, HOSTILE_LABEL, seedResults, seedSuite } from "./ui_helpers.ts";
import type { AnalysisOutput } from "../lib/analysis.ts";
import { summarise } from "../lib/summary.ts";

Deno.test("ui settings: INFOPLANE_FRAME_ANCESTORS and INFOPLANE_LINK_SECRET", () => {
  assert.deepStrictEqual(frameAncestors(undefined), "'self'");
  assert.deepStrictEqual(frameAncestors(""), "'self'");
  assert.deepStrictEqual(
    frameAncestors("self, https://dash.example.org http://127.0.0.1:8080"),
    "'self' https://dash.example.org http://127.0.0.1:8080",
  );
  assert.deepStrictEqual(frameAncestors("'none'"), "'none'");
  assert.deepStrictEqual(frameAncestors("*"), "*");
  assert.deepStrictEqual(frameAncestors("https://*.example.org"), "https://*.example.org");
  for (const bad of ["https://a.org;script-src *", "'unsafe-inline'", "none self", "a b'c"]) {
    assert.throws(() => frameAncestors(bad), /INFOPLANE_FRAME_ANCESTORS/, bad);
  }
  const s = loadSettings((k) =>
    ({ INFOPLANE_FRAME_ANCESTORS: "https://x.org", INFOPLANE_LINK_SECRET: "0123456789abcdef" })[k]
  );
  assert.deepStrictEqual(s.frameAncestors, "https://x.org");
  assert.deepStrictEqual(s.linkSecret, "0123456789abcdef");
  assert.deepStrictEqual(loadSettings(() => undefined).frameAncestors, "'self'");
  assert.deepStrictEqual(loadSettings(() => undefined).linkSecret, null);
  assert.throws(
    () => loadSettings((k) => (k === "INFOPLANE_LINK_SECRET" ? "short" : undefined)),
    /INFOPLANE_LINK_SECRET/,
  );
});

Deno.test("ui links: tokens are signed, expire, and open one result's reads only", async () => {
  const signer = new LinkSigner("a secret of some length");
  const exp = Math.floor(Date.now() / 1000) + 60;
  const claims = { kind: "analysis" as const, id: "abc", owner: "o1", exp };
  const t = await signer.sign(claims);
  assert.deepStrictEqual(await signer.verify(t), claims);
  // Another secret, a changed payload or signature, an expired token: refused.
  assert("error" in await new LinkSigner("another secret, as long").verify(t));
  assert("error" in await new LinkSigner(null).verify(t));
  const [p, sig] = t.split(".");
  const forged = btoa(JSON.stringify({ k: "analysis", i: "abc", o: "o2", e: exp }))
    .replace(/=+$/, "");
  assert("error" in await signer.verify(`${forged}.${sig}`));
  assert("error" in await signer.verify(`${p}.${sig.slice(0, -2)}xx`));
  assert("error" in await signer.verify("garbage"));
  const late = await signer.verify(t, (exp + 1) * 1000);
  assert("error" in late && /expired/.test(late.error));

  const a = { kind: "analysis" as const, id: "abc" };
  for (
    const path of [
      "/v1/analyses/abc",
      "/v1/analyses/abc.csv",
      "/v1/analyses/abc/events",
      "/v1/analyses/abc/charts/information-plane.png",
      "/ui/analyses/abc/view.json",
      "/ui/analyses/abc/charts/compression.svg",
    ]
  ) assert(linkCovers(a, path), path);
  for (
    const path of [
      "/v1/analyses/abcd",
      "/v1/analyses/abc/links",
      "/v1/analyses/abc/charts/",
      "/v1/analyses/abc/charts/x/y",
      "/v1/trainings/abc",
      "/v1/jobs",
      "/v1/analyses",
      "/ui/trainings/abc/view.json",
      "/v1/analyses/abc/report.html",
    ]
  ) assert(!linkCovers(a, path), path);
  const e = { kind: "experiment" as const, id: "e1" };
  assert(linkCovers(e, "/v1/experiments/e1/report.html"));
  assert(linkCovers(e, "/v1/experiments/e1/figures/claim1.png"));
});

Deno.test("ui: page shells and assets are public, data is not", () => {
  for (const p of ["/", "/ui", "/ui/", "/ui/analyses/x", "/ui/compare", "/ui/assets/core.js"]) {
    assert(isPublicUiPath(p), p);
  }
  for (
    const p of [
      "/ui/analyses/x/view.json",
      "/ui/compare.json",
      "/ui/analyses/x/charts/loss.png",
      "/v1/analyses",
      "/docsx",
    ]
  ) assert(!isPublicUiPath(p), p);
  assert.deepStrictEqual(esc(`<a href="x">'&`), "&#60;a href=&#34;x&#34;&#62;&#39;&#38;");
});

Deno.test("ui words: summaries say which layers compress and why the IB holds or not", () => {
  const reference = { nhsic_x_x: 1, nhsic_y_y: 1 };
  const layer = (name: string, x: number, y: number) => ({
    name,
    nhsic_x: x,
    nhsic_y: y,
    nhsic_x_norm: x,
    nhsic_y_norm: y,
    cka_x: 0,
    cka_y: 0,
  });
  const checkpoints = [
    { step: 0, layers: [layer("fc1", 0.8, 0.2), layer("out", 0.5, 0.3)] },
    { step: 10, layers: [layer("fc1", 0.9, 0.5), layer("out", 0.7, 0.8)] },
    { step: 20, layers: [layer("fc1", 0.88, 0.5), layer("out", 0.4, 0.79)] },
  ];
  const a = {
    m: 100,
    num_classes: 10,
    estimator: {
      kernel: "gaussian",
      distance: "squared",
      sigma: 5,
      eps: 1e-5,
      centring: "right",
      label_kernel: "linear",
      label_centring: "none",
      batch_size: 50,
      batches: 2,
      samples_used: 100,
    },
    reference,
    checkpoints,
    summary: summarise({ reference, checkpoints }),
    compute: { linalg: "portable", seconds: 0 },
  } as AnalysisOutput;
  const w = analysisWords(a).join("\n");
  assert.match(w, /2 layers measured at 3 checkpoints \(steps 0 to 20\)/);
  assert.match(w, /Compressing layers .*: out \(0\.300, peak at step 10\)/);
  assert.match(w, /The last layer \(out\) follows the information bottleneck/);
  assert.match(w, /kept 99% of its peak label dependence/);
  assert.match(w, /averaged over 2 batches of 50/);
  const one = { ...a, checkpoints: checkpoints.slice(0, 1) };
  one.summary = summarise({ reference, checkpoints: one.checkpoints });
  assert.match(analysisWords(one).join(" "), /One checkpoint: there are no dynamics/);
  assert.deepStrictEqual(
    estimatorText({ ...a.estimator, kernel: "linear", batch_size: null }, 64),
    "linear kernel, exact on m = 64",
  );
});

async function text(svc: TestService, path: string, headers: Record<string, string> = {}) {
  const r = await call(svc, path, { headers });
  return r;
}

Deno.test("ui pages, views, charts and links (API keys off)", async () => {
  await withTrainingService(
    { INFOPLANE_FRAME_ANCESTORS: "self https://dash.example.org" },
    async (svc) => {
      const ids = await seedResults(svc);

      // Pages: HTML shells with the CSP, escaping what comes from the URL.
      const list = await text(svc, "/");
      assert.deepStrictEqual(list.status, 200);
      assert.match(list.headers.get("content-type")!, /^text\/html/);
      const csp = list.headers.get("content-security-policy")!;
      assert.match(csp, /frame-ancestors 'self' https:\/\/dash\.example\.org$/);
      assert.match(csp, /script-src 'self';/);
      assert(list.text.includes('src="/ui/assets/list.js"'));
      const evil = encodeURIComponent(`"><script>alert(1)</script>`);
      const page = await text(svc, `/ui/analyses/${evil}`);
      assert.deepStrictEqual(page.status, 404, "ids are UUIDs");
      assert(!page.text.includes("<script>alert"), "nothing of it comes back as HTML");
      const dots = await text(svc, `/ui/analyses/..%2F..%2Fv1%2Fjobs/charts/information-plane`);
      assert.deepStrictEqual(dots.status, 404);
      const cmpPage = await text(svc, `/ui/compare?ids=${evil},x`);
      assert.deepStrictEqual(cmpPage.status, 200);
      assert(
        cmpPage.text.includes('data-ids="&#34;&#62;&#60;script&#62;'),
        "escaped in attributes",
      );
      assert.deepStrictEqual((await text(svc, `/ui/nothing/${ids.analysis}`)).status, 404);
      const embed = await text(svc, `/ui/analyses/${ids.analysis}?embed=1`);
      assert(embed.text.includes('class="page-analysis embed"'), "embed drops the chrome");
      assert(!embed.text.includes('<header class="top">'));
      const chart = await text(svc, `/ui/analyses/${ids.analysis}/charts/information-plane`);
      assert(
        chart.text.includes(
          `data-spec="/v1/analyses/${ids.analysis}/charts/information-plane.json"`,
        ),
      );
      const viewerChart = await text(svc, `/ui/trainings/${ids.training}/charts/loss?embed=1`);
      assert(viewerChart.text.includes(`/ui/trainings/${ids.training}/charts/loss.json`));
      assert.deepStrictEqual((await text(svc, `/ui/analyses/x/charts/nope`)).status, 404);

      // Assets: the vega builds come from node_modules, gzipped on request, with ETags.
      for (
        const [name, needle] of [["vega.js", "vega"], ["vega-lite.js", "vegaLite"], [
          "vega-embed.js",
          "vegaEmbed",
        ]]
      ) {
        const r = await text(svc, `/ui/assets/${name}`);
        assert.deepStrictEqual(r.status, 200, name);
        assert.match(r.headers.get("content-type")!, /javascript/);
        assert(r.text.includes(needle), name);
      }
      const gz = await fetch(`${svc.url}/ui/assets/core.js`, {
        headers: { "accept-encoding": "gzip" },
      });
      assert.deepStrictEqual(gz.headers.get("content-encoding"), "gzip");
      const etag = gz.headers.get("etag")!;
      await gz.body?.cancel();
      const again = await call(svc, "/ui/assets/core.js", { headers: { "if-none-match": etag } });
      assert.deepStrictEqual(again.status, 304);
      assert.deepStrictEqual((await text(svc, "/ui/assets/secret.ts")).status, 404);
      assert.deepStrictEqual((await text(svc, "/ui/assets/..%2Fmod.ts")).status, 404);

      // The API's links: page, share, every chart.
      const a = (await call(svc, `/v1/analyses/${ids.analysis}`)).body;
      assert.deepStrictEqual(a.links.view, `/ui/analyses/${ids.analysis}`);
      assert.deepStrictEqual(a.links.share, `/v1/analyses/${ids.analysis}/links`);
      assert.deepStrictEqual(Object.keys(a.links.charts).sort(), [
        "checkpoint-similarity",
        "compression",
        "depth-profile",
        "information-plane",
        "nhsic-vs-step",
        "similarity",
        "sweep-compression",
      ]);
      assert.deepStrictEqual(
        a.links.charts["information-plane"],
        `/v1/analyses/${ids.analysis}/charts/information-plane.json`,
      );
      const t = (await call(svc, `/v1/trainings/${ids.training}`)).body;
      assert.deepStrictEqual(Object.keys(t.links.charts).sort(), [
        "accuracy",
        "compression",
        "depth-profile",
        "information-plane",
        "loss",
        "nhsic-vs-step",
      ]);
      const other = (await call(svc, `/v1/analyses/${ids.other}`)).body;
      assert(!("similarity" in other.links.charts), "only the charts it has");

      // Every chart answers, in every format.
      for (
        const [kind, id, links] of [["analyses", ids.analysis, a.links], [
          "trainings",
          ids.training,
          t.links,
        ]]
      ) {
        for (const [name, url] of Object.entries(links.charts as Record<string, string>)) {
          const spec = await call(svc, url);
          assert.deepStrictEqual(spec.status, 200, `${kind} ${name}: ${spec.text.slice(0, 200)}`);
          assert(spec.body.$schema?.includes("vega-lite"), `${name} is a Vega-Lite spec`);
          if (url.startsWith("/ui/")) {
            const svg = await call(svc, url.replace(/\.json/, ".svg"));
            assert.match(svg.text, /^<svg|^<\?xml/, `${name}.svg`);
            const png = await fetch(svc.url + url.replace(/\.json/, ".png"));
            assert.deepStrictEqual(png.headers.get("content-type"), "image/png");
            const bytes = new Uint8Array(await png.arrayBuffer());
            assert.deepStrictEqual([...bytes.slice(1, 4)], [80, 78, 71], `${name}.png`);
          }
        }
        assert.deepStrictEqual(
          (await call(svc, `/ui/${kind}/${id}/charts/information-plane.json`)).status,
          404,
          "the API's charts live in the API",
        );
      }
      assert.deepStrictEqual(
        (await call(svc, `/ui/analyses/${ids.other}/charts/similarity.json`)).status,
        404,
        "a chart the analysis did not ask for",
      );
      assert.deepStrictEqual(
        (await call(svc, `/ui/analyses/${ids.analysis}/charts/similarity.json?measure=nope`))
          .status,
        422,
      );

      // The pages' view documents.
      const va = (await call(svc, `/ui/analyses/${ids.analysis}/view.json`)).body;
      assert.deepStrictEqual(va.title, HOSTILE_LABEL);
      assert.deepStrictEqual(va.result.layers.map((l: { name: string }) => l.name), [
        "fc1",
        "fc2",
        "out",
      ]);
      assert(va.result.layers[0].compression_verdict, "robustness verdicts per layer");
      assert(va.result.words.length >= 3);
      assert.deepStrictEqual(va.downloads.map((d: { label: string }) => d.label), [
        "table (CSV)",
        "result (JSON)",
      ]);
      const vt = (await call(svc, `/ui/trainings/${ids.training}/view.json`)).body;
      assert.deepStrictEqual(vt.result.methods.length, 2);
      assert.deepStrictEqual(
        (await call(svc, `/ui/trainings/${ids.analysis}/view.json`)).status,
        404,
      );

      // An experiment suite (the committed CPU-scale results): verdicts, runs, report links.
      const suite = await seedSuite(svc);
      const ve = (await call(svc, `/ui/experiments/${suite}/view.json`)).body;
      assert.deepStrictEqual(ve.result.verdicts.length, 6);
      assert(ve.result.runs.length > 10, `${ve.result.runs.length} runs`);
      assert.deepStrictEqual(ve.report.html, `/v1/experiments/${suite}/report.html`);
      const se = (await call(svc, `/v1/experiments/${suite}`)).body;
      assert.deepStrictEqual(se.links.view, `/ui/experiments/${suite}`);
      assert.deepStrictEqual(se.links.charts, {});
      assert.deepStrictEqual((await text(svc, `/ui/experiments/${suite}`)).status, 200);

      // Compare: shared panels, settings side by side, a warning when they differ.
      const cmp = await call(
        svc,
        `/ui/compare.json?ids=${ids.analysis},${ids.other},${ids.training}`,
      );
      assert.deepStrictEqual(cmp.status, 200, cmp.text.slice(0, 300));
      assert.deepStrictEqual(cmp.body.items.map((i: { panels: string[] }) => i.panels.length), [
        1,
        1,
        2,
      ]);
      assert.match(cmp.body.warning, /sigma.*batch size/);
      assert.deepStrictEqual(
        cmp.body.settings.filter((s: { differs: boolean }) => s.differs).map((
          s: { name: string },
        ) => s.name),
        ["sigma", "batch size", "samples (m)"],
      );
      assert.deepStrictEqual(cmp.body.charts.map((c: { name: string }) => c.name), [
        "information-plane",
        "compression",
        "depth-profile",
      ]);
      const plane = cmp.body.charts[0].spec;
      assert.deepStrictEqual(plane.resolve, { scale: { x: "shared", y: "shared" } });
      const same = await postJson(svc, { ...dumpJson(5), label: "same estimator" });
      await waitDone(svc, same.body.id);
      const calm = await call(svc, `/ui/compare.json?ids=${ids.analysis},${same.body.id}`);
      assert.deepStrictEqual(calm.body.warning, null);
      assert.deepStrictEqual((await call(svc, `/ui/compare.json?ids=${ids.analysis}`)).status, 422);
      const withSuite = await call(svc, `/ui/compare.json?ids=${ids.analysis},${suite}`);
      assert.match(withSuite.body.items[1].note, /compared in their report/);
      assert.deepStrictEqual(
        (await call(svc, `/ui/compare.json?ids=${ids.analysis},nope`)).status,
        404,
      );
    },
  );
});

Deno.test("ui with API keys: public shells, keyed data, share links for one result", async () => {
  await withTrainingService({ INFOPLANE_API_KEYS: "key-one,key-two" }, async (svc) => {
    const k1 = bearer("key-one");
    const ids = await seedResults(svc, k1);
    assert.deepStrictEqual((await call(svc, "/")).status, 200);
    assert.deepStrictEqual((await call(svc, `/ui/analyses/${ids.analysis}`)).status, 200);
    assert.deepStrictEqual((await call(svc, "/ui/assets/vega-embed.js")).status, 200);
    assert.deepStrictEqual((await call(svc, `/ui/analyses/${ids.analysis}/view.json`)).status, 401);
    assert.deepStrictEqual(
      (await call(svc, `/ui/analyses/${ids.analysis}/view.json`, { headers: k1 })).status,
      200,
    );
    assert.deepStrictEqual(
      (await call(svc, `/ui/analyses/${ids.analysis}/view.json`, { headers: bearer("key-two") }))
        .status,
      404,
      "another key's result",
    );

    // Only the owner shares; lifetimes are bounded.
    const post = (id: string, body: unknown, headers: Record<string, string>) =>
      call(svc, `/v1/analyses/${id}/links`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
    assert.deepStrictEqual((await post(ids.analysis, {}, {})).status, 401);
    assert.deepStrictEqual((await post(ids.analysis, {}, bearer("key-two"))).status, 404);
    assert.deepStrictEqual((await post(ids.analysis, { expires_in_s: 10 }, k1)).status, 422);
    const noBody = await call(svc, `/v1/analyses/${ids.analysis}/links`, {
      method: "POST",
      headers: k1,
    });
    assert.deepStrictEqual(noBody.status, 201, noBody.text);
    const link = await post(ids.analysis, { expires_in_s: 300 }, k1);
    assert.deepStrictEqual(link.status, 201, link.text);
    const { token, url, embed_url, charts, expires_at } = link.body;
    assert(Math.abs(Date.parse(expires_at) - Date.now() - 300_000) < 5_000);
    assert(url.endsWith(`/ui/analyses/${ids.analysis}#token=${encodeURIComponent(token)}`), url);
    assert(embed_url.includes("?embed=1#token="), embed_url);
    assert(!url.includes("key-one") && !token.includes("key-one"), "no key in links");
    const png = charts["information-plane"].png as string;
    assert(png.includes("/charts/information-plane.png?token="), png);

    // The token reads that result, by header or query, and nothing else.
    const tk = { "x-infoplane-token": token };
    for (
      const path of [
        `/v1/analyses/${ids.analysis}`,
        `/v1/analyses/${ids.analysis}.csv`,
        `/ui/analyses/${ids.analysis}/view.json`,
        `/ui/analyses/${ids.analysis}/charts/compression.json`,
        `/v1/analyses/${ids.analysis}/charts/depth-profile.json`,
      ]
    ) assert.deepStrictEqual((await call(svc, path, { headers: tk })).status, 200, path);
    const img = await fetch(png.replace(/^https?:\/\/[^/]+/, svc.url));
    assert.deepStrictEqual(img.status, 200);
    await img.body?.cancel();
    const events = await call(svc, `/v1/analyses/${ids.analysis}/events?token=${token}`);
    assert.deepStrictEqual(events.status, 200);
    for (
      const [method, path] of [
        ["GET", `/v1/analyses/${ids.other}`],
        ["GET", "/v1/jobs"],
        ["GET", "/v1/analyses"],
        ["DELETE", `/v1/analyses/${ids.analysis}`],
        ["POST", `/v1/analyses/${ids.analysis}/links`],
      ]
    ) {
      const r = await call(svc, path, { method, headers: tk });
      assert.deepStrictEqual(r.status, 401, `${method} ${path}: ${r.text}`);
    }
    assert.deepStrictEqual(
      (await call(svc, `/v1/analyses/${ids.analysis}`, {
        headers: { "x-infoplane-token": token + "x" },
      }))
        .status,
      401,
    );

    // Compare with tokens: one per result.
    const other = (await post(ids.other, {}, k1)).body.token;
    const both = `/ui/compare.json?ids=${ids.analysis},${ids.other}`;
    assert.deepStrictEqual((await call(svc, both, { headers: tk })).status, 401);
    assert.deepStrictEqual(
      (await call(svc, both, { headers: { "x-infoplane-token": `${token} ${other}` } })).status,
      200,
    );

    // Trainings and experiments share the same way.
    const tl = await call(svc, `/v1/trainings/${ids.training}/links`, {
      method: "POST",
      headers: k1,
    });
    assert.deepStrictEqual(tl.status, 201, tl.text);
    assert(
      tl.body.charts.loss.json.includes(`/ui/trainings/${ids.training}/charts/loss.json?token=`),
    );
    const openapi = (await call(svc, "/openapi.json")).body;
    for (
      const p of [
        "/v1/analyses/{id}/links",
        "/v1/trainings/{id}/links",
        "/v1/experiments/{id}/links",
      ]
    ) {
      assert(openapi.paths[p]?.post, `${p} documented`);
    }
  });
});

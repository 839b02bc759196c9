import assert from "node:assert/strict";
import {
  assertProblem,
  bearer,
  call,
  encodeNpz,
  makeDump,
  postJson,
  postNpz,
  toNested,
  waitDone,
  withService,
} from "./api_helpers.ts";

const KEYS = { INFOPLANE_API_KEYS: "k1,k2" };

Deno.test("api auth: keys are required, checked, and scope analyses to their owner", async () => {
  await withService(KEYS, async (svc) => {
    const npz = encodeNpz(makeDump({ m: 20, seed: 51 }));

    // No key, unknown keys.
    let p = assertProblem(await postNpz(svc, npz), 401);
    assert.deepStrictEqual(p.title, "Unauthorized");
    const noKey = await call(svc, "/v1/analyses/whatever");
    assertProblem(noKey, 401);
    assert(noKey.headers.get("www-authenticate")?.startsWith("Bearer"), "WWW-Authenticate");
    p = assertProblem(await postNpz(svc, npz, { headers: bearer("k3") }), 401);
    assert(p.detail.includes("unknown"), p.detail);
    assertProblem(await postNpz(svc, npz, { headers: { "x-api-key": "K1" } }), 401);
    assertProblem(await postNpz(svc, npz, { headers: { authorization: "Basic azE6" } }), 401);

    // k1 creates (Bearer) and reads (X-API-Key and Bearer).
    const created = await postNpz(svc, npz, { headers: bearer("k1") });
    assert.deepStrictEqual(created.status, 200, created.text);
    const id = created.body.id;
    const viaHeader = await call(svc, `/v1/analyses/${id}`, { headers: { "x-api-key": "k1" } });
    assert.deepStrictEqual(viaHeader.status, 200);
    assert.deepStrictEqual(viaHeader.body, created.body);
    const csv = await call(svc, `/v1/analyses/${id}.csv`, { headers: bearer("k1") });
    assert.deepStrictEqual(csv.status, 200);

    // k2 cannot see it (404, not 403: ids of others are not disclosed); no key is 401.
    assertProblem(await call(svc, `/v1/analyses/${id}`, { headers: bearer("k2") }), 404);
    assertProblem(
      await call(svc, `/v1/analyses/${id}.csv`, { headers: { "x-api-key": "k2" } }),
      404,
    );
    assertProblem(await call(svc, `/v1/analyses/${id}`), 401);

    // X-API-Key works for creating too, also with a JSON body and async.
    const d = makeDump({ m: 16, layers: { h: 3 }, seed: 52 });
    const j = await postJson(
      svc,
      { x: toNested(d.x), y: toNested(d.y), layers: { h: toNested(d.h) } },
      { headers: { "x-api-key": "k2" }, async: true },
    );
    assert.deepStrictEqual(j.status, 202, j.text);
    const done = await waitDone(svc, j.body.id, { headers: bearer("k2") });
    assert.deepStrictEqual(done.body.status, "done");
    assertProblem(await call(svc, `/v1/analyses/${j.body.id}`, { headers: bearer("k1") }), 404);

    // Public endpoints need no key.
    for (
      const path of [
        "/v1/health",
        "/openapi.json",
        "/docs",
        "/docs/problems",
        "/docs/init.js",
        "/docs/assets/swagger-ui.css",
      ]
    ) {
      const r = await call(svc, path);
      assert.deepStrictEqual(r.status, 200, `${path} without a key`);
    }
  });
});

Deno.test("api auth: without configured keys everything is open", async () => {
  await withService({}, async (svc) => {
    const r = await postNpz(svc, encodeNpz(makeDump({ m: 12, seed: 53 })), {
      headers: bearer("anything"),
    });
    assert.deepStrictEqual(r.status, 200, r.text);
    const g = await call(svc, `/v1/analyses/${r.body.id}`);
    assert.deepStrictEqual(g.status, 200);
  });
});

Deno.test("api cors: configured origins are echoed on preflight and responses", async () => {
  await withService({ ...KEYS, INFOPLANE_CORS_ORIGINS: "https://dash.example" }, async (svc) => {
    const pre = await call(svc, "/v1/analyses", {
      method: "OPTIONS",
      headers: {
        origin: "https://dash.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    assert(pre.status === 204 || pre.status === 200, `preflight status ${pre.status}`);
    assert.deepStrictEqual(pre.headers.get("access-control-allow-origin"), "https://dash.example");
    const methods = pre.headers.get("access-control-allow-methods") ?? "";
    assert(methods.includes("POST"), `allow-methods: ${methods}`);
    const allowHeaders = (pre.headers.get("access-control-allow-headers") ?? "").toLowerCase();
    assert(allowHeaders.includes("authorization"), `allow-headers: ${allowHeaders}`);

    // The actual request carries the header too, and exposes Location.
    const r = await call(svc, "/v1/health", { headers: { origin: "https://dash.example" } });
    assert.deepStrictEqual(r.headers.get("access-control-allow-origin"), "https://dash.example");
    const created = await postNpz(svc, encodeNpz(makeDump({ m: 12, seed: 54 })), {
      headers: { ...bearer("k1"), origin: "https://dash.example" },
    });
    assert.deepStrictEqual(created.status, 200);
    assert.deepStrictEqual(
      created.headers.get("access-control-allow-origin"),
      "https://dash.example",
    );
    assert(
      (created.headers.get("access-control-expose-headers") ?? "").includes("Location"),
      "Location is exposed",
    );

    // Another origin is not allowed.
    const other = await call(svc, "/v1/analyses", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    assert(
      other.headers.get("access-control-allow-origin") !== "https://evil.example",
      "an unlisted origin is not echoed",
    );
  });
  // Default: any origin.
  await withService({}, async (svc) => {
    const r = await call(svc, "/v1/health", { headers: { origin: "https://any.example" } });
    assert.deepStrictEqual(r.headers.get("access-control-allow-origin"), "*");
  });
});

Deno.test("api docs: /openapi.json is OpenAPI 3.1 with the analysis endpoints; /docs is HTML", async () => {
  await withService({}, async (svc) => {
    const o = await call(svc, "/openapi.json");
    assert.deepStrictEqual(o.status, 200);
    const doc = o.body;
    assert(/^3\.1\.\d+$/.test(doc.openapi), `openapi ${doc.openapi}`);
    assert.deepStrictEqual(doc.info.title, "infoplane");
    assert(doc.paths["/v1/analyses"]?.post, "POST /v1/analyses");
    assert(doc.paths["/v1/analyses/{id}"]?.get, "GET /v1/analyses/{id}");
    assert(doc.paths["/v1/health"]?.get, "GET /v1/health");
    const post = doc.paths["/v1/analyses"].post;
    assert(post.requestBody.content["multipart/form-data"], "multipart body documented");
    assert(post.requestBody.content["application/json"], "JSON body documented");
    for (const code of ["200", "202", "400", "413", "415", "422"]) {
      assert(post.responses[code], `response ${code} documented`);
    }
    assert(doc.components.schemas.Estimator, "Estimator schema");
    assert(doc.components.schemas.Problem, "Problem schema");

    // Every operation has a short, unique camelCase id; keys are described; servers are set.
    const ids: string[] = [];
    for (const item of Object.values<Record<string, { operationId?: string }>>(doc.paths)) {
      for (const op of Object.values(item)) ids.push(op.operationId ?? "(none)");
    }
    assert(ids.every((id) => /^[a-z][A-Za-z]+$/.test(id)), ids.join(", "));
    assert.deepStrictEqual(new Set(ids).size, ids.length, "operation ids are unique");
    for (const id of ["createAnalysis", "getAnalysis", "listJobs", "cancelTraining"]) {
      assert(ids.includes(id), id);
    }
    assert.deepStrictEqual(Object.keys(doc.components.securitySchemes).sort(), [
      "apiKeyHeader",
      "bearerAuth",
    ]);
    assert.deepStrictEqual(doc.paths["/v1/health"].get.security, [], "health needs no key");
    assert.deepStrictEqual(doc.servers, [{ url: "/", description: doc.servers[0].description }]);

    // /docs: Swagger UI from the project's own node_modules (no CDN), pointed at the document.
    const d = await call(svc, "/docs");
    assert.deepStrictEqual(d.status, 200);
    assert(d.headers.get("content-type")!.startsWith("text/html"), "html");
    assert(!/https?:\/\//.test(d.text.replace(/<a [^>]*>/g, "")), "no external scripts or styles");
    const init = await call(svc, "/docs/init.js");
    assert(init.text.includes('"/openapi.json"'), init.text);
    for (const asset of ["swagger-ui-bundle.js", "swagger-ui.css"]) {
      assert(d.text.includes(`/docs/assets/${asset}`), `/docs loads ${asset}`);
      const a = await call(svc, `/docs/assets/${asset}`);
      assert.deepStrictEqual(a.status, 200, asset);
      assert(a.text.length > 100_000, `${asset}: ${a.text.length} bytes`);
    }
    assertProblem(await call(svc, "/docs/assets/package.json"), 404);

    // Problem types: each kind anchored on /docs/problems, where `type` points.
    const p = await call(svc, "/docs/problems");
    assert.deepStrictEqual(p.status, 200);
    assert(p.text.includes('id="non-finite"'), "problem types are anchored");
    const bad = await call(svc, "/v1/analyses/nope");
    assert.deepStrictEqual(bad.body.type, "/docs/problems#not-found");
    assert(p.text.includes('id="not-found"'));

    const root = await call(svc, "/", { redirect: "manual" });
    assert.deepStrictEqual(root.status, 200, "/ is the viewer's list of results");
    assert(root.headers.get("content-type")!.startsWith("text/html"), "html");
    assert(root.text.includes('href="/docs"'), "the list page links the API docs");
  });
});

/**
 * Bad requests against a real server: each answers application/problem+json with a status, a
 * title, a detail and the field or file at fault, and the service keeps serving afterwards.
 */
import assert from "node:assert/strict";
import { zipSync } from "fflate";
import type { NdArray } from "../lib/dump/mod.ts";
import {
  assertProblem,
  assertStillServing,
  call,
  encodeNpy,
  encodeNpz,
  makeDump,
  postForm,
  postJson,
  postNpz,
  type TestService,
  toCsv,
  toNested,
  withService,
} from "./api_helpers.ts";

/** A small valid dump to break in one place. */
function base(seed = 11): Record<string, NdArray> {
  return makeDump({ m: 16, dx: 4, layers: { fc1: 3, fc2: 2 }, seed });
}

/** The per-array multipart upload of a dump, with some files replaced. */
function perArray(
  d: Record<string, NdArray>,
  replace: Record<string, { bytes: Uint8Array | string; name: string }> = {},
) {
  const files: Record<string, { bytes: Uint8Array | string; name: string }> = {};
  for (const [k, a] of Object.entries(d)) files[k] = { bytes: encodeNpy(a), name: `${k}.npy` };
  return { ...files, ...replace };
}

/** A .npy written by hand with any descr (e.g. complex64 '<c8', float16 '<f2'). */
function handNpy(descr: string, shape: number[], itemSize: number): Uint8Array {
  const count = shape.reduce((p, n) => p * n, 1);
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(", ")}${
    shape.length === 1 ? "," : ""
  }), }`;
  header += " ".repeat(63 - ((10 + header.length) % 64)) + "\n";
  const out = new Uint8Array(10 + header.length + count * itemSize);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  for (let i = 10 + header.length; i < out.length; i++) out[i] = (i * 7) & 0x3f;
  return out;
}

/** An .npz whose entries are raw bytes (to smuggle in damaged arrays). */
function rawNpz(entries: Record<string, Uint8Array>): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0 }]> = {};
  for (const [k, v] of Object.entries(entries)) files[`${k}.npy`] = [v, { level: 0 }];
  return zipSync(files);
}

function withValue(a: NdArray, index: number, value: number): NdArray {
  const data = (a.data as Float32Array).slice();
  data[index] = value;
  return { ...a, data };
}

/** Runs `fn` on one service, then checks the service still serves. */
async function errorCase(
  env: Record<string, string>,
  fn: (svc: TestService) => Promise<void>,
): Promise<void> {
  await withService(env, async (svc) => {
    await fn(svc);
    await assertStillServing(svc);
  });
}

Deno.test("api errors: damaged .npy files", async () => {
  await errorCase({}, async (svc) => {
    const d = base();
    const x = encodeNpy(d.x);

    // Truncated .npy upload (data cut short).
    let p = assertProblem(
      await postForm(svc, perArray(d, { x: { bytes: x.slice(0, x.length - 10), name: "x.npy" } })),
      400,
      "x",
    );
    assert(p.detail.includes("x.npy"), p.detail);
    // Truncated inside the header.
    assertProblem(
      await postForm(svc, perArray(d, { fc2: { bytes: x.slice(0, 20), name: "fc2.npy" } })),
      400,
      "fc2",
    );
    // Truncated array inside an .npz.
    const fc1 = encodeNpy(d.fc1);
    const npz = rawNpz({
      x,
      y: encodeNpy(d.y),
      fc1: fc1.slice(0, fc1.length - 4),
    });
    assertProblem(await postNpz(svc, npz), 400, "fc1");

    // Bad magic inside an .npz.
    const bad = fc1.slice();
    bad.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x58], 0); // \x93NUMPX
    assertProblem(await postNpz(svc, rawNpz({ x, y: encodeNpy(d.y), fc1: bad })), 400, "fc1");
    // Bad magic on a per-array upload: not .npy, and not a text CSV either.
    p = assertProblem(
      await postForm(svc, perArray(d, { y: { bytes: bad, name: "y.npy" } })),
      400,
      "y",
    );
    assert(p.detail.includes("y.npy"), p.detail);
  });
});

/** Damaged archives: random bytes, cut in the middle, cut through the central directory. */
function damagedArchives(): Uint8Array[] {
  const rand = new Uint8Array(2000);
  for (let i = 0; i < rand.length; i++) rand[i] = (Math.imul(i + 1, 2654435761) >>> 24) & 0xff;
  const npz = encodeNpz(base());
  return [rand, npz.slice(0, Math.floor(npz.length / 2)), npz.slice(0, npz.length - 30)];
}

Deno.test("api errors: malformed .npz archives", async () => {
  await errorCase({}, async (svc) => {
    for (const bytes of damagedArchives()) {
      const p = assertProblem(await postNpz(svc, bytes), 400);
      assert.deepStrictEqual(p.title, "Malformed file");
      assert(p.detail.includes("dump.npz"), `the file is named: ${p.detail}`);
    }
    const npz = encodeNpz(base());
    // An .npz in a per-array field.
    assertProblem(
      await postForm(svc, perArray(base(), { fc1: { bytes: npz, name: "fc1.npz" } })),
      400,
      "fc1",
    );
  });
});

Deno.test("api errors: unsupported dtypes", async () => {
  await errorCase({}, async (svc) => {
    const d = base();
    let p = assertProblem(
      await postForm(
        svc,
        perArray(d, { fc1: { bytes: handNpy("<c8", [16, 3], 8), name: "c.npy" } }),
      ),
      422,
      "fc1",
    );
    assert(p.detail.includes("<c8"), p.detail);
    p = assertProblem(
      // float16 and bfloat16 are read (as float32) now; 16-bit integers still are not.
      await postForm(svc, perArray(d, { x: { bytes: handNpy("<u2", [16, 4], 2), name: "h.npy" } })),
      422,
      "x",
    );
    assert(p.detail.includes("<u2"), p.detail);
    // The same inside an .npz.
    const npz = rawNpz({
      x: encodeNpy(d.x),
      y: encodeNpy(d.y),
      fc2: handNpy("<c8", [16, 2], 8),
    });
    assertProblem(await postNpz(svc, npz), 422, "fc2");
  });
});

Deno.test("api errors: ragged CSV and mismatched row counts", async () => {
  await errorCase({}, async (svc) => {
    const d = base();
    const ragged = toCsv(d.fc1).replace(/\n([^\n]*)\n/, "\n$1,7\n");
    let p = assertProblem(
      await postForm(svc, perArray(d, { fc1: { bytes: ragged, name: "fc1.csv" } })),
      400,
      "fc1",
    );
    assert(p.detail.includes("fc1.csv"), p.detail);

    // A layer with fewer rows than x.
    const short: NdArray = { ...d.fc2, shape: [15, 2], data: d.fc2.data.slice(0, 30) };
    p = assertProblem(await postNpz(svc, encodeNpz({ ...d, fc2: short })), 422, "fc2");
    assert.deepStrictEqual(p.title, "Shape mismatch");
    // Labels with more rows than x.
    const y: NdArray = {
      shape: [17],
      dtype: "int32",
      data: new Int32Array(17).map((_, i) => i % 3),
    };
    assertProblem(
      await postForm(svc, perArray(d, { y: { bytes: encodeNpy(y), name: "y.npy" } })),
      422,
      "y",
    );
    // Multi-checkpoint: one checkpoint's layer has the wrong row count.
    const m = makeDump({ m: 16, dx: 4, layers: { fc1: 3 }, steps: [0, 5], seed: 12 });
    m["5/fc1"] = { ...m["5/fc1"], shape: [8, 6] };
    assertProblem(await postNpz(svc, encodeNpz(m)), 422, "5/fc1");
  });
});

Deno.test("api errors: non-finite values and too few samples", async () => {
  await errorCase({}, async (svc) => {
    const d = base();
    let p = assertProblem(
      await postNpz(svc, encodeNpz({ ...d, fc2: withValue(d.fc2, 7, NaN) })),
      422,
      "fc2",
    );
    assert.deepStrictEqual(p.title, "Non-finite values");
    p = assertProblem(
      await postForm(
        svc,
        perArray(d, {
          x: { bytes: encodeNpy(withValue(d.x, 5, Infinity)), name: "x.npy" },
        }),
      ),
      422,
      "x",
    );
    assert.deepStrictEqual(p.title, "Non-finite values");
    // NaN as JSON null in the JSON form.
    const fc1 = toNested(d.fc1) as (number | null)[][];
    fc1[2][1] = null;
    assertProblem(
      await postJson(svc, { x: toNested(d.x), y: toNested(d.y), layers: { fc1 } }),
      422,
      "fc1",
    );

    const tiny = makeDump({ m: 3, dx: 2, classes: 2, layers: { fc1: 2 }, seed: 13 });
    p = assertProblem(await postNpz(svc, encodeNpz(tiny)), 422, "x");
    assert.deepStrictEqual(p.title, "Too few samples");
    assertProblem(
      await postJson(svc, {
        x: toNested(tiny.x),
        y: toNested(tiny.y),
        layers: { fc1: toNested(tiny.fc1) },
      }),
      422,
      "x",
    );
  });
});

Deno.test("api errors: estimator and JSON body validation", async () => {
  await errorCase({}, async (svc) => {
    const d = base();
    const json = { x: toNested(d.x), y: toNested(d.y), layers: { fc1: toNested(d.fc1) } };

    // Unknown estimator field, multipart.
    let p = assertProblem(
      await postNpz(svc, encodeNpz(d), { estimator: { kernel: "linear", bandwidth: 3 } }),
      422,
      "estimator.bandwidth",
    );
    assert(p.detail.includes("bandwidth"), p.detail);
    // Bad estimator value, multipart; estimator that is not JSON.
    assertProblem(
      await postNpz(svc, encodeNpz(d), { estimator: { batch_size: 2 } }),
      422,
      /^estimator/,
    );
    assertProblem(
      await postNpz(svc, encodeNpz(d), { estimatorText: "{kernel:" }),
      422,
      "estimator",
    );
    // Unknown estimator field, JSON body.
    p = assertProblem(
      await postJson(svc, { ...json, estimator: { bandwidth: 3 } }),
      422,
      /^estimator/,
    );
    assert(p.detail.includes("bandwidth"), p.detail);
    assertProblem(
      await postJson(svc, { ...json, estimator: { kernel: "rbf" } }),
      422,
      "estimator.kernel",
    );
    // Unknown top-level key.
    p = assertProblem(await postJson(svc, { ...json, activations: {} }), 422, "activations");
    assert(p.detail.includes("activations"), p.detail);
    // Unknown text field in a multipart form.
    const form = new FormData();
    form.append("dump", new File([encodeNpz(d) as BlobPart], "d.npz"));
    form.append("note", "hello");
    assertProblem(await call(svc, "/v1/analyses", { method: "POST", body: form }), 422, "note");
    // Missing x.
    assertProblem(await postJson(svc, { y: json.y, layers: json.layers }), 422, "x");
    // Malformed JSON text.
    p = assertProblem(await postJson(svc, '{"x": [[1, 2]], "y": '), 400);
    assert(/json/i.test(p.detail), p.detail);
  });
});

Deno.test("api errors: limits, unknown ids and content types", async () => {
  // 0.01 MiB = 10486 bytes.
  await errorCase({ INFOPLANE_MAX_BODY_MB: "0.01", INFOPLANE_MAX_SAMPLES: "20" }, async (svc) => {
    const big = encodeNpz(makeDump({ m: 20, dx: 200, layers: { fc1: 4 }, seed: 14 }));
    assert(big.length > 10486, `${big.length}`);
    let p = assertProblem(await postNpz(svc, big), 413);
    assert.deepStrictEqual(p.title, "Payload too large");
    // Also when the body is JSON.
    const jsonBig = JSON.stringify({ x: "a".repeat(20_000), y: [] });
    assertProblem(await postJson(svc, jsonBig), 413);

    // More samples than INFOPLANE_MAX_SAMPLES (in a body under the size limit).
    const many = makeDump({ m: 21, dx: 2, layers: { fc1: 2 }, seed: 15 });
    const npz = encodeNpz(many);
    assert(npz.length < 10486, `${npz.length}`);
    p = assertProblem(await postNpz(svc, npz), 413, "x");
    assert(p.detail.includes("21"), p.detail);

    p = assertProblem(await call(svc, "/v1/analyses/00000000-0000-0000-0000-000000000000"), 404);
    assertProblem(await call(svc, "/v1/analyses/nope.csv"), 404);
    assertProblem(await call(svc, "/v1/nothing-here"), 404);

    p = assertProblem(
      await call(svc, "/v1/analyses", {
        method: "POST",
        body: "x,y\n1,2\n",
        headers: { "content-type": "text/plain" },
      }),
      415,
    );
  });
});

Deno.test("api errors: a failed analysis leaves the service usable many times over", async () => {
  await withService({}, async (svc) => {
    const d = base();
    for (let i = 0; i < 5; i++) {
      assertProblem(await postNpz(svc, new Uint8Array([0x50, 0x4b, 3, 4, i])), 400);
      assertProblem(await postNpz(svc, encodeNpz({ ...d, fc1: withValue(d.fc1, i, NaN) })), 422);
    }
    const h = await call(svc, "/v1/health");
    assert.deepStrictEqual(h.status, 200);
    assert.deepStrictEqual(h.body.workers.running, 0);
    await assertStillServing(svc);
  });
});

/**
 * Every problem names what is at fault: archive-level .npz damage the multipart field "dump",
 * HTTP-level problems "(body)", "content-type" or "id".
 */
Deno.test({
  name: "api errors: every problem names a field",
  fn: async () => {
    await withService({ INFOPLANE_MAX_BODY_MB: "0.01" }, async (svc) => {
      for (const bytes of damagedArchives()) assertProblem(await postNpz(svc, bytes), 400, "dump");
      assertProblem(await postJson(svc, '{"x": '), 400, "(body)");
      assertProblem(await postJson(svc, JSON.stringify({ x: "a".repeat(20_000) })), 413, "(body)");
      const plain = { method: "POST", body: "1,2", headers: { "content-type": "text/plain" } };
      assertProblem(await call(svc, "/v1/analyses", plain), 415, "content-type");
      assertProblem(await call(svc, "/v1/analyses/nope"), 404, "id");
    });
  },
});

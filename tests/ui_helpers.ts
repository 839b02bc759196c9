/**
 * Helpers for the viewer's tests (tests/ui_test.ts, tests/ui_browser_test.ts): results to look
 * at (two analyses with different estimators, one with similarity maps and a sweep, and a
 * training from the fast stand-in runner), each labelled with text that must come out escaped.
 */
import assert from "node:assert/strict";
import { makeDump, postJson, type TestService, toNested, waitDone } from "./api_helpers.ts";
import { postTraining, tinyRequest, waitTraining } from "./trainings_helpers.ts";
import type { SuiteResult } from "../lib/experiments/mod.ts";
import { type JobRecord, newRecord } from "../workers/mod.ts";

/** A label that breaks pages that do not escape it. */
export const HOSTILE_LABEL = `<img src=x onerror="window.__xss=1"> & "quotes" <b>bold</b>`;

/** The JSON form of a dump with checkpoints. */
export function dumpJson(seed: number, steps = [0, 100, 200, 400]): Record<string, unknown> {
  const arrays = makeDump({
    m: 64,
    dx: 8,
    classes: 4,
    layers: { fc1: 12, fc2: 8, out: 4 },
    steps,
    seed,
  });
  return {
    x: toNested(arrays.x),
    y: toNested(arrays.y),
    checkpoints: steps.map((step) => ({
      step,
      layers: Object.fromEntries(
        ["fc1", "fc2", "out"].map((l) => [l, toNested(arrays[`${step}/${l}`])]),
      ),
    })),
  };
}

/** Ids of the seeded results. */
export interface Seeded {
  /** Analysis with similarity maps and a sweep; labelled {@link HOSTILE_LABEL}. */
  analysis: string;
  /** Analysis with another estimator (sigma 2, batches of 32). */
  other: string;
  /** Training (stand-in runner), done. */
  training: string;
}

/** Posts the results and waits until they are done. */
export async function seedResults(
  svc: TestService,
  headers: Record<string, string> = {},
): Promise<Seeded> {
  const a = await postJson(svc, {
    ...dumpJson(3),
    label: HOSTILE_LABEL,
    similarity: ["cka_linear"],
    sweep: { sigma: [2, 5, 10] },
  }, { headers });
  assert.deepStrictEqual(a.status, 200, a.text.slice(0, 300));
  const b = await postJson(svc, {
    ...dumpJson(4),
    label: "sigma 2, batches of 32",
    estimator: { sigma: 2, batch_size: 32 },
  }, { headers });
  assert.deepStrictEqual(b.status, 200, b.text.slice(0, 300));
  const t = await postTraining(svc, tinyRequest({ label: "mlp: e2e vs layer-wise" }), headers);
  assert.deepStrictEqual(t.status, 202, t.text.slice(0, 300));
  await waitDone(svc, a.body.id, { headers });
  await waitDone(svc, b.body.id, { headers });
  const done = await waitTraining(svc, t.body.id, undefined, { headers });
  assert.deepStrictEqual(done.body.status, "done", done.text.slice(0, 300));
  return { analysis: a.body.id, other: b.body.id, training: t.body.id };
}

/**
 * A finished experiment suite, stored directly (no training): the committed CPU-scale results
 * (docs/report/results.json.gz). Returns its id.
 */
export async function seedSuite(svc: TestService, owner = "public"): Promise<string> {
  const gz = await Deno.readFile(new URL("../docs/report/results.json.gz", import.meta.url));
  const text = await new Response(
    new Blob([gz]).stream().pipeThrough(new DecompressionStream("gzip")),
  ).text();
  const suite = JSON.parse(text) as SuiteResult;
  const rec = newRecord(
    "experiment",
    {
      names: suite.names,
      scale: suite.scale,
      backend: "auto",
      command: suite.command,
    },
    owner,
    { label: "paper, CPU scale" },
    1,
  );
  await svc.jobs.store.create(rec as JobRecord);
  await svc.jobs.store.update(rec.id, { status: "running", attempts: 1 });
  assert(await svc.jobs.store.complete(rec.id, text, { finished_at: new Date().toISOString() }));
  return rec.id;
}

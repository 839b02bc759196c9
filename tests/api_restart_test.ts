import assert from "node:assert/strict";
import { call, encodeNpz, makeDump, postNpz, resultOf, waitDone } from "./api_helpers.ts";
import { type Proc, startApiProc, stop } from "./trainings_helpers.ts";

/** A service subprocess on a fresh port over `dataDir`, with the analysis defaults. */
function startProc(dataDir: string): Promise<Proc & { url: string }> {
  return startApiProc({
    INFOPLANE_DATA_DIR: dataDir,
    INFOPLANE_WORKERS: "1",
    // Empty means the default, whatever the environment of the test run says.
    INFOPLANE_SYNC_LIMIT: "",
    INFOPLANE_MAX_SAMPLES: "",
    INFOPLANE_MAX_BODY_MB: "",
  });
}

/** Posts a large async analysis and waits until the worker has started on it. */
async function startLongAnalysis(url: string, seed: number): Promise<string> {
  const npz = encodeNpz(makeDump({ m: 2560, dx: 32, layers: { fc1: 32, fc2: 16 }, seed }));
  const r = await postNpz(url, npz, { async: true });
  assert.deepStrictEqual(r.status, 202, r.text);
  const id: string = r.body.id;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const g = await call(url, `/v1/analyses/${id}`);
    if (g.body.status !== "queued") break;
    await new Promise((ok) => setTimeout(ok, 10));
  }
  return id;
}

async function restartCase(signal: Deno.Signal): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "infoplane-restart-" });
  const procs: Proc[] = [];
  try {
    const first = await startProc(dataDir);
    procs.push(first);
    const small = encodeNpz(
      makeDump({ m: 40, layers: { fc1: 6, fc2: 3 }, steps: [0, 10], seed: 21 }),
    );
    const sync = await postNpz(first.url, small);
    assert.deepStrictEqual(sync.status, 200, sync.text);
    const early = await postNpz(first.url, small, { async: true });
    assert.deepStrictEqual(early.status, 202, early.text);
    const earlyDone = await waitDone(first.url, early.body.id);
    assert.deepStrictEqual(earlyDone.body.status, "done");
    // One still queued or running when the process goes away.
    const longId = await startLongAnalysis(first.url, 22);
    const before = await call(first.url, `/v1/analyses/${longId}`);
    const stopped = await stop(first, signal);
    procs.pop();
    // SIGTERM may need the SIGKILL fallback while OpenBLAS is busy (see the ignored test below).
    assert(stopped.code !== undefined);

    const second = await startProc(dataDir);
    procs.push(second);
    const h = await call(second.url, "/v1/health");
    assert.deepStrictEqual(h.body.status, "ok");

    const g1 = await call(second.url, `/v1/analyses/${sync.body.id}`);
    assert.deepStrictEqual(g1.status, 200);
    assert.deepStrictEqual(g1.body, sync.body, "the sync analysis survives unchanged");
    const g2 = await call(second.url, `/v1/analyses/${early.body.id}`);
    assert.deepStrictEqual(
      g2.body,
      earlyDone.body,
      "the finished async analysis survives unchanged",
    );
    assert.deepStrictEqual(resultOf(g2.body), resultOf(sync.body), "async and sync results agree");
    const csv = await call(second.url, `/v1/analyses/${sync.body.id}.csv`);
    assert.deepStrictEqual(csv.status, 200);
    assert.deepStrictEqual(csv.text.trim().split(/\r?\n/).length, 1 + 4);

    const long = await waitDone(second.url, longId, { timeoutMs: 40_000 });
    assert.deepStrictEqual(
      long.body.status,
      "done",
      `analysis ${before.body.status} at the ${signal} ends ${long.body.status}: ` +
        JSON.stringify(long.body.error),
    );
    assert.deepStrictEqual(long.body.m, 2560);
    assert.deepStrictEqual(long.body.checkpoints[0].layers.length, 2);
    assert(Number.isFinite(long.body.checkpoints[0].layers[1].nhsic_x), "a result");
    assert.deepStrictEqual(long.body.created_at, before.body.created_at, "same analysis");

    // And once more: a finished result is stable across a further restart.
    await stop(second);
    procs.pop();
    const third = await startProc(dataDir);
    procs.push(third);
    const again = await call(third.url, `/v1/analyses/${longId}`);
    assert.deepStrictEqual(again.body, long.body);
  } finally {
    for (const p of procs) await stop(p, "SIGKILL");
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

Deno.test("api restart: analyses survive SIGTERM, an interrupted one finishes after restart", async () => {
  await restartCase("SIGTERM");
});

Deno.test("api restart: analyses survive SIGKILL, an interrupted one finishes after restart", async () => {
  await restartCase("SIGKILL");
});

/**
 * A SIGTERM that arrives while a worker is inside an OpenBLAS call must not hang or crash the
 * exit (OpenBLAS's exit handler joins its threads): shutdown cancels at the next safe point.
 */
Deno.test({
  name: "api restart: SIGTERM during a running analysis exits cleanly",
  fn: async () => {
    for (let i = 0; i < 5; i++) {
      const dataDir = await Deno.makeTempDir({ prefix: "infoplane-sigterm-" });
      const p = await startProc(dataDir);
      try {
        const id = await startLongAnalysis(p.url, 30 + i);
        const st = await stop(p, "SIGTERM", 5_000);
        assert.deepStrictEqual(st.code, 0, `stop ${i + 1} while analysis ${id} ran`);
      } finally {
        await stop(p, "SIGKILL");
        await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      }
    }
  },
});

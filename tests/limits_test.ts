/**
 * What no client can do to the service (issue "Nothing a client sends can take the service
 * down"): the hostile set of scripts/smoke.ts against a real service process under a small
 * memory budget (its RSS sampled from /proc throughout), rate and concurrency limits, queue
 * depth, retention, a full disk, a damaged job store at start, and SIGTERM inside a long native
 * computation.
 */
import assert from "node:assert/strict";
import { encodeNpz, type NdArray } from "../lib/dump/mod.ts";
import { runHostile } from "../scripts/smoke.ts";
import { assertProblem, bearer, call, makeDump, withService } from "./api_helpers.ts";
import {
  postTraining,
  startApiProc,
  stop,
  tinyRequest,
  waitTraining,
  withTrainingService,
} from "./trainings_helpers.ts";

/** Peak RSS of a process while `fn` runs, from /proc (null where /proc is not there). */
async function peakRss<T>(pid: number, fn: () => Promise<T>): Promise<[T, number | null]> {
  let peak: number | null = null, running = true;
  const sample = (async () => {
    while (running) {
      try {
        const status = await Deno.readTextFile(`/proc/${pid}/status`);
        const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
        if (kb) peak = Math.max(peak ?? 0, kb * 1024);
      } catch {
        return;
      }
      await new Promise((ok) => setTimeout(ok, 100));
    }
  })();
  try {
    return [await fn(), peak];
  } finally {
    running = false;
    await sample;
  }
}

const MB = 1024 * 1024;

Deno.test({
  name: "limits: the hostile set leaves the service within its memory budget and answering",
  fn: async () => {
    const budget = 768;
    const dataDir = await Deno.makeTempDir({ prefix: "infoplane-hostile-" });
    const api = await startApiProc({
      INFOPLANE_DATA_DIR: dataDir,
      INFOPLANE_MEMORY_MB: String(budget),
      INFOPLANE_WORKERS: "1",
      MALLOC_MMAP_THRESHOLD_: "131072",
      MALLOC_TRIM_THRESHOLD_: "131072",
    });
    try {
      const [report, peak] = await peakRss(
        api.child.pid,
        () => runHostile(api.url, { uploads: 50, uploadBytes: 12_000_000 }),
      );
      for (const c of report.cases) {
        console.log(`${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.got} (${c.ms.toFixed(0)} ms)`);
      }
      console.log(
        `peak RSS ${peak === null ? "?" : (peak / MB).toFixed(0)} MB (budget ${budget} MB); ` +
          `slowest health answer ${report.healthMaxMs.toFixed(0)} ms of ${report.healthProbes}`,
      );
      for (const c of report.cases) assert(c.ok, `${c.name}: got ${c.got}, expected ${c.expected}`);
      if (peak !== null) assert(peak < budget * MB, `peak RSS ${(peak / MB).toFixed(0)} MB`);
      // Timing is reported, not judged tightly (a loaded CI machine): the service answered.
      assert(report.healthProbes > 10 && report.healthMaxMs < 10_000, `${report.healthMaxMs} ms`);
    } finally {
      await stop(api, "SIGTERM", 15_000);
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("limits: requests per minute and uploads per client, with Retry-After", async () => {
  await withService({ INFOPLANE_RATE_PER_MIN: "12", INFOPLANE_API_KEYS: "a,b" }, async (svc) => {
    for (let i = 0; i < 12; i++) {
      const r = await call(svc, "/v1/jobs", { headers: bearer("a") });
      assert.deepStrictEqual(r.status, 200, r.text);
    }
    const p = assertProblem(await call(svc, "/v1/jobs", { headers: bearer("a") }), 429);
    assert(/12 requests in a minute/.test(p.detail), p.detail);
    const again = await call(svc, "/v1/jobs", { headers: bearer("a") });
    assert(Number(again.headers.get("retry-after")) >= 1, "Retry-After");
    // Another key has its own allowance; health is never limited.
    assert.deepStrictEqual((await call(svc, "/v1/jobs", { headers: bearer("b") })).status, 200);
    assert.deepStrictEqual((await call(svc, "/v1/health")).status, 200);
  });
});

Deno.test("limits: queue depth (503) and unfinished jobs per client (429)", async () => {
  const long = tinyRequest({
    methods: [{ name: "e2e" }],
    dataset: { name: "mnist", train_limit: 64 * 1000, test_limit: 256 },
  });
  await withTrainingService({ INFOPLANE_MAX_QUEUED: "1" }, async (svc) => {
    const a = await postTraining(svc, long);
    await waitTraining(svc, a.body.id, (b) => b.status === "running");
    const b = await postTraining(svc, long);
    assert.deepStrictEqual(b.status, 202);
    const full = await postTraining(svc, long);
    assertProblem(full, 503);
    assert(Number(full.headers.get("retry-after")) > 0, "Retry-After");
    for (const r of [a, b]) await call(svc, `/v1/trainings/${r.body.id}`, { method: "DELETE" });
  }, 20);
  await withTrainingService({ INFOPLANE_MAX_ACTIVE_JOBS: "2" }, async (svc) => {
    const ids = [];
    for (let i = 0; i < 2; i++) ids.push((await postTraining(svc, long)).body.id);
    const p = assertProblem(await postTraining(svc, long), 429);
    assert(/2 jobs queued or running/.test(p.detail), p.detail);
    for (const id of ids) await call(svc, `/v1/trainings/${id}`, { method: "DELETE" });
    assert.deepStrictEqual((await postTraining(svc, tinyRequest())).status, 202);
  }, 20);
});

function dumpForm(m = 64): FormData {
  const f = new FormData();
  f.set("dump", new File([encodeNpz(makeDump({ m })) as BlobPart], "d.npz"));
  return f;
}

Deno.test("limits: finished jobs expire; a full disk is a 507 and degraded health", async () => {
  await withService(
    { INFOPLANE_RETENTION_DAYS: String(1 / 86_400), INFOPLANE_SWEEP_MS: "200" },
    async (svc) => {
      const r = await call(svc, "/v1/analyses", { method: "POST", body: dumpForm() });
      assert.deepStrictEqual(r.status, 200, r.text);
      let gone = false;
      for (let i = 0; i < 50 && !gone; i++) {
        await new Promise((ok) => setTimeout(ok, 100));
        gone = (await call(svc, `/v1/analyses/${r.body.id}`)).status === 404;
      }
      assert(gone, "the analysis is deleted a second after it finished");
    },
  );
  await withService({ INFOPLANE_MIN_FREE_DISK_MB: String(1e12) }, async (svc) => {
    const p = assertProblem(
      await call(svc, "/v1/analyses", { method: "POST", body: dumpForm() }),
      507,
    );
    assert(/disk/.test(p.detail), p.detail);
    const h = await call(svc, "/v1/health");
    assert.deepStrictEqual(h.body.status, "degraded");
    assert(h.body.reasons.some((r: string) => r.startsWith("disk:")), h.body.reasons.join("; "));
  });
});

Deno.test("limits: an empty or damaged job store stops the start with one line", async () => {
  for (const bytes of [new Uint8Array(0), new Uint8Array(4096).fill(7)]) {
    const dir = await Deno.makeTempDir({ prefix: "infoplane-badkv-" });
    try {
      await Deno.writeFile(`${dir}/infoplane.kv.sqlite`, bytes);
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "main.ts"],
        env: { PORT: "0", INFOPLANE_DATA_DIR: dir },
        cwd: new URL("..", import.meta.url),
        stdout: "piped",
        stderr: "piped",
      }).output();
      // Deno's own note on main.ts's default export (for `deno serve`) aside.
      const err = new TextDecoder().decode(out.stderr).split("\n")
        .filter((l) => !/Detected export default \{ fetch \}/.test(l)).join("\n").trim();
      assert.deepStrictEqual(out.code, 1, err);
      assert.deepStrictEqual(err.split("\n").length, 1, err);
      assert(err.includes("infoplane.kv.sqlite") && /restore it from a backup/.test(err), err);
      // Nothing was written over the file.
      assert.deepStrictEqual(await Deno.readFile(`${dir}/infoplane.kv.sqlite`), bytes);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test({
  name: "limits: SIGTERM inside a long native computation exits within the grace period",
  fn: async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "infoplane-grace-" });
    const env = { INFOPLANE_DATA_DIR: dataDir, INFOPLANE_SHUTDOWN_GRACE_MS: "2000" };
    try {
      const api = await startApiProc(env);
      // m = 6144: each exact inverse is one OpenBLAS call of about a second or more.
      const m = 6144;
      const x: NdArray = {
        shape: [m, 64],
        dtype: "float32",
        data: Float32Array.from({ length: m * 64 }, (_, i) => Math.sin(i * 0.37)),
      };
      const arrays = { ...makeDump({ m, dx: 2, layers: { fc1: 32 }, seed: 3 }), x };
      const f = new FormData();
      f.set("dump", new File([encodeNpz(arrays) as BlobPart], "d.npz"));
      const r = await call(api.url, "/v1/analyses?async=true", { method: "POST", body: f });
      assert.deepStrictEqual(r.status, 202, r.text);
      for (let i = 0; i < 200; i++) {
        if ((await call(api.url, `/v1/analyses/${r.body.id}`)).body.status === "running") break;
        await new Promise((ok) => setTimeout(ok, 50));
      }
      await new Promise((ok) => setTimeout(ok, 500));
      const t0 = performance.now();
      const st = await stop(api, "SIGTERM", 10_000);
      const s = (performance.now() - t0) / 1000;
      console.log(`exited ${s.toFixed(1)} s after SIGTERM (grace 2 s), code ${st.code}`);
      assert.deepStrictEqual(st.code, 0, api.seen());
      assert(s < 6, `took ${s} s`);
      // The interrupted job is queued again, its attempt not used up.
      const again = await startApiProc(env);
      try {
        const rec = (await call(again.url, `/v1/analyses/${r.body.id}`)).body;
        assert(["queued", "running"].includes(rec.status), rec.status);
        assert(rec.attempts <= 1, `attempts ${rec.attempts}`);
      } finally {
        await stop(again, "SIGTERM", 10_000);
      }
    } finally {
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});

/**
 * The Python client (clients/python, module `infoplane`) against a real service: starts one on a
 * free port and runs the package's unittest suite with INFOPLANE_URL pointing at it (plain arrays
 * answered 200, a forced 202 followed to the end, problem+json errors as ApiError, and with
 * torch a 2048-sample, 3-checkpoint dump recorded from a small MLP). The offline tests (dump
 * format, multipart, polling against a scripted server, the Recorder) run first, without a
 * service.
 *
 * Python: INFOPLANE_PYTHON when set, else /usr/bin/python3, else python3; the first that imports
 * numpy. Without one the file is skipped with a message; without torch the PyTorch tests are
 * skipped by the Python suite (its output says so).
 */
import assert from "node:assert/strict";
import { withService } from "./api_helpers.ts";

const ROOT = new URL("../clients/python/", import.meta.url).pathname;
const TESTS = `${ROOT}tests`;

async function findPython(): Promise<{ python: string | null; tried: string[] }> {
  const forced = Deno.env.get("INFOPLANE_PYTHON")?.trim();
  const candidates = forced ? [forced] : ["/usr/bin/python3", "python3"];
  const tried: string[] = [];
  for (const py of candidates) {
    try {
      const out = await new Deno.Command(py, {
        args: ["-c", "import numpy"],
        stdout: "null",
        stderr: "piped",
      }).output();
      if (out.success) return { python: py, tried };
      const err = new TextDecoder().decode(out.stderr).trim().split("\n").pop();
      tried.push(`${py}: ${err}`);
    } catch (e) {
      tried.push(`${py}: ${e instanceof Deno.errors.NotFound ? "not found" : String(e)}`);
    }
  }
  return { python: null, tried };
}

const { python, tried } = await findPython();
if (!python) {
  console.log(
    `python_client_test: skipped, no Python with numpy (${tried.join("; ")}); set ` +
      "INFOPLANE_PYTHON to one",
  );
}

/** Runs one unittest module of clients/python/tests; prints its output; returns it. */
async function runSuite(module: string, env: Record<string, string>): Promise<string> {
  const t0 = performance.now();
  const out = await new Deno.Command(python!, {
    args: ["-m", "unittest", "-v", module],
    cwd: TESTS,
    env: {
      PYTHONPATH: ROOT,
      PYTHONDONTWRITEBYTECODE: "1",
      // The service is on loopback: never send it through a proxy from the environment.
      NO_PROXY: "127.0.0.1,localhost",
      no_proxy: "127.0.0.1,localhost",
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  console.log(
    `${python} -m unittest ${module} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  console.log(text.trimEnd().split("\n").map((l) => `  ${l}`).join("\n"));
  assert(out.success, `the Python suite ${module} failed (exit ${out.code})`);
  assert(/\nOK\b/.test(text), `no OK line in the output of ${module}`);
  return text;
}

Deno.test({
  name: "python client: dump format, multipart, polling and Recorder (no service)",
  ignore: !python,
  async fn() {
    await runSuite("test_offline", { INFOPLANE_URL: "" });
  },
});

Deno.test({
  name: "python client: against a live service (sync, 202 followed, errors, torch recording)",
  ignore: !python,
  async fn() {
    await withService({}, async (svc) => {
      const text = await runSuite("test_live", { INFOPLANE_URL: svc.url });
      assert(!/skipped 'INFOPLANE_URL/.test(text), "the live tests did not run");
    });
  },
});

/// <reference lib="deno.worker" />
/**
 * Web Worker of scripts/smoke.ts: asks a health URL one request at a time, every 50 ms, until
 * told to stop, then posts the slowest answer's time and the number of requests.
 *
 * @module
 */
let stop = false;
self.onmessage = async (
  e: MessageEvent<{ url: string; headers: Record<string, string> } | "stop">,
) => {
  if (e.data === "stop") {
    stop = true;
    return;
  }
  let maxMs = 0, probes = 0;
  while (!stop) {
    const t0 = performance.now();
    try {
      const res = await fetch(e.data.url, { headers: e.data.headers });
      await res.body?.cancel();
    } catch {
      // counted as slow as it was
    }
    maxMs = Math.max(maxMs, performance.now() - t0);
    probes++;
    await new Promise((ok) => setTimeout(ok, 50));
  }
  self.postMessage({ maxMs, probes });
};

/** Local file fixtures for download tests: an HTTP server on 127.0.0.1 and temporary dirs. */

/** Serves `routes` on a free 127.0.0.1 port for the duration of `fn`; counts requests. */
export async function withServer(
  routes: Record<string, Uint8Array>,
  fn: (base: string, hits: Map<string, number>) => Promise<void>,
): Promise<void> {
  const hits = new Map<string, number>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const body = routes[path];
    return body
      ? new Response(body as Uint8Array<ArrayBuffer>)
      : new Response("not found", { status: 404 });
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, hits);
  } finally {
    await server.shutdown();
  }
}

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
export async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

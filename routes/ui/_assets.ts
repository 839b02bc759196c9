/**
 * The viewer's static files: its own script modules and style sheet (./assets/), and the browser
 * builds of vega, vega-lite and vega-embed read from the service's own npm dependencies
 * (node_modules, installed with the service; nothing is fetched from a CDN, so pages work
 * offline). Files are read once, kept in memory with a strong ETag, and sent gzipped to clients
 * that accept it.
 *
 *   GET /ui/assets/{vega.js | vega-lite.js | vega-embed.js | <own file>}
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import type { Context } from "hono";
import { NotFoundError } from "../../lib/errors.ts";

/** Browser builds of the chart libraries, by the name pages load them under. */
const VENDOR: Readonly<Record<string, () => string>> = {
  "vega.js": () => fileURLToPath(import.meta.resolve("vega/build/vega.min.js")),
  "vega-lite.js": () => fileURLToPath(import.meta.resolve("vega-lite/build/vega-lite.min.js")),
  // vega-embed exports only its module entry; its UMD build sits next to it.
  "vega-embed.js": () =>
    join(dirname(fileURLToPath(import.meta.resolve("vega-embed"))), "vega-embed.min.js"),
  // The charts' font (the same files the service renders SVG and PNG with).
  "inter-400.ttf": () =>
    fileURLToPath(import.meta.resolve("@expo-google-fonts/inter/400Regular/Inter_400Regular.ttf")),
  "inter-700.ttf": () =>
    fileURLToPath(import.meta.resolve("@expo-google-fonts/inter/700Bold/Inter_700Bold.ttf")),
};

/** The viewer's own files (./assets/). */
const OWN = new Set([
  "ui.css",
  "core.js",
  "list.js",
  "result.js",
  "analysis.js",
  "training.js",
  "experiment.js",
  "compare.js",
  "chart.js",
  "favicon.svg",
]);

const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  ttf: "font/ttf",
};

interface Asset {
  body: Uint8Array;
  gzip: Uint8Array;
  etag: string;
  type: string;
  vendor: boolean;
}

const cache = new Map<string, Promise<Asset>>();

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function load(name: string): Promise<Asset> {
  const vendor = name in VENDOR;
  const path = vendor
    ? VENDOR[name]()
    : fileURLToPath(new URL(`./assets/${name}`, import.meta.url));
  let body: Uint8Array;
  try {
    body = await Deno.readFile(path);
  } catch (e) {
    throw new Error(
      `viewer asset ${name} is missing (${path}): ${(e as Error).message}` +
        (vendor ? "; run `deno install`" : ""),
    );
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body as BufferSource));
  const etag = `"${
    Array.from(digest.slice(0, 12), (b) => b.toString(16).padStart(2, "0")).join("")
  }"`;
  return {
    body,
    gzip: await gzip(body),
    etag,
    type: TYPES[name.slice(name.lastIndexOf(".") + 1)] ?? "application/octet-stream",
    vendor,
  };
}

/** Whether `name` is an asset the viewer serves. */
export function isAsset(name: string): boolean {
  return name in VENDOR || OWN.has(name);
}

/** Answers `GET /ui/assets/:name`. */
export async function serveAsset(c: Context): Promise<Response> {
  const name = c.req.param("name") ?? "";
  if (!isAsset(name)) throw new NotFoundError(`no viewer asset "${name}"`, "(path)");
  let pending = cache.get(name);
  if (!pending) {
    pending = load(name);
    cache.set(name, pending);
    pending.catch(() => cache.delete(name));
  }
  const a = await pending;
  const headers: Record<string, string> = {
    "content-type": a.type,
    etag: a.etag,
    // Vendor builds change only with deno.json; the viewer's own files may change on deploy.
    "cache-control": a.vendor ? "public, max-age=86400" : "public, max-age=60",
    vary: "accept-encoding",
    "x-content-type-options": "nosniff",
  };
  if ((c.req.header("if-none-match") ?? "").split(",").some((t) => t.trim() === a.etag)) {
    return c.body(null, 304, headers);
  }
  if (/\bgzip\b/.test(c.req.header("accept-encoding") ?? "")) {
    return c.body(a.gzip as Uint8Array<ArrayBuffer>, 200, {
      ...headers,
      "content-encoding": "gzip",
    });
  }
  return c.body(a.body as Uint8Array<ArrayBuffer>, 200, headers);
}

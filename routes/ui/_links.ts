/**
 * Share links: a short-lived token, signed with an HMAC, that lets whoever holds it read one
 * result (its record, table, events, charts, report and viewer page data) without the API key.
 *
 *   POST /v1/{analyses|trainings|experiments}/{id}/links   {expires_in_s?} -> token and URLs
 *
 * A token is `<payload>.<signature>`, both base64url: the payload is `{k, i, o, e}` (kind, id,
 * owner, expiry in Unix seconds), the signature HMAC-SHA256 of the payload under
 * INFOPLANE_LINK_SECRET (a random secret per process when unset). The auth middleware accepts a
 * token only for GET and HEAD requests of that one result (see {@link linkCovers}); a token never
 * creates, cancels or deletes anything, and never lists jobs. The key itself never appears in a
 * URL: pages carry tokens in the fragment (`#token=`, which browsers do not send), send them as
 * the `X-Infoplane-Token` header, and only image URLs (`<img src>`) carry `?token=`.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { JobKind, JobRecord } from "../../workers/mod.ts";
import type { AppEnv, Deps } from "../env.ts";
import { IdParamSchema, KIND_PATHS, ownerOf, problemResponse } from "../http.ts";
import { chartsOf, type UiKind, uiPath } from "./_paths.ts";

/** Header that carries share-link tokens (several separated by spaces or commas). */
export const TOKEN_HEADER = "x-infoplane-token";

/** Default and largest lifetime of a link. */
export const LINK_TTL = { defaultS: 3600, minS: 60, maxS: 7 * 86_400 } as const;

/** What a valid token says. */
export interface LinkClaims {
  kind: JobKind;
  id: string;
  owner: string;
  /** Expiry, Unix seconds. */
  exp: number;
}

const KINDS: readonly JobKind[] = ["analysis", "training", "experiment"];

const enc = new TextEncoder();

function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromB64url(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return null;
  try {
    const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

/** Signs and checks share-link tokens with one HMAC key. */
export class LinkSigner {
  readonly #key: Promise<CryptoKey>;

  /** @param secret the HMAC secret; null draws a random one (links die with the process) */
  constructor(secret: string | null) {
    const raw = secret === null
      ? crypto.getRandomValues(new Uint8Array(32))
      : enc.encode(`infoplane-links\u0000${secret}`);
    this.#key = crypto.subtle.importKey(
      "raw",
      raw,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
  }

  /** A token for `claims`. */
  async sign(claims: LinkClaims): Promise<string> {
    const payload = b64url(enc.encode(JSON.stringify({
      k: claims.kind,
      i: claims.id,
      o: claims.owner,
      e: claims.exp,
    })));
    const sig = await crypto.subtle.sign("HMAC", await this.#key, enc.encode(payload));
    return `${payload}.${b64url(new Uint8Array(sig))}`;
  }

  /**
   * The claims of a token, or why it is refused.
   *
   * @param token the token
   * @param now the time, Unix milliseconds
   */
  async verify(token: string, now = Date.now()): Promise<LinkClaims | { error: string }> {
    const bad = { error: "the share link is not valid" };
    const [payload, sig, ...rest] = token.split(".");
    if (!payload || !sig || rest.length > 0 || token.length > 2000) return bad;
    const sigBytes = fromB64url(sig);
    if (!sigBytes) return bad;
    const ok = await crypto.subtle.verify(
      "HMAC",
      await this.#key,
      sigBytes as BufferSource,
      enc.encode(payload),
    );
    if (!ok) return bad;
    let raw: { k?: unknown; i?: unknown; o?: unknown; e?: unknown };
    try {
      raw = JSON.parse(new TextDecoder().decode(fromB64url(payload)!));
    } catch {
      return bad;
    }
    if (
      !KINDS.includes(raw.k as JobKind) || typeof raw.i !== "string" ||
      typeof raw.o !== "string" || typeof raw.e !== "number"
    ) return bad;
    if (raw.e * 1000 <= now) return { error: "the share link has expired; ask for a new one" };
    return { kind: raw.k as JobKind, id: raw.i, owner: raw.o, exp: raw.e };
  }
}

const UI_SEGMENT: Record<JobKind, UiKind> = {
  analysis: "analyses",
  training: "trainings",
  experiment: "experiments",
};

/**
 * Whether a token for `claims` opens `path` (GET): the result's record and CSV, its events,
 * charts, report and figures, and the viewer's data of it. The compare data is handled by
 * {@link linkOwner} (it names several results).
 */
export function linkCovers(claims: { kind: JobKind; id: string }, path: string): boolean {
  const api = `${KIND_PATHS[claims.kind]}/${claims.id}`;
  const ui = `/ui/${UI_SEGMENT[claims.kind]}/${claims.id}`;
  if (path === api || path === `${api}.csv` || path === `${api}/events`) return true;
  if (path === `${ui}/view.json`) return true;
  const inside = (prefix: string) =>
    path.startsWith(prefix) && !path.slice(prefix.length).includes("/") &&
    path.length > prefix.length;
  if (inside(`${api}/charts/`) || inside(`${ui}/charts/`)) return true;
  if (claims.kind === "experiment") {
    return path === `${api}/report.md` || path === `${api}/report.html` ||
      inside(`${api}/figures/`);
  }
  return false;
}

/** The tokens a request carries: the header (space- or comma-separated) and `?token=`. */
export function tokensOf(c: Context): string[] {
  const out = (c.req.header(TOKEN_HEADER) ?? "").split(/[\s,]+/).filter(Boolean);
  out.push(...c.req.queries("token") ?? []);
  return out.slice(0, 8);
}

/**
 * Whom the request's share-link tokens let it read as: `{owner}` when a token opens this GET
 * (for the compare data, every compared id needs one, all of one owner), `{error}` when tokens
 * came but none fits, null when there are none.
 */
export async function linkOwner(
  c: Context,
  signer: LinkSigner,
): Promise<{ owner: string } | { error: string } | null> {
  const tokens = tokensOf(c);
  if (tokens.length === 0) return null;
  if (c.req.method !== "GET" && c.req.method !== "HEAD") {
    return { error: "a share link only reads; this request needs the API key" };
  }
  const claims: LinkClaims[] = [];
  let error = "the share link does not open this resource";
  for (const t of tokens) {
    const v = await signer.verify(t);
    if ("error" in v) error = v.error;
    else claims.push(v);
  }
  const path = c.req.path;
  if (path === "/ui/compare.json") {
    const ids = (c.req.query("ids") ?? "").split(",").filter(Boolean);
    const owners = new Set<string>();
    for (const id of ids) {
      const cl = claims.find((x) => x.id === id);
      if (!cl) return { error: `no share link for ${id}` };
      owners.add(cl.owner);
    }
    if (ids.length > 0 && owners.size === 1) return { owner: [...owners][0] };
    return { error: "the share links do not open these results together" };
  }
  const fit = claims.find((cl) => linkCovers(cl, path));
  return fit ? { owner: fit.owner } : { error };
}

const LinkRequestSchema = z.object({
  expires_in_s: z.number().int().min(LINK_TTL.minS).max(LINK_TTL.maxS).optional().openapi({
    description: `Lifetime of the link in seconds, ${LINK_TTL.minS} to ${LINK_TTL.maxS} ` +
      `(default ${LINK_TTL.defaultS}).`,
  }),
}).strict().openapi("ShareLinkRequest");

const ChartLinkSchema = z.object({
  page: z.string().openapi({ description: "The chart alone, embeddable (iframe)." }),
  json: z.string(),
  svg: z.string(),
  png: z.string(),
});

const LinkSchema = z.object({
  token: z.string().openapi({ description: "Send as X-Infoplane-Token, or as ?token=." }),
  expires_at: z.string(),
  url: z.string().openapi({ description: "The result's page; the token rides in the fragment." }),
  embed_url: z.string().openapi({ description: "The page without chrome, for an iframe." }),
  api_url: z.string().openapi({ description: "The result's JSON." }),
  charts: z.record(z.string(), ChartLinkSchema).openapi({
    description: "Per chart: its embeddable page and its json, svg and png with the token.",
  }),
}).openapi("ShareLink");

/** The absolute origin the caller used (proxies: X-Forwarded-Proto and -Host). */
function originOf(c: Context): string {
  const url = new URL(c.req.url);
  const proto = c.req.header("x-forwarded-proto")?.split(",")[0].trim();
  const host = c.req.header("x-forwarded-host")?.split(",")[0].trim();
  const safe = (s: string | undefined, re: RegExp) => s && re.test(s) ? s : null;
  return `${safe(proto, /^https?$/) ?? url.protocol.slice(0, -1)}://${
    safe(host, /^[A-Za-z0-9.-]+(:\d+)?$/) ?? url.host
  }`;
}

/** Registers `POST /v1/{kind path}/{id}/links` for every kind. */
export function linkRoutes(app: OpenAPIHono<AppEnv>, deps: Deps, signer: LinkSigner): void {
  for (const kind of KINDS) {
    const noun = kind === "analysis"
      ? "an analysis"
      : kind === "training"
      ? "a training"
      : "an experiment suite";
    const route = createRoute({
      method: "post",
      path: `${KIND_PATHS[kind]}/{id}/links`,
      operationId: `create${kind[0].toUpperCase()}${kind.slice(1)}Link`,
      tags: [KIND_PATHS[kind].slice("/v1/".length)],
      summary: `Share ${noun} for a while`,
      description: `A signed, expiring link that opens ${noun} (its page, data, events and ` +
        "charts, read-only) without the API key: for a colleague, or for a dashboard that " +
        "embeds the page (iframe) or a chart (png). Anyone with the link can read the result " +
        "until it expires. See docs/embedding.md.",
      request: {
        params: IdParamSchema,
        body: {
          content: { "application/json": { schema: LinkRequestSchema } },
          required: false,
        },
      },
      responses: {
        201: { content: { "application/json": { schema: LinkSchema } }, description: "The link" },
        401: problemResponse("Missing or unknown API key"),
        404: problemResponse("No such result (for this key)"),
        422: problemResponse("Invalid lifetime"),
      },
    });
    app.openapi(route, async (c) => {
      const rec = await deps.jobs.get(c.req.valid("param").id, ownerOf(c), kind);
      const hasBody = (c.req.header("content-length") ?? "0") !== "0" ||
        c.req.header("transfer-encoding") !== undefined;
      const body = hasBody ? c.req.valid("json") : {};
      const ttl = body?.expires_in_s ?? LINK_TTL.defaultS;
      const exp = Math.floor(Date.now() / 1000) + ttl;
      const token = await signer.sign({ kind, id: rec.id, owner: rec.owner, exp });
      const origin = originOf(c);
      const page = `${origin}${uiPath(kind, rec.id)}`;
      const q = `token=${encodeURIComponent(token)}`;
      const charts = Object.fromEntries(
        chartsOf(rec as JobRecord).map((ch) => [ch.key, {
          page: `${origin}${ch.page}?embed=1#${q}`,
          json: `${origin}${ch.json}?${q}`,
          svg: `${origin}${ch.svg}?${q}`,
          png: `${origin}${ch.png}?${q}`,
        }]),
      );
      return c.json({
        token,
        expires_at: new Date(exp * 1000).toISOString(),
        url: `${page}#${q}`,
        embed_url: `${page}?embed=1#${q}`,
        api_url: `${origin}${KIND_PATHS[kind]}/${rec.id}?${q}`,
        charts,
      }, 201);
    });
  }
}

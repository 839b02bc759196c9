/**
 * Assembles the HTTP application: middleware (CORS, API keys, body limits), the routes of each
 * feature, and the one error handler that renders every failure as problem+json.
 *
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import type { MiddlewareHandler } from "hono";
import { NotFoundError } from "../lib/errors.ts";
import { analysisRoutes } from "./analyses.ts";
import { chartRoutes } from "./charts.ts";
import { docsRoutes } from "./docs.ts";
import type { AppEnv, Deps } from "./env.ts";
import { experimentRoutes } from "./experiments.ts";
import { healthRoutes } from "./health.ts";
import { validationErrors } from "./http.ts";
import { jobListRoutes } from "./jobs.ts";
import { admission } from "./limits.ts";
import { problemFromError, UnauthorizedError, ValidationError } from "./problem.ts";
import { trainingRoutes } from "./trainings.ts";
import { isPublicUiPath, linkOwner, LinkSigner, uiRoutes } from "./ui/mod.ts";

const PUBLIC_PATHS = new Set(["/v1/health", "/openapi.json", "/docs", "/"]);

/**
 * Paths anyone may read: health, the API's description, its documentation pages and the
 * viewer's page shells (their data comes from the API, under its keys).
 */
function isPublic(path: string): boolean {
  return PUBLIC_PATHS.has(path) || path.startsWith("/docs/") || isPublicUiPath(path);
}

/** Owner id of an API key: a hash, so keys never reach storage. */
export async function keyOwner(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  return Array.from(new Uint8Array(digest).slice(0, 12), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/**
 * API keys (when configured): Authorization: Bearer <key>, or X-API-Key; without a key, a share
 * link's token (routes/ui/_links.ts) opens GETs of its one result. Viewer pages are public shells.
 */
function auth(keys: string[], links: LinkSigner): MiddlewareHandler<AppEnv> {
  const allowed = new Set(keys);
  return async (c, next) => {
    if (allowed.size === 0) {
      c.set("owner", "public");
      return await next();
    }
    if (isPublic(c.req.path) || c.req.method === "OPTIONS") return await next();
    const header = c.req.header("authorization") ?? "";
    const key = header.startsWith("Bearer ") ? header.slice(7).trim() : c.req.header("x-api-key");
    const link = key ? null : await linkOwner(c, links);
    if (link && "owner" in link) {
      c.set("owner", link.owner);
      return await next();
    }
    if (link) throw new UnauthorizedError(link.error);
    if (!key || !allowed.has(key)) {
      throw new UnauthorizedError(key ? "unknown API key" : "an API key is required");
    }
    c.set("owner", await keyOwner(key));
    await next();
  };
}

/** Builds the app around its dependencies (the job layer, settings). */
export function createApp(deps: Deps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw new ValidationError(validationErrors(result.error));
    },
  });
  const origins = deps.settings.corsOrigins;
  app.use(
    "*",
    cors({
      origin: origins.includes("*") ? "*" : origins,
      exposeHeaders: ["Location", "Retry-After"],
    }),
  );
  const links = new LinkSigner(deps.settings.linkSecret);
  app.use("*", auth(deps.settings.apiKeys, links));
  app.use(
    "/v1/*",
    ...admission(deps.settings.limits, deps.budget, {
      keysOn: deps.settings.apiKeys.length > 0,
      maxBodyBytes: deps.settings.maxBodyBytes,
    }),
  );
  // The viewer's data and charts count like the API's (a page's assets are cached).
  app.use(
    "/ui/*",
    ...admission(deps.settings.limits, deps.budget, { keysOn: false, maxBodyBytes: 0 }),
  );
  app.onError(problemFromError);
  app.notFound((c) => {
    throw new NotFoundError(`no route for ${c.req.method} ${c.req.path}`, "(path)");
  });
  healthRoutes(app, deps);
  jobListRoutes(app, deps);
  analysisRoutes(app, deps);
  trainingRoutes(app, deps);
  experimentRoutes(app, deps);
  chartRoutes(app, deps);
  docsRoutes(app, deps);
  uiRoutes(app, deps, links);
  return app;
}

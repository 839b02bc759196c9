/** Assembles the HTTP application: middleware, routes, problem+json errors. */
import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import type { MiddlewareHandler } from "hono";
import { analysisRoutes } from "./analyses.ts";
import { docsRoutes } from "./docs.ts";
import type { AppEnv, Deps } from "./env.ts";
import { healthRoutes } from "./health.ts";
import { problem, problemFromError } from "./problem.ts";
import { trainingRoutes } from "./trainings.ts";
import { ChartNotReadyError, chartRoutes } from "./charts.ts";
import { experimentRoutes } from "./experiments.ts";
import { isExperimentJob } from "../lib/experiments/job.ts";

const PUBLIC_PATHS = new Set(["/v1/health", "/openapi.json", "/docs", "/"]);

/** Owner id of an API key: a hash, so keys never reach storage. */
async function ownerOf(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  return Array.from(new Uint8Array(digest).slice(0, 12), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** API keys (when configured): Authorization: Bearer <key>, or X-API-Key. */
function auth(keys: string[]): MiddlewareHandler<AppEnv> {
  const allowed = new Set(keys);
  return async (c, next) => {
    if (allowed.size === 0) {
      c.set("owner", "public");
      return await next();
    }
    if (PUBLIC_PATHS.has(c.req.path) || c.req.method === "OPTIONS") return await next();
    const header = c.req.header("authorization") ?? "";
    const key = header.startsWith("Bearer ") ? header.slice(7).trim() : c.req.header("x-api-key");
    if (!key || !allowed.has(key)) {
      c.header("WWW-Authenticate", 'Bearer realm="infoplane"');
      return problem(c, 401, "unauthorized", key ? "unknown API key" : "an API key is required");
    }
    c.set("owner", await ownerOf(key));
    await next();
  };
}

/** Builds the app around its dependencies (the job engine, settings). */
export function createApp(deps: Deps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (result.success) return;
      const errors = result.error.issues.map((i) => ({
        field:
          [...i.path, ...(i.code === "unrecognized_keys" ? i.keys.slice(0, 1) : [])].map(String)
            .join(".") || "(body)",
        message: i.message,
      }));
      const first = errors[0];
      return problem(c, 422, "validation", `${first.field}: ${first.message}`, {
        field: first.field,
        errors,
      });
    },
  });
  const origins = deps.settings.corsOrigins;
  app.use(
    "*",
    cors({ origin: origins.includes("*") ? "*" : origins, exposeHeaders: ["Location"] }),
  );
  app.use("*", auth(deps.settings.apiKeys));
  const limit = bodyLimit({
    maxSize: deps.settings.maxBodyBytes,
    onError: (c) =>
      problem(
        c,
        413,
        "too-large",
        `request body is over ${deps.settings.maxBodyBytes} bytes (INFOPLANE_MAX_BODY_MB)`,
        { field: "(body)" },
      ),
  });
  // Only POST carries bodies here; on a body-less DELETE the middleware would rebuild the
  // request, which makes Deno warn about request.signal semantics.
  app.use("/v1/*", (c, next) => c.req.method === "POST" ? limit(c, next) : next());
  app.onError(problemFromError);
  app.notFound((c) => problem(c, 404, "not-found", `no route for ${c.req.method} ${c.req.path}`));
  app.get("/", (c) => c.redirect("/docs"));
  healthRoutes(app, deps);
  analysisRoutes(app, deps);
  trainingRoutes(app, deps);
  experimentRoutes(app, deps, { scales: deps.experimentScales });
  chartRoutes(app, {
    loadAnalysis: async (id, owner) => {
      const rec = await deps.analyses.store.get(id);
      if (!rec || rec.owner !== owner) return null;
      if (rec.status !== "done") throw new ChartNotReadyError(`analysis "${id}" is ${rec.status}`);
      return await deps.analyses.store.result(rec);
    },
    loadTraining: async (id, owner) => {
      const rec = await deps.trainings.store.get(id);
      if (!rec || rec.owner !== owner || isExperimentJob(rec.job)) return null;
      if (rec.status !== "done") throw new ChartNotReadyError(`training "${id}" is ${rec.status}`);
      return await deps.trainings.store.result(id);
    },
  });
  docsRoutes(app, deps);
  return app;
}

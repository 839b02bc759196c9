/** Types shared by the route modules. */
import type { Scale } from "../lib/experiments/types.ts";
import type { Settings } from "../lib/settings.ts";
import type { JobService } from "../workers/mod.ts";

/** Hono environment: per-request variables set by middleware. */
export interface AppEnv {
  Variables: {
    /** Who owns what this request creates or reads ("public" without API keys). */
    owner: string;
  };
}

/** What the routes need from the rest of the service. */
export interface Deps {
  settings: Settings;
  /** The job layer: analyses, trainings, experiment suites. */
  jobs: JobService;
  /** Experiment scales callers may request (default cpu and full; tests add "micro"). */
  experimentScales?: readonly Scale[];
  linalgName: string;
  version: string;
  startedAt: number;
}

/** Types shared by the route modules. */
import type { Scale } from "../lib/experiments/mod.ts";
import type { Settings } from "../lib/settings.ts";
import type { JobService, MemoryBudget, Reservation } from "../workers/mod.ts";

/** Hono environment: per-request variables set by middleware. */
export interface AppEnv {
  Variables: {
    /** Who owns what this request creates or reads ("public" without API keys). */
    owner: string;
    /** The memory this request's body holds (POSTs with a body); handlers grow it. */
    reservation?: Reservation;
  };
}

/** What the routes need from the rest of the service. */
export interface Deps {
  settings: Settings;
  /** The job layer: analyses, trainings, experiment suites. */
  jobs: JobService;
  /** The memory every request and analysis is admitted against. */
  budget: MemoryBudget;
  /** Experiment scales callers may request (default cpu and full; tests add "micro"). */
  experimentScales?: readonly Scale[];
  linalgName: string;
  version: string;
  startedAt: number;
}

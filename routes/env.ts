/** Types shared by the route modules. */
import type { Settings } from "../lib/settings.ts";
import type { AnalysisJobs } from "../workers/analysis_jobs.ts";
import type { TrainingEngine } from "../workers/training_types.ts";
import type { Scale } from "../lib/experiments/types.ts";

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
  analyses: AnalysisJobs;
  trainings: TrainingEngine;
  /** Interval of keep-alive comments on training event streams. */
  sseKeepAliveMs: number;
  /** Experiment scales callers may request (default cpu and full; tests add "micro"). */
  experimentScales?: readonly Scale[];
  linalgName: string;
  version: string;
  startedAt: number;
}

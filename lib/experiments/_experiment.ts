/**
 * What an experiment is: one object per experiment (lib/experiments/<experiment>.ts) holds
 * everything about it: its question, its runs and settings at every scale, the aggregates stored
 * in its results, its figures and tables, and the rules of the claim parts it decides. The suite
 * (lib/experiments/_registry.ts) and the report (lib/report/) iterate over the list of
 * experiments and know none of them by name.
 *
 * @module
 */
import type { Block } from "../report/kit.ts";
import type { Figure } from "../report/kit.ts";
import type { ClaimPart } from "../report/kit.ts";
import type { BackendName } from "../train/mod.ts";
import type {
  ExperimentName,
  ExperimentResult,
  ExperimentSettings,
  RunRecord,
  RunSpec,
  Scale,
  SweepSetting,
} from "./types.ts";

/** Datasets the suite trains on besides the toy. */
export type SuiteDataset = "mnist" | "fashion-mnist";

/** Options that shape the runs of an experiment. */
export interface RunOptions {
  /** Directories holding a dataset's canonical files (else: embedded MNIST, downloads). */
  datasetDirs?: Partial<Record<SuiteDataset, string>>;
  backend?: BackendName | "auto";
  /**
   * Test-only: other seeds than the scale's (fewer than 3 only at scale "micro").
   */
  seeds?: number[];
}

/** What an experiment shows in the section of one claim. */
export interface ClaimSection {
  /**
   * Whether the experiment was designed for this claim: its material comes before that of
   * experiments that only contribute to it.
   */
  primary?: boolean;
  /** Tables and their lead-in paragraphs, under the claim's "Measured" heading. */
  measured?: Block[];
  /** Paragraphs after the measured numbers. */
  notes?: Block[];
  /** Figures shown with the claim (built by {@link Experiment.figures}). */
  figures?: Figure[];
}

/** One named experiment of the suite. */
export interface Experiment {
  name: ExperimentName;
  title: string;
  question: string;
  /** Claims of PAPER.md this experiment informs (1-based). */
  claims: number[];
  /** The runs of every configuration and seed. */
  runs(scale: Scale, opts?: RunOptions): RunSpec[];
  /** What the runs are, in words, with the requests of one seed. */
  settings(scale: Scale, opts?: RunOptions): ExperimentSettings;
  /** Aggregates over seeds stored as the experiment result's `summary`. */
  summarise(runs: RunRecord[]): Record<string, unknown>;
  /** The report's figures of this experiment (called only when it has runs). */
  figures(e: ExperimentResult): Figure[];
  /** The claim parts whose rules this experiment defines (evaluated even when it did not run). */
  parts: ClaimPart[];
  /** What the experiment shows in a claim's section (called when it is part of the suite). */
  section(claim: number, e: ExperimentResult, figures: Figure[]): ClaimSection | null;
  /**
   * The numbers behind its claim parts under each setting of the estimator sweep (the report's
   * section "Does the verdict depend on the estimator?"); `swept` has the experiment's runs
   * re-analysed under each setting (runs that kept a sweep only).
   */
  sweepTables?(swept: Array<{ setting: SweepSetting; runs: RunRecord[] }>): Block[];
}

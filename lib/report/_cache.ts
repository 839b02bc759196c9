/**
 * Finished suites' report pieces (figures and their SVG renderings), built once per process and
 * kept for the next request: a report page asks for every figure, and building them is the
 * expensive part.
 *
 * @module
 */
import { LRUCache } from "lru-cache";
import { renderSvg } from "../charts/mod.ts";
import type { SuiteResult } from "../experiments/mod.ts";
import type { Figure } from "./_figures.ts";
import { buildFigures } from "./_report.ts";

/** One suite's report pieces. */
export interface RenderedSuite {
  suite: SuiteResult;
  figures: Figure[];
  /** SVG of a figure (rendered on first use, then kept). */
  svg(figure: Figure): Promise<string>;
}

/** A small LRU of rendered suites, keyed by job id. */
export class ReportCache {
  #cache: LRUCache<string, RenderedSuite>;

  /** @param max suites kept */
  constructor(max = 4) {
    this.#cache = new LRUCache({ max });
  }

  /**
   * The rendered pieces of suite `id`, built from `load()` on a miss.
   *
   * @param id the suite's job id
   * @param load reads the finished suite (null: none)
   * @returns the pieces, or null when `load` found nothing
   */
  async get(id: string, load: () => Promise<SuiteResult | null>): Promise<RenderedSuite | null> {
    const hit = this.#cache.get(id);
    if (hit) return hit;
    const suite = await load();
    if (!suite) return null;
    const svgs = new Map<string, Promise<string>>();
    const entry: RenderedSuite = {
      suite,
      figures: buildFigures(suite),
      svg(f) {
        let svg = svgs.get(f.name);
        if (!svg) svgs.set(f.name, svg = renderSvg(f.spec));
        return svg;
      },
    };
    this.#cache.set(id, entry);
    return entry;
  }
}

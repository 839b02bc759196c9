/**
 * The demo's science (`deno task demo`, scripts/demo.ts): one small network trained end to end
 * and layer-wise from the same initial weights through lib/train, and the two analyses compared
 * layer by layer with the conclusions the paper leads one to expect.
 *
 * @example Usage
 * ```ts ignore
 * import { DEMO_SETTINGS, demoDataset, trainBoth } from "./mod.ts";
 * const runs = await trainBoth(DEMO_SETTINGS, await demoDataset(DEMO_SETTINGS, "data"));
 * ```
 *
 * @module
 */
export { compareAnalyses, conclusions, DEMO_SETTINGS, demoDataset, trainBoth } from "./compare.ts";
export type { AnalysisLike, Comparison, Conclusion, DemoSettings } from "./compare.ts";

/**
 * Representation metrics other than nHSIC that the experiments use: the soft nearest-neighbour
 * loss ({@linkcode snnl}, Frosst, Papernot & Hinton, ICML 2019), the paper's measure of class
 * entanglement.
 *
 * @example Usage
 * ```ts ignore
 * import { snnl } from "./mod.ts";
 * const entanglement = snnl(activations, rows, cols, labels);
 * ```
 *
 * @module
 */
export { snnl } from "./snnl.ts";

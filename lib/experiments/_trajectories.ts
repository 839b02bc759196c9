/**
 * Figures of nHSIC trajectories that several experiments share: the information plane and nHSIC
 * against step of every configuration, mean over seeds, the methods side by side.
 *
 * @module
 */
import { informationPlane, nhsicVsStep } from "../charts/mod.ts";
import { type Figure, meanTrajectories, retitle, slug } from "../report/kit.ts";
import { groups, groupTitle } from "./_measures.ts";
import type { ExperimentResult } from "./types.ts";

const PLANE_CAPTION = "Each line follows one layer through training, mean over seeds (points " +
  "grow with the step, the arrowhead is the last tracking point); the methods side by side.";

/**
 * Per configuration: `<prefix>-plane-<group>` (information plane) and `<prefix>-nhsic-<group>`
 * (nHSIC against step), with `planeNote` added to the plane's caption.
 */
export function trajectoryFigures(
  e: ExperimentResult,
  prefix: string,
  planeNote = "Claims 3-4: E2E's middle layers should bend left (compress) late while the " +
    "output stays high.",
): Figure[] {
  return groups(e.runs).flatMap(([group, runs]) => {
    const mean = meanTrajectories(runs);
    const what = `${groupTitle(runs)}; mean over ${runs.length} seeds`;
    return [
      {
        name: `${prefix}-plane-${slug(group)}`,
        title: `Information plane: ${groupTitle(runs)}`,
        caption: `${PLANE_CAPTION} ${planeNote}`,
        experiment: e.name,
        spec: retitle(informationPlane(mean), "Information plane", [what]),
      },
      {
        name: `${prefix}-nhsic-${slug(group)}`,
        title: `nHSIC against step: ${groupTitle(runs)}`,
        caption: "Top: nHSIC(X;T_l)/nHSIC(X;X); bottom: nHSIC(Y;T_l)/nHSIC(Y;Y); one line per " +
          "layer. Claim 2: E2E's label dependence should rise earlier.",
        experiment: e.name,
        spec: retitle(nhsicVsStep(mean), "nHSIC during training", [what]),
      },
    ];
  });
}

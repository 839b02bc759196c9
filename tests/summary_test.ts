// Summaries on constructed tables: uniform vs differentiated layers, IB vs not, static profile.
import assert from "node:assert/strict";
import { populationStd, summarise, type SummaryInput } from "../lib/summary.ts";

/** Builds a table from per-layer series of normalised values (reference 10 and 5). */
function table(steps: number[], xs: number[][], ys: number[][]): SummaryInput {
  return {
    reference: { nhsic_x_x: 10, nhsic_y_y: 5 },
    checkpoints: steps.map((step, t) => ({
      step,
      layers: xs.map((x, l) => ({ name: `l${l + 1}`, nhsic_x: 10 * x[t], nhsic_y: 5 * ys[l][t] })),
    })),
  };
}

Deno.test("uniform layers score zero differentiation", () => {
  const s = summarise(table([0, 1, 2], [[0.5, 0.8, 0.7], [0.4, 0.7, 0.6]], [[0.1, 0.5, 0.6], [
    0.1,
    0.5,
    0.6,
  ]]));
  assert(s.dynamics);
  assert.ok(Math.abs((s.layers[0].compression!) - 0.1) <= 1e-12);
  assert.ok(Math.abs((s.layers[1].compression!) - 0.1) <= 1e-12);
  assert.ok(Math.abs((s.differentiation!.score) - 0) <= 1e-12);
});

Deno.test("differentiated layers: middle compresses, last keeps labels", () => {
  const s = summarise(table(
    [0, 100, 200, 300],
    [[0.9, 0.95, 0.9, 0.88], [0.6, 0.9, 0.7, 0.5], [0.3, 0.6, 0.55, 0.45]],
    [[0.2, 0.3, 0.3, 0.3], [0.2, 0.6, 0.62, 0.6], [0.1, 0.8, 0.95, 0.96]],
  ));
  const comps = s.layers.map((l) => l.compression!);
  assert.ok(Math.abs((comps[0]) - 0.07) <= 1e-12);
  assert.ok(Math.abs((comps[1]) - 0.4) <= 1e-12);
  assert.ok(Math.abs((comps[2]) - 0.15) <= 1e-12);
  assert.ok(Math.abs((s.differentiation!.score) - (populationStd(comps))) <= 1e-15);
  // Population std of [0.07, 0.4, 0.15] by hand.
  const mean = (0.07 + 0.4 + 0.15) / 3;
  const sd = Math.sqrt(((0.07 - mean) ** 2 + (0.4 - mean) ** 2 + (0.15 - mean) ** 2) / 3);
  assert.ok(Math.abs((s.differentiation!.score) - sd) <= 1e-12);
  assert.deepStrictEqual(s.layers[1].peak_step, 100);
  // Last layer: compression 0.15 >= 0.05, retention 0.96/0.96 = 1, peak at 100 < 300.
  assert.deepStrictEqual(s.last_layer.follows_ib, true);
  assert.ok(Math.abs((s.layers[2].label_retention!) - 1) <= 1e-12);
  assert.ok(Math.abs((s.layers[2].fitting!) - 0.86) <= 1e-12);
  // First layer compresses 0.07 but lost labels? 0.3/0.3 = 1 -> follows IB too.
  assert.deepStrictEqual(s.layers[0].follows_ib, true);
});

Deno.test("no IB when the peak is the last checkpoint, or labels are lost", () => {
  const rising = summarise(table([0, 1, 2], [[0.2, 0.4, 0.6]], [[0.1, 0.5, 0.9]]));
  assert.deepStrictEqual(rising.last_layer.follows_ib, false);
  assert.ok(Math.abs((rising.last_layer.compression!) - 0) <= 1e-12);
  assert.deepStrictEqual(rising.last_layer.peak_step, 2);
  const lost = summarise(table([0, 1, 2], [[0.2, 0.9, 0.5]], [[0.1, 0.9, 0.7]]));
  assert.ok(Math.abs((lost.last_layer.compression!) - 0.4) <= 1e-12);
  assert.ok(Math.abs((lost.last_layer.label_retention!) - (0.7 / 0.9)) <= 1e-12);
  assert.deepStrictEqual(lost.last_layer.follows_ib, false);
  // Compression just under the threshold does not count.
  const small = summarise(table([0, 1, 2], [[0.2, 0.9, 0.86]], [[0.1, 0.9, 0.9]]));
  assert.deepStrictEqual(small.last_layer.follows_ib, false);
});

Deno.test("one checkpoint gives the static profile and says so", () => {
  const s = summarise(table([7], [[0.8], [0.5]], [[0.2], [0.6]]));
  assert.deepStrictEqual(s.dynamics, false);
  assert(s.note !== null && s.note.includes("no dynamics"));
  assert.deepStrictEqual(s.differentiation, null);
  assert.deepStrictEqual(s.last_layer.follows_ib, null);
  assert.deepStrictEqual(s.depth_profile, [{ name: "l1", x: 0.8, y: 0.2 }, {
    name: "l2",
    x: 0.5,
    y: 0.6,
  }]);
});

import assert from "node:assert/strict";
import {
  augmentedView,
  batchRanges,
  epochOrder,
  gatherBatch,
  randomHflip,
} from "../lib/train/data.ts";
import { mulberry32, permutation, streamSeed } from "../lib/train/random.ts";
Deno.test("seeded order: a permutation, the same for a seed and epoch, different otherwise", () => {
  const a = epochOrder(100, 0, 0);
  assert.deepStrictEqual([...a].sort((x, y) => x - y), [...Array(100).keys()]);
  assert.deepStrictEqual(a, epochOrder(100, 0, 0));
  assert(a.join() !== epochOrder(100, 0, 1).join());
  assert(a.join() !== epochOrder(100, 1, 0).join());
  assert(streamSeed(0, "init/fc1/0.dense/kernel") !== streamSeed(0, "init/fc1/0.dense/bias"));
  assert.deepStrictEqual(permutation(5, mulberry32(9)), permutation(5, mulberry32(9)));
});

Deno.test("batchRanges keeps a partial batch of 2+ and drops a single trailing sample", () => {
  assert.deepStrictEqual(batchRanges(10, 4), [[0, 4], [4, 8], [8, 10]]);
  assert.deepStrictEqual(batchRanges(9, 4), [[0, 4], [4, 8]]);
  assert.deepStrictEqual(batchRanges(3, 8), [[0, 3]]);
});

Deno.test("horizontal flips and contrastive views", () => {
  // Two 2x3x1 images: 0..5 and 6..11.
  const split = { x: Float32Array.from({ length: 12 }, (_, i) => i), y: Int32Array.of(1, 2), n: 2 };
  const b = gatherBatch(split, 6, Int32Array.of(1, 0), 0, 2);
  assert.deepStrictEqual(Array.from(b.labels), [2, 1]);
  assert.deepStrictEqual(Array.from(b.x), [6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5]);
  const x = b.x.slice();
  randomHflip(x, 2, [2, 3, 1], () => 0); // always flip
  assert.deepStrictEqual(Array.from(x), [8, 7, 6, 11, 10, 9, 2, 1, 0, 5, 4, 3]);
  randomHflip(x, 2, [2, 3, 1], () => 0.9); // never flip
  assert.deepStrictEqual(Array.from(x), [8, 7, 6, 11, 10, 9, 2, 1, 0, 5, 4, 3]);

  // Views of images are shifts by at most the crop padding (1 here), zero outside.
  const v = augmentedView(b, [2, 3, 1], false, mulberry32(1));
  for (let s = 0; s < 2; s++) {
    const img = Array.from(v.subarray(s * 6, s * 6 + 6));
    const src = Array.from(b.x.subarray(s * 6, s * 6 + 6));
    assert(img.every((p) => p === 0 || src.includes(p)), `view ${img} of ${src}`);
  }
  assert.deepStrictEqual(
    augmentedView(b, [2, 3, 1], true, mulberry32(5)),
    augmentedView(b, [2, 3, 1], true, mulberry32(5)),
  );
  // Flat samples get Gaussian noise of std 0.1.
  const flat = { x: new Float32Array(4000), labels: new Int32Array(1), n: 1 };
  const noisy = augmentedView(flat, [4000], false, mulberry32(2));
  const std = Math.sqrt(noisy.reduce((s, p) => s + p * p, 0) / noisy.length);
  assert(Math.abs(std - 0.1) < 0.01, `noise std ${std}`);
});

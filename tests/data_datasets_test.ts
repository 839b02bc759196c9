import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { InputError } from "../lib/errors.ts";
import type { NdArray } from "../lib/dump/mod.ts";
import { encodeNpz } from "../lib/dump/mod.ts";
import {
  datasetFromNpz,
  embeddedMnistDir,
  FASHION_MNIST,
  loadDataset,
  loadMnist,
  MNIST,
  UPLOAD_TEST_FRACTION,
} from "../lib/data/mod.ts";
import { withServer, withTempDir } from "./file_server.ts";

const FASHION_DIR = fileURLToPath(new URL("../../shared/data/fashion-mnist/", import.meta.url));
const haveFashion = (() => {
  try {
    return Deno.statSync(join(FASHION_DIR, FASHION_MNIST.trainImages.file)).isFile;
  } catch {
    return false;
  }
})();

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

function meanStd(x: Float32Array): [number, number] {
  let s = 0, s2 = 0;
  for (const v of x) {
    s += v;
    s2 += v * v;
  }
  const m = s / x.length;
  return [m, Math.sqrt(s2 / x.length - m * m)];
}

// ---------------------------------------------------------------------------------------------
// MNIST

Deno.test("mnist via loadDataset: embedded, [28, 28, 1], normalised to mean ~0 and std ~1", async () => {
  const ds = await loadDataset({ name: "mnist", train_limit: 3000, test_limit: 10 }, {
    dataDir: "/nonexistent",
  });
  assert.deepStrictEqual(ds.name, "mnist");
  assert.deepStrictEqual(ds.shape, [28, 28, 1]);
  assert.deepStrictEqual(ds.numClasses, 10);
  assert.deepStrictEqual(ds.augment, "none");
  assert.deepStrictEqual([ds.train.n, ds.train.x.length, ds.train.y.length], [
    3000,
    3000 * 784,
    3000,
  ]);
  assert.deepStrictEqual([ds.test.n, ds.test.x.length], [10, 7840]);
  assert.deepStrictEqual(Array.from(ds.test.y), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  const [mean, std] = meanStd(ds.train.x);
  assert.ok(Math.abs(mean - 0) <= 0.05, "mean of normalised train pixels");
  assert.ok(Math.abs(std - 1) <= 0.05, "std of normalised train pixels");
  // Background pixels map to exactly (0 - 0.1307) / 0.3081.
  assert.deepStrictEqual(ds.train.x[0], Math.fround(-0.1307 / 0.3081));
});

Deno.test("loadDataset rejects bad limits and unknown names as InputError", async () => {
  for (const limit of [-1, 1.5, NaN]) {
    await assert.rejects(
      () => loadDataset({ name: "mnist", train_limit: limit }, { dataDir: "." }),
      (e: unknown) =>
        e instanceof InputError && e.field === "train_limit" &&
        e.message.includes("train_limit must be a non-negative integer"),
    );
  }
  await assert.rejects(
    () => loadDataset({ name: "mnist", test_limit: -3 }, { dataDir: "." }),
    (e: unknown) => e instanceof InputError && e.message.includes("test_limit"),
  );
  await assert.rejects(
    () => loadDataset({ name: "imagenet" } as never, { dataDir: "." }),
    (e: unknown) => e instanceof InputError && e.message.includes('unknown dataset "imagenet"'),
  );
});

// ---------------------------------------------------------------------------------------------
// Fashion-MNIST

Deno.test({
  name: "fashion-mnist from dir: shapes, balanced test labels, its own mean/std",
  ignore: !haveFashion,
  async fn() {
    const ds = await loadDataset({ name: "fashion-mnist", dir: FASHION_DIR, train_limit: 5000 }, {
      dataDir: "/nonexistent",
    });
    assert.deepStrictEqual(ds.name, "fashion-mnist");
    assert.deepStrictEqual(ds.shape, [28, 28, 1]);
    assert.deepStrictEqual([ds.train.n, ds.test.n, ds.numClasses], [5000, 10000, 10]);
    const counts = new Array(10).fill(0);
    for (const l of ds.test.y) counts[l]++;
    assert.deepStrictEqual(counts, new Array(10).fill(1000));
    const [mean, std] = meanStd(ds.train.x);
    assert.ok(Math.abs(mean - 0) <= 0.05, "mean");
    assert.ok(Math.abs(std - 1) <= 0.05, "std");
    assert.deepStrictEqual(ds.train.x[0], Math.fround(-0.2860 / 0.3530));
  },
});

Deno.test({
  name: "fashion-mnist download: verified, cached, reused; a checksum mismatch caches nothing",
  ignore: !haveFashion,
  async fn() {
    const files = [
      FASHION_MNIST.trainImages,
      FASHION_MNIST.trainLabels,
      FASHION_MNIST.testImages,
      FASHION_MNIST.testLabels,
    ];
    const routes: Record<string, Uint8Array> = {};
    for (const f of files) routes[`/fm/${f.file}`] = await Deno.readFile(join(FASHION_DIR, f.file));
    await withTempDir(async (dataDir) => {
      await withServer(routes, async (base, hits) => {
        const desc = { ...FASHION_MNIST, baseUrl: `${base}/fm/` };
        const spec = { name: "fashion-mnist" as const, train_limit: 100, test_limit: 100 };
        const seen: string[] = [];
        const opts = {
          dataDir,
          descriptors: { fashionMnist: desc },
          onProgress: (url: string) => seen.includes(url) || seen.push(url),
        };
        const ds = await loadDataset(spec, opts);
        const cache = join(dataDir, "datasets", "fashion-mnist");
        assert.deepStrictEqual(await listDir(cache), files.map((f) => f.file).sort());
        assert.deepStrictEqual(seen, files.map((f) => `${base}/fm/${f.file}`));

        const again = await loadDataset(spec, opts);
        assert.deepStrictEqual(
          [...hits.values()],
          [1, 1, 1, 1],
          "second load served from the cache",
        );
        assert.deepStrictEqual(again.train.x, ds.train.x);

        const fromDir = await loadDataset({ ...spec, dir: FASHION_DIR }, { dataDir });
        assert.deepStrictEqual(ds.train.x, fromDir.train.x);
        assert.deepStrictEqual(ds.test.y, fromDir.test.y);

        // Wrong published checksum: an error naming URL and both MD5s; nothing cached.
        const wrongDir = join(dataDir, "wrong");
        const wrong = {
          ...desc,
          trainImages: { ...desc.trainImages, md5: "0123456789abcdef0123456789abcdef" },
        };
        const url = `${base}/fm/${desc.trainImages.file}`;
        await assert.rejects(
          () => loadDataset(spec, { dataDir: wrongDir, descriptors: { fashionMnist: wrong } }),
          (e: unknown) =>
            e instanceof Error && e.message.includes(`checksum mismatch for ${url}`) &&
            e.message.includes(
              `expected MD5 0123456789abcdef0123456789abcdef, got ${desc.trainImages.md5}`,
            ),
        );
        assert.deepStrictEqual(await listDir(join(wrongDir, "datasets", "fashion-mnist")), []);
      });
    });
  },
});

Deno.test("the canonical descriptors are untouched: MNIST and Fashion-MNIST constants", () => {
  assert.deepStrictEqual([MNIST.mean, MNIST.std], [0.1307, 0.3081]);
  assert.deepStrictEqual([FASHION_MNIST.mean, FASHION_MNIST.std], [0.2860, 0.3530]);
  assert.deepStrictEqual(
    FASHION_MNIST.baseUrl,
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
  );
});

// ---------------------------------------------------------------------------------------------
// Uploads

const u8 = (shape: number[], f: (i: number) => number): NdArray => ({
  shape,
  dtype: "uint8",
  data: Uint8Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => f(i)),
});
const f64 = (shape: number[], f: (i: number) => number): NdArray => ({
  shape,
  dtype: "float64",
  data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => f(i)),
});
const i64 = (values: number[]): NdArray => ({
  shape: [values.length],
  dtype: "int64",
  data: BigInt64Array.from(values.map(BigInt)),
});
const i32 = (shape: number[], values: number[]): NdArray => ({
  shape,
  dtype: "int32",
  data: Int32Array.from(values),
});

Deno.test("upload: uint8 images scaled to [0, 1], last 10% held out as the test split", () => {
  const n = 25;
  const x = u8([n, 4, 4, 1], (i) => (i * 13) % 256);
  const labels = Array.from({ length: n }, (_, i) => (i * 7) % 5);
  for (const compress of [false, true]) {
    const ds = datasetFromNpz(encodeNpz({ x, y: i64(labels) }, { compress }), {
      source: "mine.npz",
    });
    assert.deepStrictEqual(ds.name, "upload");
    assert.deepStrictEqual(ds.shape, [4, 4, 1]);
    assert.deepStrictEqual(ds.augment, "none");
    assert.deepStrictEqual(ds.numClasses, 5);
    const nTest = Math.floor(n * UPLOAD_TEST_FRACTION);
    assert.deepStrictEqual([ds.train.n, ds.test.n], [n - nTest, nTest]);
    assert.deepStrictEqual(Array.from(ds.train.y), labels.slice(0, n - nTest));
    assert.deepStrictEqual(Array.from(ds.test.y), labels.slice(n - nTest));
    const raw = x.data as Uint8Array;
    assert.deepStrictEqual(
      ds.train.x,
      Float32Array.from(raw.subarray(0, (n - nTest) * 16), (v) => v / 255),
    );
    assert.deepStrictEqual(
      ds.test.x,
      Float32Array.from(raw.subarray((n - nTest) * 16), (v) => v / 255),
    );
  }
  // Tiny sets still hold out one sample.
  const two = datasetFromNpz(encodeNpz({ x: u8([2, 3], (i) => i), y: i64([0, 1]) }));
  assert.deepStrictEqual([two.train.n, two.test.n, two.numClasses], [1, 1, 2]);
});

Deno.test("upload: explicit test split, 2-D features, float labels, [N, 1] labels, limits", async () => {
  const x = f64([10, 3], (i) => i * 0.1 - 1);
  const xTest: NdArray = {
    shape: [4, 3],
    dtype: "float32",
    data: Float32Array.from({ length: 12 }, (_, i) => 100 + i),
  };
  const y = f64([10], (i) => i % 3);
  const yTest = i32([4, 1], [2, 0, 7, 1]);
  const bytes = encodeNpz({ x, y, x_test: xTest, y_test: yTest, extra: i64([1]) });
  const ds = datasetFromNpz(bytes, { trainLimit: 6, testLimit: 3 });
  assert.deepStrictEqual(ds.shape, [3]);
  assert.deepStrictEqual(ds.numClasses, 8, "K = largest label of train and test + 1");
  assert.deepStrictEqual([ds.train.n, ds.test.n], [6, 3]);
  assert.deepStrictEqual(ds.train.x, Float32Array.from((x.data as Float64Array).subarray(0, 18)));
  assert.deepStrictEqual(
    ds.test.x,
    Float32Array.from([100, 101, 102, 103, 104, 105, 106, 107, 108]),
  );
  assert.deepStrictEqual(Array.from(ds.train.y), [0, 1, 2, 0, 1, 2]);
  assert.deepStrictEqual(Array.from(ds.test.y), [2, 0, 7]);

  // Through loadDataset with a file path.
  await withTempDir(async (dir) => {
    const path = join(dir, "set.npz");
    await Deno.writeFile(path, bytes);
    const viaSpec = await loadDataset({ name: "upload", path, train_limit: 6, test_limit: 3 }, {
      dataDir: dir,
    });
    assert.deepStrictEqual(viaSpec, ds);
    await assert.rejects(
      () => loadDataset({ name: "upload", path }, { dataDir: dir, maxUploadBytes: 100 }),
      (e: unknown) => e instanceof InputError && e.message.includes("over the limit"),
    );
  });
});

Deno.test("upload: missing keys, mismatched lengths and shapes, bad labels and values", () => {
  const x = f64([5, 2], (i) => i);
  const y = i64([0, 1, 0, 1, 0]);
  const cases: [Record<string, NdArray>, string, string, string][] = [
    [{ y }, "missing-field", "x", 'no array "x" in the archive (it has "y")'],
    [{ x }, "missing-field", "y", 'no array "y"'],
    [{ x, y, x_test: x }, "missing-field", "y_test", 'no array "y_test"'],
    [{ x, y, y_test: y }, "missing-field", "x_test", 'no array "x_test"'],
    [{ x, y: i64([0, 1, 0]) }, "shape-mismatch", "y", "y has 3 labels but x has 5 samples"],
    [
      { x, y, x_test: f64([5, 3], (i) => i), y_test: y },
      "shape-mismatch",
      "x_test",
      "x_test has shape",
    ],
    [
      { x, y, x_test: x, y_test: i64([0]) },
      "shape-mismatch",
      "y_test",
      "y_test has 1 labels but x_test has 5",
    ],
    [{ x, y: f64([5], (i) => i / 2) }, "invalid-labels", "y", "y[1] is 0.5"],
    [{ x, y: i64([0, -1, 0, 0, 0]) }, "invalid-labels", "y", "y[1] is -1"],
    [{ x, y: f64([5, 2], (i) => i % 2) }, "invalid-labels", "y", "y.argmax(axis=1)"],
    [{ x: f64([5], (i) => i), y }, "shape-mismatch", "x", "at least 2-D"],
    [{ x: f64([0, 2], () => 0), y: i64([]) }, "too-few-samples", "x", "no samples"],
    [{ x: f64([1, 2], () => 0), y: i64([0]) }, "too-few-samples", "x", "1 sample"],
    [{ x: f64([5, 2], (i) => i === 3 ? NaN : i), y }, "non-finite", "x", "in sample 1"],
    [{ x: f64([5, 2], (i) => i === 9 ? 1e300 : i), y }, "non-finite", "x", "1e+300"],
  ];
  for (const [arrays, problem, field, msg] of cases) {
    assert.throws(() => datasetFromNpz(encodeNpz(arrays), { source: "u.npz" }), (e: unknown) => {
      assert.ok(e instanceof InputError, String(e));
      assert.deepStrictEqual([e.problem, e.field], [problem, field], e.message);
      assert.ok(e.message.includes(msg), `"${e.message}" lacks "${msg}"`);
      assert.ok(e.message.startsWith("u.npz: "), e.message);
      return true;
    });
  }
  assert.throws(
    () => datasetFromNpz(new TextEncoder().encode("x,y\n1,2\n"), { source: "u.npz" }),
    (e: unknown) => e instanceof InputError && e.problem === "malformed-file",
  );
});

Deno.test("loadMnist and loadDataset agree on MNIST from a directory of IDX files", async () => {
  // The embedded package directory doubles as a `dir` holding the unpacked IDX files.
  const direct = await loadMnist({ split: "test", limit: 50 });
  const ds = await loadDataset(
    { name: "mnist", dir: await embeddedMnistDir(), train_limit: 1, test_limit: 50 },
    { dataDir: "." },
  );
  assert.deepStrictEqual(ds.test.x, direct.images);
  assert.deepStrictEqual(ds.test.y, direct.labels);
});

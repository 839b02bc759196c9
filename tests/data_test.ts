import assert from "node:assert/strict";
import { gzipSync } from "fflate";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { InputError } from "../lib/errors.ts";
import {
  downloadDataset,
  FASHION_MNIST,
  fetchVerified,
  loadMnist,
  md5File,
  MNIST,
  parseIdx,
  readIdxFile,
} from "../lib/data/mod.ts";
import { withServer } from "./file_server.ts";

const SHARED_DATA = fileURLToPath(new URL("../../shared/data/", import.meta.url));
const haveShared = (() => {
  try {
    return Deno.statSync(join(SHARED_DATA, "MD5SUMS")).isFile;
  } catch {
    return false;
  }
})();

/** An IDX file: magic, dims, then `payload` (already big-endian). */
function idx(code: number, dims: number[], payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + payload.length);
  const v = new DataView(out.buffer);
  out[2] = code;
  out[3] = dims.length;
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  out.set(payload, 4 + 4 * dims.length);
  return out;
}

function histogram(labels: Int32Array): number[] {
  const h = new Array(10).fill(0);
  for (const l of labels) h[l]++;
  return h;
}

function problem(e: InputError): string {
  return e.problem;
}

// ---------------------------------------------------------------------------------------------
// IDX

Deno.test("parseIdx reads ubyte data, plain and gzipped", () => {
  const file = idx(0x08, [2, 2, 3], Uint8Array.from({ length: 12 }, (_, i) => i * 20));
  for (const bytes of [file, gzipSync(file)]) {
    const a = parseIdx(bytes);
    assert.deepStrictEqual(a.shape, [2, 2, 3]);
    assert.deepStrictEqual(a.dtype, "uint8");
    assert.deepStrictEqual(
      Array.from(a.data as Uint8Array),
      Array.from({ length: 12 }, (_, i) => i * 20),
    );
  }
});

Deno.test("parseIdx decodes big-endian int32, float32 and float64", () => {
  const i32 = new Uint8Array(8);
  new DataView(i32.buffer).setInt32(0, -7, false);
  new DataView(i32.buffer).setInt32(4, 123456, false);
  assert.deepStrictEqual(parseIdx(idx(0x0c, [2], i32)).data, Int32Array.from([-7, 123456]));
  const f32 = new Uint8Array(4);
  new DataView(f32.buffer).setFloat32(0, 1.5, false);
  assert.deepStrictEqual(parseIdx(idx(0x0d, [1], f32)).data, Float32Array.from([1.5]));
  const f64 = new Uint8Array(8);
  new DataView(f64.buffer).setFloat64(0, Math.PI, false);
  assert.deepStrictEqual(parseIdx(idx(0x0e, [1, 1], f64)).data, Float64Array.from([Math.PI]));
});

Deno.test("parseIdx rejects bad magic, truncation and trailing bytes as malformed-file", () => {
  const good = idx(0x08, [3, 2], new Uint8Array(6));
  const bad = good.slice();
  bad[0] = 0x50;
  const cases: [Uint8Array, string][] = [
    [bad, "magic"],
    [good.subarray(0, 3), "too short"],
    [good.subarray(0, 9), "truncated IDX header"],
    [good.subarray(0, good.length - 1), "truncated IDX data"],
    [Uint8Array.from([...good, 0]), "trailing"],
    [gzipSync(good).subarray(0, 15), "gzip"],
    [idx(0x42, [1], new Uint8Array(1)), "unknown IDX dtype"],
  ];
  for (const [bytes, msg] of cases) {
    assert.throws(() => parseIdx(bytes, "f.idx"), (e: unknown) => {
      assert.ok(e instanceof InputError && e.message.includes(msg), `${msg}: ${e}`);
      assert.deepStrictEqual(problem(e), "malformed-file", msg);
      assert.ok(e.message.startsWith("f.idx:"), e.message);
      return true;
    });
  }
  assert.throws(
    () => parseIdx(idx(0x09, [1], new Uint8Array(1))),
    (e: unknown) => e instanceof InputError && problem(e) === "unsupported-dtype",
  );
});

// ---------------------------------------------------------------------------------------------
// Downloads

async function md5Hex(bytes: Uint8Array): Promise<string> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(join(dir, "f"), bytes);
    return await md5File(join(dir, "f"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

Deno.test("md5File matches the published MD5 of a known string", async () => {
  // RFC 1321 test vector.
  assert.deepStrictEqual(
    await md5Hex(new TextEncoder().encode("message digest")),
    "f96b697d7cb7938d525a2f31aaf161d0",
  );
});

Deno.test("fetchVerified downloads, verifies, caches and refuses bad data", async () => {
  const good = new TextEncoder().encode("the real dataset ".repeat(5000));
  const tampered = good.slice();
  tampered[100] ^= 1;
  const md5 = await md5Hex(good);
  const dir = await Deno.makeTempDir();
  try {
    await withServer({ "/good.gz": good, "/tampered.gz": tampered }, async (base, hits) => {
      const dest = join(dir, "sub", "good.gz");
      let progress = 0;
      const first = await fetchVerified(`${base}/good.gz`, dest, md5, {
        onProgress: (n) => progress = n,
      });
      assert.deepStrictEqual(first, { path: dest, cached: false, bytes: good.length });
      assert.deepStrictEqual(progress, good.length);
      assert.deepStrictEqual(await Deno.readFile(dest), good);

      // Cache hit: nothing fetched.
      const again = await fetchVerified(`${base}/good.gz`, dest, md5.toUpperCase());
      assert.deepStrictEqual(again.cached, true);
      assert.deepStrictEqual(hits.get("/good.gz"), 1);

      // Wrong checksum: error, nothing left behind.
      const bad = join(dir, "bad.gz");
      await assert.rejects(
        () => fetchVerified(`${base}/tampered.gz`, bad, md5),
        (e: unknown) => e instanceof Error && e.message.includes("checksum mismatch"),
      );
      // 404: error naming the status, nothing left behind.
      await assert.rejects(
        () => fetchVerified(`${base}/missing.gz`, join(dir, "missing.gz"), md5),
        (e: unknown) => e instanceof Error && e.message.includes("HTTP 404"),
      );
      assert.deepStrictEqual(await listDir(dir), ["sub"]);
      assert.deepStrictEqual(await listDir(join(dir, "sub")), ["good.gz"]);

      // A failed re-download leaves an existing (stale) file untouched...
      await Deno.writeTextFile(bad, "stale");
      await assert.rejects(
        () => fetchVerified(`${base}/tampered.gz`, bad, md5),
        (e: unknown) => e instanceof Error && e.message.includes("checksum"),
      );
      assert.deepStrictEqual(await Deno.readTextFile(bad), "stale");
      // ...and a good one replaces it.
      const fixed = await fetchVerified(`${base}/good.gz`, bad, md5);
      assert.deepStrictEqual(fixed.cached, false);
      assert.deepStrictEqual(await Deno.readFile(bad), good);
      assert.deepStrictEqual(await listDir(dir), ["bad.gz", "sub"]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fetchVerified reports an unreachable server and cleans up", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A port that was free a moment ago: connection refused.
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    await assert.rejects(
      () => fetchVerified(`http://127.0.0.1:${port}/x.gz`, join(dir, "x.gz"), "0".repeat(32)),
      (e: unknown) => e instanceof Error && e.message.includes("download of"),
    );
    assert.deepStrictEqual(await listDir(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// MNIST

const MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];
const MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];

Deno.test("embedded MNIST: 60000 train and 10000 test images with the known label counts", async () => {
  const train = await loadMnist({ split: "train" });
  assert.deepStrictEqual(train.n, 60000);
  assert.deepStrictEqual(train.images.length, 60000 * 784);
  assert.deepStrictEqual(histogram(train.labels), MNIST_TRAIN_COUNTS);
  const test = await loadMnist({ split: "test", source: "embedded" });
  assert.deepStrictEqual(test.n, 10000);
  assert.deepStrictEqual(histogram(test.labels), MNIST_TEST_COUNTS);
  assert.deepStrictEqual(Array.from(test.labels.subarray(0, 10)), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
});

Deno.test("loadMnist normalises with MNIST's mean/std unless raw, and honours limit", async () => {
  const raw = await loadMnist({ split: "test", limit: 5, raw: true });
  const norm = await loadMnist({ split: "test", limit: 5 });
  assert.deepStrictEqual(raw.n, 5);
  assert.deepStrictEqual(raw.images.length, 5 * 784);
  let max = 0;
  for (let i = 0; i < raw.images.length; i++) {
    const v = raw.images[i];
    assert(Number.isInteger(v) && v >= 0 && v <= 255);
    max = Math.max(max, v);
    assert.deepStrictEqual(norm.images[i], Math.fround((v / 255 - 0.1307) / 0.3081));
  }
  assert.deepStrictEqual(max, 255);
  assert.deepStrictEqual((await loadMnist({ split: "test", limit: 0 })).n, 0);
  assert.deepStrictEqual((await loadMnist({ split: "test", limit: 1e9 })).n, 10000);
});

Deno.test("loadMnist from a directory: missing files and mismatched counts are clear errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => loadMnist({ split: "test", source: dir }),
      (e: unknown) =>
        e instanceof Deno.errors.NotFound && e.message.includes("t10k-images-idx3-ubyte"),
    );
    await Deno.writeFile(
      join(dir, "t10k-images-idx3-ubyte.gz"),
      gzipSync(idx(0x08, [2, 28, 28], new Uint8Array(2 * 784))),
    );
    await Deno.writeFile(join(dir, "t10k-labels-idx1-ubyte"), idx(0x08, [3], new Uint8Array(3)));
    await assert.rejects(
      () => loadMnist({ split: "test", source: dir }),
      (e: unknown) =>
        e instanceof InputError && problem(e) === "malformed-file" &&
        e.message.includes("2 images but"),
    );

    await Deno.writeFile(join(dir, "t10k-labels-idx1-ubyte"), idx(0x08, [2], Uint8Array.of(3, 12)));
    await assert.rejects(
      () => loadMnist({ split: "test", source: dir }),
      (e: unknown) => e instanceof InputError && problem(e) === "invalid-labels",
    );

    await Deno.writeFile(join(dir, "t10k-labels-idx1-ubyte"), idx(0x08, [2], Uint8Array.of(3, 9)));
    const ok = await loadMnist({ split: "test", source: dir, raw: true });
    assert.deepStrictEqual(ok.n, 2);
    assert.deepStrictEqual(Array.from(ok.labels), [3, 9]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "shared MNIST/Fashion-MNIST .gz files: published MD5s, and MNIST equals the embedded copy",
  ignore: !haveShared,
  async fn() {
    const sums = new Map<string, string>();
    for (const line of (await Deno.readTextFile(join(SHARED_DATA, "MD5SUMS"))).split("\n")) {
      const [sum, path] = line.trim().split(/\s+/);
      if (sum && path) sums.set(path, sum);
    }
    for (const desc of [MNIST, FASHION_MNIST]) {
      for (const f of [desc.trainImages, desc.trainLabels, desc.testImages, desc.testLabels]) {
        const rel = `${desc.name}/${f.file}`;
        assert.deepStrictEqual(f.md5, sums.get(rel), `descriptor MD5 of ${rel} vs MD5SUMS`);
        assert.deepStrictEqual(await md5File(join(SHARED_DATA, rel)), f.md5, `MD5 of ${rel}`);
      }
    }

    for (const split of ["train", "test"] as const) {
      const gz = await loadMnist({ split, source: join(SHARED_DATA, "mnist"), raw: true });
      const emb = await loadMnist({ split, raw: true, limit: 100 });
      assert.deepStrictEqual(gz.n, split === "train" ? 60000 : 10000);
      assert.deepStrictEqual(
        gz.images.subarray(0, 100 * 784),
        emb.images,
        `${split}: first 100 images`,
      );
      assert.deepStrictEqual(gz.labels.subarray(0, 100), emb.labels, `${split}: first 100 labels`);
    }
    const idxImages = await readIdxFile(join(SHARED_DATA, "mnist", "t10k-images-idx3-ubyte.gz"));
    assert.deepStrictEqual(idxImages.shape, [10000, 28, 28]);

    const fashion = await loadMnist({
      split: "test",
      source: join(SHARED_DATA, "fashion-mnist"),
      mean: FASHION_MNIST.mean,
      std: FASHION_MNIST.std,
    });
    assert.deepStrictEqual(fashion.n, 10000);
    assert.deepStrictEqual(histogram(fashion.labels), new Array(10).fill(1000));
  },
});

Deno.test({
  name: "downloadDataset fetches and verifies all four files, then serves them from cache",
  ignore: !haveShared,
  async fn() {
    const routes: Record<string, Uint8Array> = {};
    const files = [MNIST.trainImages, MNIST.trainLabels, MNIST.testImages, MNIST.testLabels];
    for (const f of files) {
      routes[`/mnist/${f.file}`] = await Deno.readFile(join(SHARED_DATA, "mnist", f.file));
    }
    const dir = await Deno.makeTempDir();
    try {
      await withServer(routes, async (base, hits) => {
        const desc = { ...MNIST, baseUrl: `${base}/mnist/` };
        const paths = await downloadDataset(desc, dir);
        assert.deepStrictEqual(paths, files.map((f) => join(dir, f.file)));
        await downloadDataset(desc, dir);
        assert.deepStrictEqual([...hits.values()], [1, 1, 1, 1]);
        const test = await loadMnist({ split: "test", source: dir });
        assert.deepStrictEqual(histogram(test.labels), MNIST_TEST_COUNTS);
        // A descriptor whose checksum is wrong fails and keeps nothing.
        const wrong = { ...desc, testLabels: { ...desc.testLabels, md5: "0".repeat(32) } };
        await Deno.remove(join(dir, desc.testLabels.file));
        await assert.rejects(
          () => downloadDataset(wrong, dir),
          (e: unknown) => e instanceof Error && e.message.includes("checksum mismatch"),
        );
        assert.deepStrictEqual((await listDir(dir)).length, 3);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

import assert from "node:assert/strict";
import { gzipSync } from "fflate";
import { join } from "node:path";
import { InputError } from "../lib/errors.ts";
import {
  CIFAR10,
  CIFAR10_EXTRACTED_DIR,
  CIFAR10_RECORD,
  CIFAR10_TEST_FILE,
  CIFAR10_TRAIN_FILES,
  type Cifar10Descriptor,
  type Dataset,
  gunzipStream,
  loadDataset,
  md5File,
  readTar,
  type TarEntry,
} from "../lib/data/mod.ts";
import { withServer, withTempDir } from "./file_server.ts";

// ---------------------------------------------------------------------------------------------
// Fixtures: tar archives and CIFAR-10 batches in the real binary layout

const enc = new TextEncoder();

interface TarSpec {
  name: string;
  data?: Uint8Array | string;
  type?: string;
  prefix?: string;
}

/** A ustar header block with a valid checksum. */
function tarHeader(name: string, size: number, type: string, prefix = ""): Uint8Array {
  const h = new Uint8Array(512);
  const octal = (off: number, len: number, v: number) =>
    h.set(enc.encode(v.toString(8).padStart(len - 1, "0") + "\0"), off);
  h.set(enc.encode(name).subarray(0, 100), 0);
  octal(100, 8, 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, 0);
  h.set(enc.encode("        "), 148);
  h[156] = type.charCodeAt(0);
  h.set(enc.encode("ustar\0" + "00"), 257);
  h.set(enc.encode(prefix), 345);
  const sum = h.reduce((s, b) => s + b, 0);
  h.set(enc.encode(sum.toString(8).padStart(6, "0") + "\0 "), 148);
  return h;
}

/** A tar archive of `entries`, ending with the two zero blocks. */
function makeTar(entries: TarSpec[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const data = typeof e.data === "string" ? enc.encode(e.data) : e.data ?? new Uint8Array(0);
    parts.push(tarHeader(e.name, data.length, e.type ?? "0", e.prefix));
    const padded = new Uint8Array(Math.ceil(data.length / 512) * 512);
    padded.set(data);
    parts.push(padded);
  }
  parts.push(new Uint8Array(1024));
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) out.set(p, (off += p.length) - p.length);
  return out;
}

/** Yields `bytes` in chunks of `size`, to exercise reads across chunk boundaries. */
async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

async function collect(gen: AsyncIterable<TarEntry>): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  for await (const e of gen) out.push(e);
  return out;
}

/** Record `r` of a synthetic batch: label and the three planes, each 1024 bytes. */
function record(label: number, r: Uint8Array, g: Uint8Array, b: Uint8Array): Uint8Array {
  const rec = new Uint8Array(CIFAR10_RECORD);
  rec[0] = label;
  rec.set(r, 1);
  rec.set(g, 1 + 1024);
  rec.set(b, 1 + 2048);
  return rec;
}

/** Deterministic pseudo-random planes, different for every (batch, record, channel). */
function plane(seed: number): Uint8Array {
  const p = new Uint8Array(1024);
  let s = seed * 2654435761 >>> 0;
  for (let i = 0; i < 1024; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    p[i] = s >>> 24;
  }
  return p;
}

const SPECIAL_RED = 0; // first training record: R plane all 255, G and B all 0
const SPECIAL_PIXEL = 1; // second training record: only B at row 0, column 1 is 255

/**
 * Six batch files (3, 2, 2, 2, 2 training records, 4 test records). Labels count up from 0 mod 10
 * across the training set and from 7 in the test set; two training records are hand-made.
 */
function syntheticBatches(): Map<string, Uint8Array> {
  const sizes = [3, 2, 2, 2, 2];
  const files = new Map<string, Uint8Array>();
  let index = 0;
  CIFAR10_TRAIN_FILES.forEach((name, f) => {
    const recs: Uint8Array[] = [];
    for (let i = 0; i < sizes[f]; i++, index++) {
      const zero = new Uint8Array(1024);
      if (index === SPECIAL_RED) {
        recs.push(record(index % 10, new Uint8Array(1024).fill(255), zero, zero));
      } else if (index === SPECIAL_PIXEL) {
        const b = new Uint8Array(1024);
        b[0 * 32 + 1] = 255;
        recs.push(record(index % 10, zero, zero, b));
      } else {
        recs.push(record(index % 10, plane(3 * index), plane(3 * index + 1), plane(3 * index + 2)));
      }
    }
    files.set(name, concat(recs));
  });
  const test: Uint8Array[] = [];
  for (let i = 0; i < 4; i++) {
    test.push(record((7 + i) % 10, plane(1000 + i), plane(2000 + i), plane(3000 + i)));
  }
  files.set(CIFAR10_TEST_FILE, concat(test));
  return files;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** The canonical archive layout: everything under cifar-10-batches-bin/, plus the meta file. */
function archiveOf(files: Map<string, Uint8Array>): Uint8Array {
  const entries: TarSpec[] = [{ name: `${CIFAR10_EXTRACTED_DIR}/`, type: "5" }];
  entries.push({ name: `${CIFAR10_EXTRACTED_DIR}/batches.meta.txt`, data: "airplane\n" });
  for (const [name, data] of files) {
    entries.push({ name: `${CIFAR10_EXTRACTED_DIR}/${name}`, data });
  }
  entries.push({ name: `${CIFAR10_EXTRACTED_DIR}/readme.html`, data: "<html></html>" });
  return gzipSync(makeTar(entries));
}

const norm = (v: number, c: number) => Math.fround((v / 255 - CIFAR10.mean[c]) / CIFAR10.std[c]);

/** Checks every label and pixel of `ds` against the batch bytes, in NHWC order. */
function checkAgainst(ds: Dataset, files: Map<string, Uint8Array>, nTrain = 11, nTest = 4) {
  assert.deepStrictEqual(ds.name, "cifar10");
  assert.deepStrictEqual(ds.shape, [32, 32, 3]);
  assert.deepStrictEqual(ds.numClasses, 10);
  assert.deepStrictEqual(ds.augment, "hflip");
  assert.deepStrictEqual(ds.train.n, nTrain);
  assert.deepStrictEqual(ds.test.n, nTest);
  assert.deepStrictEqual(ds.train.x.length, nTrain * 3072);
  assert.deepStrictEqual(ds.test.x.length, nTest * 3072);
  const check = (split: Dataset["train"], batches: Uint8Array, what: string) => {
    for (let s = 0; s < split.n; s++) {
      const rec = batches.subarray(s * CIFAR10_RECORD);
      assert.deepStrictEqual(split.y[s], rec[0], `${what} label ${s}`);
      for (let row = 0; row < 32; row++) {
        for (let col = 0; col < 32; col++) {
          for (let c = 0; c < 3; c++) {
            const want = norm(rec[1 + c * 1024 + row * 32 + col], c);
            const got = split.x[((s * 32 + row) * 32 + col) * 3 + c];
            if (got !== want) {
              throw new Error(`${what} sample ${s} (${row}, ${col}, ${c}): ${got} != ${want}`);
            }
          }
        }
      }
    }
  };
  check(ds.train, concat(CIFAR10_TRAIN_FILES.map((f) => files.get(f)!)), "train");
  check(ds.test, files.get(CIFAR10_TEST_FILE)!, "test");
}

async function md5Of(bytes: Uint8Array): Promise<string> {
  let sum = "";
  await withTempDir(async (dir) => {
    await Deno.writeFile(join(dir, "f"), bytes);
    sum = await md5File(join(dir, "f"));
  });
  return sum;
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

async function writeFiles(dir: string, files: Map<string, Uint8Array>): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const [name, data] of files) await Deno.writeFile(join(dir, name), data);
}

// ---------------------------------------------------------------------------------------------
// tar

Deno.test("readTar: ustar prefix, GNU long names, pax paths, directories, chunk boundaries", async () => {
  const big = Uint8Array.from({ length: 5000 }, (_, i) => i * 7);
  const longName = "d/" + "n".repeat(150) + ".bin";
  const paxName = "p/" + "q".repeat(120);
  const paxRecord = (key: string, value: string) => {
    const body = ` ${key}=${value}\n`;
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len++;
    return `${len}${body}`;
  };
  const archive = makeTar([
    { name: "./top/", type: "5" },
    { name: "a.txt", data: "hello" },
    { name: "b.bin", data: big, prefix: "deep/dir" },
    { name: "././@LongLink", type: "L", data: longName + "\0" },
    { name: "truncated-name", data: "long" },
    { name: "PaxHeaders/x", type: "x", data: paxRecord("path", paxName) },
    { name: "short", data: "pax" },
    { name: "link", type: "2" },
    { name: "empty" },
  ]);
  for (const size of [archive.length, 511, 513, 100]) {
    const entries = await collect(readTar(chunked(archive, size)));
    assert.deepStrictEqual(entries.map((e) => [e.name, e.type, e.size]), [
      ["top/", "directory", 0],
      ["a.txt", "file", 5],
      ["deep/dir/b.bin", "file", 5000],
      [longName, "file", 4],
      [paxName, "file", 3],
      ["link", "other", 0],
      ["empty", "file", 0],
    ]);
    assert.deepStrictEqual(new TextDecoder().decode(entries[1].data), "hello");
    assert.deepStrictEqual(entries[2].data, big);
    assert.deepStrictEqual(new TextDecoder().decode(entries[4].data), "pax");
  }
  // Unwanted files are skipped without their data.
  const some = await collect(readTar(chunked(archive, 700), { want: (n) => n.endsWith(".bin") }));
  assert.deepStrictEqual(some.map((e) => e.data.length), [0, 0, 5000, 4, 0, 0, 0]);
});

Deno.test("readTar and gunzipStream reject corrupt and truncated input as malformed-file", async () => {
  const archive = makeTar([{ name: "a", data: new Uint8Array(2000) }]);
  const badSum = archive.slice();
  badSum[0] ^= 1;
  const cases: [Uint8Array, string][] = [
    [badSum, "checksum"],
    [archive.subarray(0, 300), "truncated tar header"],
    [archive.subarray(0, 1200), "truncated tar archive"],
  ];
  for (const [bytes, msg] of cases) {
    await assert.rejects(
      () => collect(readTar(chunked(bytes, 256), { source: "x.tar" })),
      (e: unknown) =>
        e instanceof InputError && e.problem === "malformed-file" &&
        e.message.startsWith("x.tar:") && e.message.includes(msg),
    );
  }
  const gz = gzipSync(archive);
  const drain = async (bytes: Uint8Array) => {
    for await (const _ of gunzipStream(chunked(bytes, 64), "x.tar.gz"));
  };
  await drain(gz);
  await assert.rejects(
    () => drain(gz.subarray(0, gz.length - 20)),
    (e: unknown) => e instanceof InputError && e.message.includes("x.tar.gz"),
  );
  await assert.rejects(
    () => drain(new TextEncoder().encode("plain text")),
    (e: unknown) => e instanceof InputError && e.message.includes("gzip"),
  );
});

Deno.test({
  name: "readTar reads an archive written by the system tar (GNU/pax headers)",
  ignore: !(() => {
    try {
      return new Deno.Command("tar", { args: ["--version"], stdout: "null" }).outputSync().success;
    } catch {
      return false;
    }
  })(),
  async fn() {
    await withTempDir(async (dir) => {
      const files = syntheticBatches();
      await writeFiles(join(dir, CIFAR10_EXTRACTED_DIR), files);
      const out = await new Deno.Command("tar", {
        args: ["-czf", "a.tar.gz", CIFAR10_EXTRACTED_DIR],
        cwd: dir,
      }).output();
      assert(out.success, new TextDecoder().decode(out.stderr));
      using f = await Deno.open(join(dir, "a.tar.gz"));
      const entries = await collect(readTar(gunzipStream(f.readable)));
      const got = new Map(entries.filter((e) => e.type === "file").map((e) => [e.name, e.data]));
      for (const [name, data] of files) {
        assert.deepStrictEqual(got.get(`${CIFAR10_EXTRACTED_DIR}/${name}`), data, name);
      }
    });
  },
});

// ---------------------------------------------------------------------------------------------
// CIFAR-10 from a directory

Deno.test("cifar10 from dir: labels and every pixel in NHWC order, normalised per channel", async () => {
  await withTempDir(async (dir) => {
    const files = syntheticBatches();
    await writeFiles(dir, files);
    const ds = await loadDataset({ name: "cifar10", dir }, { dataDir: join(dir, "unused") });
    checkAgainst(ds, files);
    assert.deepStrictEqual(Array.from(ds.train.y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0]);
    assert.deepStrictEqual(Array.from(ds.test.y), [7, 8, 9, 0]);

    // Sample 0: R plane constant 255 -> channel 0 of every pixel is (1 - 0.4914) / 0.2470.
    const red = Math.fround((1 - 0.4914) / 0.2470);
    const zeroG = Math.fround((0 - 0.4822) / 0.2435), zeroB = Math.fround((0 - 0.4465) / 0.2616);
    for (let p = 0; p < 1024; p++) {
      assert.deepStrictEqual([ds.train.x[3 * p], ds.train.x[3 * p + 1], ds.train.x[3 * p + 2]], [
        red,
        zeroG,
        zeroB,
      ]);
    }
    // Sample 1: only B at (row 0, col 1) is 255.
    const s1 = ds.train.x.subarray(3072, 6144);
    for (let p = 0; p < 1024; p++) {
      const blue = p === 1 ? Math.fround((1 - 0.4465) / 0.2616) : zeroB;
      assert.deepStrictEqual(s1[3 * p + 2], blue, `pixel ${p}`);
    }
    assert(!(await exists(join(dir, "unused"))), "a dir load writes no cache");
  });
});

Deno.test("cifar10: limits take the first records across batches and read only those", async () => {
  await withTempDir(async (dir) => {
    const files = syntheticBatches();
    await writeFiles(join(dir, CIFAR10_EXTRACTED_DIR), files);
    const ds = await loadDataset(
      { name: "cifar10", dir, train_limit: 4, test_limit: 1 },
      { dataDir: dir },
    );
    checkAgainst(ds, files, 4, 1);
    // Batches past the limit are not read: corrupting their labels changes nothing.
    const bad = files.get(CIFAR10_TRAIN_FILES[4])!.slice();
    bad[0] = 200;
    await Deno.writeFile(join(dir, CIFAR10_EXTRACTED_DIR, CIFAR10_TRAIN_FILES[4]), bad);
    checkAgainst(
      await loadDataset({ name: "cifar10", dir, train_limit: 4, test_limit: 1 }, {
        dataDir: dir,
      }),
      files,
      4,
      1,
    );
    await assert.rejects(
      () => loadDataset({ name: "cifar10", dir }, { dataDir: dir }),
      (e: unknown) =>
        e instanceof InputError && e.problem === "invalid-labels" &&
        e.message.includes("label 200 in record 0"),
    );
    const zero = await loadDataset({ name: "cifar10", dir, train_limit: 0 }, { dataDir: dir });
    assert.deepStrictEqual([zero.train.n, zero.train.x.length], [0, 0]);
  });
});

Deno.test("cifar10 from dir holding only the tar.gz; missing files and bad sizes are clear errors", async () => {
  await withTempDir(async (dir) => {
    const files = syntheticBatches();
    await Deno.writeFile(join(dir, CIFAR10.archive), archiveOf(files));
    checkAgainst(await loadDataset({ name: "cifar10", dir }, { dataDir: dir }), files);
    assert.deepStrictEqual(
      await listDir(dir),
      [CIFAR10.archive],
      "nothing extracted into the user's dir",
    );

    const empty = join(dir, "empty");
    await Deno.mkdir(empty);
    await assert.rejects(
      () => loadDataset({ name: "cifar10", dir: empty }, { dataDir: dir }),
      (e: unknown) => e instanceof Deno.errors.NotFound && e.message.includes("data_batch_1.bin"),
    );

    const short = join(dir, "short");
    const cut = new Map(files);
    cut.set(CIFAR10_TEST_FILE, files.get(CIFAR10_TEST_FILE)!.subarray(1));
    await writeFiles(short, cut);
    await assert.rejects(
      () => loadDataset({ name: "cifar10", dir: short }, { dataDir: dir }),
      (e: unknown) =>
        e instanceof InputError && e.problem === "malformed-file" &&
        e.message.includes("not a whole number of 3073-byte"),
    );

    const lacking = join(dir, "lacking");
    const partial = new Map(files);
    partial.delete(CIFAR10_TRAIN_FILES[2]);
    await Deno.mkdir(lacking);
    await Deno.writeFile(join(lacking, CIFAR10.archive), archiveOf(partial));
    await assert.rejects(
      () => loadDataset({ name: "cifar10", dir: lacking }, { dataDir: dir }),
      (e: unknown) => e instanceof InputError && e.message.includes("lacks data_batch_3.bin"),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// CIFAR-10 download

Deno.test("cifar10 download: verified, extracted once, cache reused, re-extracted from the archive", async () => {
  const files = syntheticBatches();
  const archive = archiveOf(files);
  const desc: Cifar10Descriptor = { ...CIFAR10, md5: await md5Of(archive) };
  await withTempDir(async (dataDir) => {
    await withServer({ "/kriz/cifar-10-binary.tar.gz": archive }, async (base, hits) => {
      const d = { ...desc, url: `${base}/kriz/cifar-10-binary.tar.gz` };
      const opts = { dataDir, descriptors: { cifar10: d } };
      checkAgainst(await loadDataset({ name: "cifar10" }, opts), files);
      const cache = join(dataDir, "datasets", "cifar10");
      assert.deepStrictEqual(await listDir(cache), [CIFAR10_EXTRACTED_DIR, CIFAR10.archive]);
      assert.deepStrictEqual(await listDir(join(cache, CIFAR10_EXTRACTED_DIR)), [
        ".source-md5",
        ...CIFAR10_TRAIN_FILES,
        CIFAR10_TEST_FILE,
      ]);

      // Second load: straight from the extracted cache, no request.
      checkAgainst(await loadDataset({ name: "cifar10", train_limit: 5 }, opts), files, 5);
      assert.deepStrictEqual(hits.get("/kriz/cifar-10-binary.tar.gz"), 1);

      // A lost extraction is rebuilt from the verified archive, still without a request.
      await Deno.remove(join(cache, CIFAR10_EXTRACTED_DIR), { recursive: true });
      checkAgainst(await loadDataset({ name: "cifar10" }, opts), files);
      assert.deepStrictEqual(hits.get("/kriz/cifar-10-binary.tar.gz"), 1);
    });

    // Another archive (another MD5) replaces the stale extraction.
    const other = new Map(files);
    other.set(CIFAR10_TEST_FILE, files.get(CIFAR10_TRAIN_FILES[0])!);
    const otherArchive = archiveOf(other);
    await withServer({ "/v2.tar.gz": otherArchive }, async (base, hits) => {
      const d = { ...desc, url: `${base}/v2.tar.gz`, md5: await md5Of(otherArchive) };
      checkAgainst(
        await loadDataset({ name: "cifar10" }, { dataDir, descriptors: { cifar10: d } }),
        other,
        11,
        3,
      );
      assert.deepStrictEqual(hits.get("/v2.tar.gz"), 1);
    });
  });
});

Deno.test("cifar10 download: checksum mismatch and HTTP errors name the URL and leave no cache", async () => {
  const archive = archiveOf(syntheticBatches());
  const good = await md5Of(archive);
  const tampered = archive.slice();
  tampered[tampered.length - 30] ^= 0xff;
  const bad = await md5Of(tampered);
  await withTempDir(async (dataDir) => {
    await withServer({ "/c.tar.gz": tampered }, async (base) => {
      const url = `${base}/c.tar.gz`;
      const opts = { dataDir, descriptors: { cifar10: { ...CIFAR10, url, md5: good } } };
      await assert.rejects(
        () => loadDataset({ name: "cifar10" }, opts),
        (e: unknown) =>
          e instanceof Error && e.message.includes(`checksum mismatch for ${url}`) &&
          e.message.includes(`expected MD5 ${good}, got ${bad}`),
      );
      assert.deepStrictEqual(await listDir(join(dataDir, "datasets", "cifar10")), []);

      const missing = { ...opts, descriptors: { cifar10: { ...CIFAR10, url: `${base}/nope` } } };
      await assert.rejects(
        () => loadDataset({ name: "cifar10" }, missing),
        (e: unknown) =>
          e instanceof Error && e.message.includes(`download of ${base}/nope failed: HTTP 404`),
      );
      assert.deepStrictEqual(await listDir(join(dataDir, "datasets", "cifar10")), []);
    });
  });
});

Deno.test("cifar10 download honours the abort signal and keeps no partial file", async () => {
  const archive = archiveOf(syntheticBatches());
  const md5 = await md5Of(archive);
  await withTempDir(async (dataDir) => {
    const already = new AbortController();
    already.abort();
    await assert.rejects(
      () => loadDataset({ name: "cifar10" }, { dataDir, signal: already.signal }),
      { name: "AbortError" },
    );

    await withServer({ "/c.tar.gz": archive }, async (base) => {
      const ctl = new AbortController();
      await assert.rejects(
        () =>
          loadDataset({ name: "cifar10" }, {
            dataDir,
            signal: ctl.signal,
            descriptors: { cifar10: { ...CIFAR10, url: `${base}/c.tar.gz`, md5 } },
            onProgress: () => ctl.abort(),
          }),
        { name: "AbortError" },
      );
      const cache = join(dataDir, "datasets", "cifar10");
      const left = await listDir(cache);
      assert(!left.some((n) => n.endsWith(".part")), `partial files left: ${left}`);
      assert(!left.includes(CIFAR10_EXTRACTED_DIR), `extraction left: ${left}`);
    });
  });
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

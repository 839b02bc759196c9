/**
 * The "native" tfjs backend: tfjs-backend-cpu's MathBackendCPU (same data layout, every cpu
 * kernel still works on it) plus a recycler for float32 buffers, which the kernels in
 * ./kernels use for their outputs and scratch space.
 *
 * Why recycle: a training step allocates the same few dozen shapes over and over, and a fresh
 * 800 KB Float32Array costs about as much as writing it (V8 zeroes it and accounts it as
 * external memory), which at MLP sizes is a sizeable part of the step.
 *
 * Safety rules (a recycled buffer must never be visible through a live tensor or a user array):
 * - only buffers this backend allocated are recycled (never a user's array given to tf.tensor,
 *   never a cpu kernel's output);
 * - every data entry that refers to such a buffer (including subarray views, e.g. cpu Slice)
 *   is counted in write()/move(); the buffer returns to the pool when the count drops to zero;
 * - a buffer handed out by readSync()/read() (dataSync(), data(), arraySync(), ...) has escaped
 *   and is never recycled or written in place.
 *
 * @module
 */

import type * as tf from "@tensorflow/tfjs-core";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { Sblas } from "./blas.ts";
import type { CKernels } from "./ckernels.ts";

type DataId = object;
type BackendValues = Float32Array | Int32Array | Uint8Array | Uint8Array[];

/** Cap on the bytes parked in the pool (beyond it, disposed buffers are left to the GC). */
const POOL_MAX_BYTES = 256 * 1024 * 1024;
/** Cap on parked buffers of one length (a step rarely holds more of one shape at once). */
const POOL_MAX_PER_LENGTH = 32;
/** Below this many elements a fresh allocation is as cheap as a pool lookup. */
const POOL_MIN_LENGTH = 64;

interface Owned {
  /** The full array that was allocated for the buffer (views share it). */
  array: Float32Array;
  /** Live data entries (tensors' storage) that refer to the buffer. */
  refs: number;
}

/** tfjs backend class registered as "native" (see ./mod.ts). */
export class NativeBackend extends MathBackendCPU {
  /** float32 BLAS (OpenBLAS through FFI). */
  readonly blas: Sblas;
  #pool = new Map<number, Float32Array[]>();
  #pooledBytes = 0;
  /** Buffers allocated by alloc() that have been written into a data entry. */
  #owned = new Map<ArrayBufferLike, Owned>();
  /** Buffers allocated by alloc() and not yet written (scratch, or an output being built). */
  #fresh = new WeakSet<ArrayBufferLike>();
  #escaped = new WeakSet<ArrayBufferLike>();
  #stats = { allocated: 0, recycled: 0 };
  /** Extra buffers a kernel attached to its output (freed with it): see {@link attach}. */
  #sidecars = new Map<DataId, Float32Array>();

  /**
   * The C kernels (./ckernels.ts) when built, else null and the kernels use their TypeScript
   * twins. Mutable so tests can run both paths on one backend.
   */
  ck: CKernels | null;

  constructor(blas: Sblas, ck: CKernels | null = null) {
    super();
    this.blas = blas;
    this.ck = ck;
  }

  /**
   * A float32 array of n elements owned by this backend, recycled when one of that length is
   * parked. Its contents are garbage unless `zero`. Pass it to makeTensorInfo (the backend then
   * tracks it) or back to {@link release} when it was scratch.
   */
  alloc(n: number, zero = false): Float32Array {
    const parked = n >= POOL_MIN_LENGTH ? this.#pool.get(n) : undefined;
    const a = parked?.pop();
    if (a) {
      this.#pooledBytes -= a.byteLength;
      this.#stats.recycled++;
      if (zero) a.fill(0);
      this.#fresh.add(a.buffer);
      return a;
    }
    this.#stats.allocated++;
    const f = new Float32Array(n);
    this.#fresh.add(f.buffer);
    return f;
  }

  /** Returns scratch from {@link alloc} that was never given to a tensor. */
  release(a: Float32Array): void {
    if (!this.#fresh.has(a.buffer)) return;
    this.#fresh.delete(a.buffer);
    this.#park(a);
  }

  /**
   * Whether `values` (a tensor's storage) may be overwritten in place: allocated here, not
   * escaped, and referred to by exactly one data entry. The caller checks the entry's refCount.
   */
  writableInPlace(values: BackendValues): values is Float32Array {
    if (!(values instanceof Float32Array)) return false;
    const o = this.#owned.get(values.buffer);
    return o !== undefined && o.refs === 1 && o.array === values &&
      !this.#escaped.has(values.buffer);
  }

  /**
   * Attaches `extra` (from {@link alloc}) to the data of a kernel's output: what the kernel's
   * gradient needs besides the output itself (the fused conv-ReLU-pool keeps its pooling codes
   * there instead of a second output, which tfjs would fill with a zero gradient every step).
   * Returned to the pool when the data is disposed.
   */
  attach(dataId: DataId, extra: Float32Array): void {
    const old = this.#sidecars.get(dataId);
    if (old) this.release(old);
    this.#sidecars.set(dataId, extra);
  }

  /** What {@link attach} put on `dataId`, if anything. */
  attached(dataId: DataId): Float32Array | undefined {
    return this.#sidecars.get(dataId);
  }

  /** Pool counters (for benchmarks and tests). */
  poolStats(): { allocated: number; recycled: number; pooledBytes: number; owned: number } {
    return { ...this.#stats, pooledBytes: this.#pooledBytes, owned: this.#owned.size };
  }

  /** Drops every parked buffer (they are left to the GC). */
  emptyPool(): void {
    this.#pool.clear();
    this.#pooledBytes = 0;
  }

  #park(a: Float32Array): void {
    const n = a.length;
    if (
      n < POOL_MIN_LENGTH || this.#escaped.has(a.buffer) ||
      this.#pooledBytes + a.byteLength > POOL_MAX_BYTES
    ) return;
    let list = this.#pool.get(n);
    if (!list) this.#pool.set(n, list = []);
    if (list.length >= POOL_MAX_PER_LENGTH) return;
    list.push(a);
    this.#pooledBytes += a.byteLength;
  }

  #track(values: unknown): void {
    if (!(values instanceof Float32Array)) return;
    const buf = values.buffer;
    const o = this.#owned.get(buf);
    if (o) {
      o.refs++;
    } else if (this.#fresh.has(buf)) {
      this.#fresh.delete(buf);
      // A view of a fresh buffer cannot be written before the full array; be safe anyway.
      if (values.byteOffset === 0 && values.byteLength === buf.byteLength) {
        this.#owned.set(buf, { array: values, refs: 1 });
      }
    }
  }

  #untrack(values: unknown): void {
    if (!(values instanceof Float32Array)) return;
    const o = this.#owned.get(values.buffer);
    if (!o || --o.refs > 0) return;
    this.#owned.delete(values.buffer);
    this.#park(o.array);
  }

  override write(values: BackendValues, shape: number[], dtype: tf.DataType): DataId {
    const id = super.write(values, shape, dtype);
    this.#track(values);
    return id;
  }

  override move(
    dataId: DataId,
    values: BackendValues,
    shape: number[],
    dtype: tf.DataType,
    refCount: number,
  ): void {
    super.move(dataId, values, shape, dtype, refCount);
    this.#track(values);
  }

  override readSync(dataId: DataId): BackendValues {
    const v = super.readSync(dataId) as BackendValues;
    if (ArrayBuffer.isView(v)) {
      this.#escaped.add(v.buffer);
      const o = this.#owned.get(v.buffer);
      // Escaped buffers are only counted so that they are never parked; forget them now.
      if (o) this.#owned.delete(v.buffer);
    }
    return v;
  }

  override disposeData(dataId: DataId, force = false): boolean {
    // DataStorage.get of a missing id would try to move it from another backend: check first.
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const done = super.disposeData(dataId, force);
    if (values !== undefined && !this.data.has(dataId)) {
      this.#untrack(values);
      const extra = this.#sidecars.get(dataId);
      if (extra) {
        this.#sidecars.delete(dataId);
        this.release(extra);
      }
    }
    return done;
  }

  override dispose(): void {
    this.#sidecars.clear();
    this.emptyPool();
    this.#owned.clear();
    super.dispose();
  }
}

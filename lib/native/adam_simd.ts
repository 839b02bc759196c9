/**
 * Adam's moment update and step, four lanes at a time in WebAssembly SIMD, with the moments
 * resident in the module's memory.
 *
 * Why: in plain JS the update is a float64 sqrt and divide per element, one element at a time,
 * which for an MLP costs as much as its matrix products on OpenBLAS; f32x4 arithmetic does
 * four lanes per instruction (measurements: docs/performance.md, "Figures behind code
 * comments"). Per parameter tensor and step the
 * gradient is copied in (a memcpy), the kernel turns it into the step in place, and the caller
 * subtracts that from the parameter (cblas_saxpy on the tensor's own storage).
 *
 * The module is assembled here from its instructions (below) rather than shipped as a binary,
 * so there is nothing to rebuild and it can be read. Its one function:
 *
 * ```wat
 * (func (export "adam") (param $m i32) (param $v i32) (param $g i32) (param $n i32)
 *       (param $b1 f32) (param $ob1 f32) (param $b2 f32) (param $ob2 f32)
 *       (param $k f32) (param $eps f32) (param $step f32)
 *   ;; for each 4 lanes at byte offset i < 4n:
 *   ;;   m = b1 m + ob1 g;  v = b2 v + ob2 g g;  g = step m / (k sqrt(v) + eps)
 * )
 * ```
 *
 * which is PyTorch's Adam: with bias corrections c1 = 1 - b1^t and c2 = 1 - b2^t,
 * step = lr / c1 and k = 1 / sqrt(c2), so p - g = p - lr (m / c1) / (sqrt(v / c2) + eps).
 *
 * @module
 */

// ---- a minimal WebAssembly assembler (only what the kernel needs) ----

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function name(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
}

const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b;
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const tee = (i: number) => [0x22, ...uleb(i)];
const simd = (op: number) => [0xfd, ...uleb(op)];
/** memarg: 16-byte alignment hint (2^4), offset 0 */
const LOAD = [...simd(0x00), 4, 0];
const STORE = [...simd(0x0b), 4, 0];
const SPLAT = simd(0x13);
const SQRT = simd(227), ADD = simd(228), MUL = simd(230), DIV = simd(231);
const I32_ADD = [0x6a], I32_SHL = [0x74], I32_GE_U = [0x4f];
const i32c = (v: number) => [0x41, ...sleb(v)];

/** Bytes of the module: memory "memory" (grown by the caller) and function "adam". */
function adamModule(): Uint8Array<ArrayBuffer> {
  // params
  const M = 0, V = 1, G = 2, N = 3, B1 = 4, OB1 = 5, B2 = 6, OB2 = 7, K = 8, EPS = 9, STEP = 10;
  // locals: i32 byte offset and end, then v128 splats and temporaries
  const I = 11, END = 12;
  const vB1 = 13, vOB1 = 14, vB2 = 15, vOB2 = 16, vK = 17, vEPS = 18, vSTEP = 19;
  const vG = 20, vM = 21, vV = 22;
  const addr = (base: number) => [...get(base), ...get(I), ...I32_ADD];
  const body = [
    ...[[B1, vB1], [OB1, vOB1], [B2, vB2], [OB2, vOB2], [K, vK], [EPS, vEPS], [STEP, vSTEP]]
      .flatMap(([p, l]) => [...get(p), ...SPLAT, ...set(l)]),
    ...get(N),
    ...i32c(2),
    ...I32_SHL,
    ...set(END),
    0x02,
    0x40, // block
    0x03,
    0x40, // loop
    ...get(I),
    ...get(END),
    ...I32_GE_U,
    0x0d,
    1, // br_if 1 (out of the block)
    // g4 = g[i]
    ...addr(G),
    ...LOAD,
    ...set(vG),
    // m[i] = b1 m[i] + ob1 g4
    ...addr(M),
    ...addr(M),
    ...LOAD,
    ...get(vB1),
    ...MUL,
    ...get(vG),
    ...get(vOB1),
    ...MUL,
    ...ADD,
    ...tee(vM),
    ...STORE,
    // v[i] = b2 v[i] + ob2 g4 g4
    ...addr(V),
    ...addr(V),
    ...LOAD,
    ...get(vB2),
    ...MUL,
    ...get(vG),
    ...get(vG),
    ...MUL,
    ...get(vOB2),
    ...MUL,
    ...ADD,
    ...tee(vV),
    ...STORE,
    // g[i] = step m / (k sqrt(v) + eps)
    ...addr(G),
    ...get(vM),
    ...get(vSTEP),
    ...MUL,
    ...get(vV),
    ...SQRT,
    ...get(vK),
    ...MUL,
    ...get(vEPS),
    ...ADD,
    ...DIV,
    ...STORE,
    // i += 16
    ...get(I),
    ...i32c(16),
    ...I32_ADD,
    ...set(I),
    0x0c,
    0, // br 0 (loop)
    0x0b, // end loop
    0x0b, // end block
    0x0b, // end function
  ];
  const locals = [2, ...uleb(2), I32, ...uleb(10), V128];
  const func = [...locals, ...body];
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    // type: (i32 x4, f32 x7) -> ()
    ...section(1, [1, 0x60, 11, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32, 0]),
    ...section(3, [1, 0]), // one function of type 0
    ...section(5, [1, 0x00, 1]), // one memory, min 1 page, no max
    ...section(7, [2, ...name("adam"), 0x00, 0, ...name("memory"), 0x02, 0]),
    ...section(10, [1, ...uleb(func.length), ...func]),
  ];
  return new Uint8Array(bytes);
}

type AdamFn = (
  m: number,
  v: number,
  g: number,
  n: number,
  b1: number,
  ob1: number,
  b2: number,
  ob2: number,
  k: number,
  eps: number,
  step: number,
) => void;

let compiled: WebAssembly.Module | null | undefined;

/** The same update in plain JS (float64 arithmetic), for engines without WebAssembly SIMD. */
function adamJs(buffer: ArrayBufferLike): AdamFn {
  return (m, v, g, n, b1, ob1, b2, ob2, k, eps, step) => {
    const mm = new Float32Array(buffer, m, n), vv = new Float32Array(buffer, v, n);
    const gg = new Float32Array(buffer, g, n);
    for (let i = 0; i < n; i++) {
      const gi = gg[i];
      const mi = b1 * mm[i] + ob1 * gi, vi = b2 * vv[i] + ob2 * gi * gi;
      mm[i] = mi;
      vv[i] = vi;
      gg[i] = (step * mi) / (k * Math.sqrt(vi) + eps);
    }
  };
}

/** The compiled module, or null where WebAssembly SIMD is unavailable. */
function adamWasm(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  try {
    const bytes = adamModule();
    compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    compiled = null;
  }
  return compiled;
}

const PAGE = 65536;
const round4 = (n: number) => (n + 3) & ~3;

/** Hyper-parameters of one step (bias corrections already folded in). */
export interface AdamStepParams {
  beta1: number;
  beta2: number;
  /** lr / (1 - beta1^t) */
  stepSize: number;
  /** 1 / sqrt(1 - beta2^t) */
  k: number;
  epsilon: number;
}

/**
 * Adam moments for a set of parameter tensors, kept in one WebAssembly memory (each slot
 * 16-byte aligned and padded to whole lanes), plus a scratch area for the gradient. Where
 * WebAssembly SIMD is unavailable the same layout is updated by a plain JS loop.
 */
export class AdamMoments {
  #memory: WebAssembly.Memory;
  #adam: AdamFn;
  /** Whether the SIMD kernel is in use. */
  readonly simd: boolean;
  /** Byte offset of each slot's m (v follows at + 4 * round4(n)). */
  #slots = new Map<string, { offset: number; n: number }>();
  #top = 0;
  #scratch = 0;
  #scratchFloats = 0;

  /** Empty state. */
  constructor() {
    const module = adamWasm();
    this.simd = module !== null;
    if (module) {
      const inst = new WebAssembly.Instance(module, {});
      this.#memory = inst.exports.memory as WebAssembly.Memory;
      this.#adam = inst.exports.adam as AdamFn;
    } else {
      this.#memory = new WebAssembly.Memory({ initial: 1 });
      this.#adam = adamJs(this.#memory.buffer);
    }
  }

  #ensure(bytes: number): void {
    const have = this.#memory.buffer.byteLength;
    if (bytes <= have) return;
    this.#memory.grow(Math.ceil((bytes - have) / PAGE));
    if (!this.simd) this.#adam = adamJs(this.#memory.buffer);
  }

  /** Whether a slot exists for `key`. */
  has(key: string): boolean {
    return this.#slots.has(key);
  }

  /** The slot of `key`, created zeroed with n elements on first use. */
  #slot(key: string, n: number): { offset: number; n: number } {
    let s = this.#slots.get(key);
    if (s) {
      if (s.n !== n) throw new Error(`Adam: parameter ${key} changed size (${s.n} -> ${n})`);
      return s;
    }
    s = { offset: this.#top, n };
    this.#top += 2 * 4 * round4(n);
    this.#scratch = this.#top; // scratch always sits past the last slot
    this.#ensure(this.#top + 4 * this.#scratchFloats);
    new Float32Array(this.#memory.buffer, s.offset, 2 * round4(n)).fill(0);
    this.#slots.set(key, s);
    return s;
  }

  /**
   * The gradient area (n floats, zero-padded to whole lanes): fill it with the gradient (plus
   * any weight decay), then call {@link step}. Valid until the next call on this object.
   */
  gradient(key: string, n: number): Float32Array {
    this.#slot(key, n);
    const need = round4(n);
    if (need > this.#scratchFloats) {
      this.#scratchFloats = need;
      this.#ensure(this.#scratch + 4 * need);
    }
    const g = new Float32Array(this.#memory.buffer, this.#scratch, need);
    g.fill(0, n);
    return g.subarray(0, n);
  }

  /** Updates the moments of `key` and turns the gradient area into the step to subtract. */
  step(key: string, p: AdamStepParams): Float32Array {
    const s = this.#slots.get(key)!;
    const pad = round4(s.n);
    this.#adam(
      s.offset,
      s.offset + 4 * pad,
      this.#scratch,
      pad,
      p.beta1,
      1 - p.beta1,
      p.beta2,
      1 - p.beta2,
      p.k,
      p.epsilon,
      p.stepSize,
    );
    return new Float32Array(this.#memory.buffer, this.#scratch, s.n);
  }

  /** Copies of the moments of `key` (for getWeights), or null if it has none. */
  moments(key: string): { m: Float32Array; v: Float32Array } | null {
    const s = this.#slots.get(key);
    if (!s) return null;
    const pad = round4(s.n);
    return {
      m: new Float32Array(this.#memory.buffer, s.offset, s.n).slice(),
      v: new Float32Array(this.#memory.buffer, s.offset + 4 * pad, s.n).slice(),
    };
  }

  /** Overwrites the moments of `key` (for setWeights). */
  setMoments(key: string, m: Float32Array, v: Float32Array): void {
    const s = this.#slot(key, m.length);
    const pad = round4(s.n);
    new Float32Array(this.#memory.buffer, s.offset, s.n).set(m);
    new Float32Array(this.#memory.buffer, s.offset + 4 * pad, s.n).set(v);
  }

  /** Keys with moments, in creation order. */
  keys(): string[] {
    return [...this.#slots.keys()];
  }
}

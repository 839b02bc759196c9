/**
 * float32 elementwise kernels with tight loops. The cpu backend calls a per-element callback
 * through generic broadcasting index arithmetic; these run at memory speed for the layouts
 * training produces: equal shapes, a scalar, a row vector (bias), a column vector (per-row
 * statistics), a column against a row (outer sums and products). Other broadcasts, and other
 * dtypes, go to the cpu kernel.
 *
 * Every operation spells out its own loops so that each loop stays monomorphic for V8.
 * Results equal the cpu kernels' bit for bit (same formula, one float32 rounding).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import { f32, type NativeArgs, out, sizeOf, withFallback } from "./util.ts";

type A = Float32Array;
/** Output storage: float32 for arithmetic, bool (0/1 bytes) for comparisons. */
type Out = Float32Array | Uint8Array;

/** The three loops of one binary operation (o = output, offsets ao/bo/oo, n elements). */
export interface BinaryLoops<O extends Out = Float32Array> {
  /** o[oo + i] = a[ao + i] op b[bo + i] */
  vv: (a: A, ao: number, b: A, bo: number, o: O, oo: number, n: number) => void;
  /** o[oo + i] = a[ao + i] op s */
  vs: (a: A, ao: number, s: number, o: O, oo: number, n: number) => void;
  /** o[oo + i] = s op b[bo + i] */
  sv: (s: number, b: A, bo: number, o: O, oo: number, n: number) => void;
}

const ADD: BinaryLoops = {
  vv: (a, ao, b, bo, o, oo, n) => {
    for (let i = 0; i < n; i++) o[oo + i] = a[ao + i] + b[bo + i];
  },
  vs: (a, ao, s, o, oo, n) => {
    for (let i = 0; i < n; i++) o[oo + i] = a[ao + i] + s;
  },
  sv: (s, b, bo, o, oo, n) => {
    for (let i = 0; i < n; i++) o[oo + i] = s + b[bo + i];
  },
};

const SUB: BinaryLoops = {
  vv: (a, ao, b, bo, o, oo, n) => {
    for (let i = 0; i < n; i++) o[oo + i] = a[ao + i] - b[bo + i];
  },
  vs: (a, ao, s, o, oo, n) => {
    for (let i = 0; i < n; i++) o[oo + i] = a[ao + i] - s;
  },
  sv: (s, b, bo, o, oo, n) => {
    for (let i = 0; i < n; i++) o[oo + i] = s - b[bo + i];
  },
};

const MUL: BinaryLoops = {
  vv: (a, ao, b, bo, o, oo, n) => {
    for (let i = 0; i < n; i++) o[oo + i] = a[ao + i] * b[bo + i];
  },
  vs: (a, ao, s, o, oo, n) => {
    for (let i = 0; i < n; i++) o[oo + i] = a[ao + i] * s;
  },
  sv: (s, b, bo, o, oo, n) => {
    for (let i = 0; i < n; i++) o[oo + i] = s * b[bo + i];
  },
};

const DIV: BinaryLoops = {
  vv: (a, ao, b, bo, o, oo, n) => {
    for (let i = 0; i < n; i++) o[oo + i] = a[ao + i] / b[bo + i];
  },
  vs: (a, ao, s, o, oo, n) => {
    for (let i = 0; i < n; i++) o[oo + i] = a[ao + i] / s;
  },
  sv: (s, b, bo, o, oo, n) => {
    for (let i = 0; i < n; i++) o[oo + i] = s / b[bo + i];
  },
};

const MAX: BinaryLoops = {
  vv: (a, ao, b, bo, o, oo, n) => {
    for (let i = 0; i < n; i++) o[oo + i] = Math.max(a[ao + i], b[bo + i]);
  },
  vs: (a, ao, s, o, oo, n) => {
    for (let i = 0; i < n; i++) o[oo + i] = Math.max(a[ao + i], s);
  },
  sv: (s, b, bo, o, oo, n) => {
    for (let i = 0; i < n; i++) o[oo + i] = Math.max(s, b[bo + i]);
  },
};

const MIN: BinaryLoops = {
  vv: (a, ao, b, bo, o, oo, n) => {
    for (let i = 0; i < n; i++) o[oo + i] = Math.min(a[ao + i], b[bo + i]);
  },
  vs: (a, ao, s, o, oo, n) => {
    for (let i = 0; i < n; i++) o[oo + i] = Math.min(a[ao + i], s);
  },
  sv: (s, b, bo, o, oo, n) => {
    for (let i = 0; i < n; i++) o[oo + i] = Math.min(s, b[bo + i]);
  },
};

const SQDIFF: BinaryLoops = {
  vv: (a, ao, b, bo, o, oo, n) => {
    for (let i = 0; i < n; i++) {
      const d = a[ao + i] - b[bo + i];
      o[oo + i] = d * d;
    }
  },
  vs: (a, ao, s, o, oo, n) => {
    for (let i = 0; i < n; i++) {
      const d = a[ao + i] - s;
      o[oo + i] = d * d;
    }
  },
  sv: (s, b, bo, o, oo, n) => {
    for (let i = 0; i < n; i++) {
      const d = s - b[bo + i];
      o[oo + i] = d * d;
    }
  },
};

/** A comparison's loops; `+(x op y)` compiles without a branch. */
function cmp(op: string): BinaryLoops<Uint8Array> {
  switch (op) {
    case "==":
      return {
        vv: (a, ao, b, bo, o, oo, n) => {
          for (let i = 0; i < n; i++) o[oo + i] = +(a[ao + i] === b[bo + i]);
        },
        vs: (a, ao, s, o, oo, n) => {
          for (let i = 0; i < n; i++) o[oo + i] = +(a[ao + i] === s);
        },
        sv: (s, b, bo, o, oo, n) => {
          for (let i = 0; i < n; i++) o[oo + i] = +(s === b[bo + i]);
        },
      };
    case "!=":
      return {
        vv: (a, ao, b, bo, o, oo, n) => {
          for (let i = 0; i < n; i++) o[oo + i] = +(a[ao + i] !== b[bo + i]);
        },
        vs: (a, ao, s, o, oo, n) => {
          for (let i = 0; i < n; i++) o[oo + i] = +(a[ao + i] !== s);
        },
        sv: (s, b, bo, o, oo, n) => {
          for (let i = 0; i < n; i++) o[oo + i] = +(s !== b[bo + i]);
        },
      };
    case ">":
      return {
        vv: (a, ao, b, bo, o, oo, n) => {
          for (let i = 0; i < n; i++) o[oo + i] = +(a[ao + i] > b[bo + i]);
        },
        vs: (a, ao, s, o, oo, n) => {
          for (let i = 0; i < n; i++) o[oo + i] = +(a[ao + i] > s);
        },
        sv: (s, b, bo, o, oo, n) => {
          for (let i = 0; i < n; i++) o[oo + i] = +(s > b[bo + i]);
        },
      };
    case ">=":
      return {
        vv: (a, ao, b, bo, o, oo, n) => {
          for (let i = 0; i < n; i++) o[oo + i] = +(a[ao + i] >= b[bo + i]);
        },
        vs: (a, ao, s, o, oo, n) => {
          for (let i = 0; i < n; i++) o[oo + i] = +(a[ao + i] >= s);
        },
        sv: (s, b, bo, o, oo, n) => {
          for (let i = 0; i < n; i++) o[oo + i] = +(s >= b[bo + i]);
        },
      };
    case "<":
      return {
        vv: (a, ao, b, bo, o, oo, n) => {
          for (let i = 0; i < n; i++) o[oo + i] = +(a[ao + i] < b[bo + i]);
        },
        vs: (a, ao, s, o, oo, n) => {
          for (let i = 0; i < n; i++) o[oo + i] = +(a[ao + i] < s);
        },
        sv: (s, b, bo, o, oo, n) => {
          for (let i = 0; i < n; i++) o[oo + i] = +(s < b[bo + i]);
        },
      };
    default: // "<="
      return {
        vv: (a, ao, b, bo, o, oo, n) => {
          for (let i = 0; i < n; i++) o[oo + i] = +(a[ao + i] <= b[bo + i]);
        },
        vs: (a, ao, s, o, oo, n) => {
          for (let i = 0; i < n; i++) o[oo + i] = +(a[ao + i] <= s);
        },
        sv: (s, b, bo, o, oo, n) => {
          for (let i = 0; i < n; i++) o[oo + i] = +(s <= b[bo + i]);
        },
      };
  }
}

/** Comparison kernels by tfjs kernel name (float32 inputs, bool output). */
const COMPARE_LOOPS: Readonly<Record<string, BinaryLoops<Uint8Array>>> = {
  [tf.Equal]: cmp("=="),
  [tf.NotEqual]: cmp("!="),
  [tf.Greater]: cmp(">"),
  [tf.GreaterEqual]: cmp(">="),
  [tf.Less]: cmp("<"),
  [tf.LessEqual]: cmp("<="),
};

/** Binary kernels by tfjs kernel name. */
export const BINARY_LOOPS: Readonly<Record<string, BinaryLoops<Float32Array>>> = {
  [tf.Add]: ADD,
  [tf.Sub]: SUB,
  [tf.Multiply]: MUL,
  [tf.RealDiv]: DIV,
  [tf.Maximum]: MAX,
  [tf.Minimum]: MIN,
  [tf.SquaredDifference]: SQDIFF,
};

/** `small` (leading 1s dropped) equals the trailing dims of `full`: it repeats every small.size. */
function isRowOf(small: readonly number[], full: readonly number[]): boolean {
  let s = 0;
  while (s < small.length && small[s] === 1) s++;
  const k = small.length - s;
  if (k > full.length) return false;
  for (let i = 0; i < k; i++) if (small[s + i] !== full[full.length - k + i]) return false;
  return true;
}

/** `small` (left-padded with 1s to full's rank) is full's leading dims then 1s. */
function isColumnOf(small: readonly number[], full: readonly number[]): boolean {
  const pad = full.length - small.length;
  if (pad < 0) return false;
  let i = full.length - 1;
  // trailing 1s of small (beyond them it must match full exactly, 1s in the padding included)
  while (i >= pad && small[i - pad] === 1) i--;
  for (let j = 0; j <= i; j++) {
    const d = j < pad ? 1 : small[j - pad];
    if (d !== full[j]) return false;
  }
  return true;
}

/**
 * A short row repeated to at least 256 elements (a whole number of copies), so that broadcasting
 * it costs one loop call per 256+ elements rather than one per row (a conv bias has 6 entries).
 */
function tiled(row: Float32Array): Float32Array {
  if (row.length >= 256) return row;
  const copies = Math.ceil(256 / row.length);
  const t = new Float32Array(copies * row.length);
  for (let k = 0; k < copies; k++) t.set(row, k * row.length);
  return t;
}

/**
 * o = a op b with tfjs broadcasting, or null when the layout is not one of the fast ones.
 * `alloc` provides the output (the backend's pool for float32).
 */
export function binaryF32<O extends Out>(
  loops: BinaryLoops<O>,
  a: Float32Array,
  aShape: readonly number[],
  b: Float32Array,
  bShape: readonly number[],
  alloc: (n: number) => O,
): { values: O; shape: number[] } | null {
  const shape = tf.backend_util.assertAndGetBroadcastShape(aShape as number[], bShape as number[]);
  const n = sizeOf(shape);
  const na = a.length, nb = b.length;
  if (n === 0) return { values: alloc(0), shape };
  let o: O;
  if (na === n && nb === n) {
    o = alloc(n);
    loops.vv(a, 0, b, 0, o, 0, n);
  } else if (na === n && nb === 1) {
    o = alloc(n);
    loops.vs(a, 0, b[0], o, 0, n);
  } else if (nb === n && na === 1) {
    o = alloc(n);
    loops.sv(a[0], b, 0, o, 0, n);
  } else if (na === n && isRowOf(bShape, shape)) {
    o = alloc(n);
    const bt = tiled(b), len = bt.length;
    for (let r = 0; r < n; r += len) loops.vv(a, r, bt, 0, o, r, Math.min(len, n - r));
  } else if (nb === n && isRowOf(aShape, shape)) {
    o = alloc(n);
    const at = tiled(a), len = at.length;
    for (let r = 0; r < n; r += len) loops.vv(at, 0, b, r, o, r, Math.min(len, n - r));
  } else if (na === n && isColumnOf(bShape, shape)) {
    o = alloc(n);
    const inner = n / nb;
    for (let r = 0; r < nb; r++) loops.vs(a, r * inner, b[r], o, r * inner, inner);
  } else if (nb === n && isColumnOf(aShape, shape)) {
    o = alloc(n);
    const inner = n / na;
    for (let r = 0; r < na; r++) loops.sv(a[r], b, r * inner, o, r * inner, inner);
  } else if (na * nb === n && isColumnOf(aShape, shape) && isRowOf(bShape, shape)) {
    // outer: a per row, b along it (e.g. |t_i|^2 + |t_j|^2 of a distance matrix)
    o = alloc(n);
    for (let r = 0; r < na; r++) loops.sv(a[r], b, 0, o, r * nb, nb);
  } else if (na * nb === n && isRowOf(aShape, shape) && isColumnOf(bShape, shape)) {
    o = alloc(n);
    for (let r = 0; r < nb; r++) loops.vs(a, 0, b[r], o, r * na, na);
  } else {
    return null;
  }
  return { values: o, shape };
}

function binaryKernel(name: string): tf.KernelConfig {
  const loops = BINARY_LOOPS[name];
  return {
    kernelName: name,
    backendName: "native",
    kernelFunc: withFallback(name, ({ inputs, backend }: NativeArgs) => {
      const { a, b } = inputs;
      const av = f32(backend, a), bv = f32(backend, b);
      if (!av || !bv) return null;
      const r = binaryF32(loops, av, a!.shape, bv, b!.shape, (n) => backend.alloc(n));
      return r && out(backend, r.shape, r.values);
    }),
  };
}

function compareKernel(name: string): tf.KernelConfig {
  const loops = COMPARE_LOOPS[name];
  return {
    kernelName: name,
    backendName: "native",
    kernelFunc: withFallback(name, ({ inputs, backend }: NativeArgs) => {
      const { a, b } = inputs;
      const av = f32(backend, a), bv = f32(backend, b);
      if (!av || !bv) return null;
      const r = binaryF32(loops, av, a!.shape, bv, b!.shape, (n) => new Uint8Array(n));
      return r && backend.makeTensorInfo(r.shape, "bool", r.values);
    }),
  };
}

/**
 * Cast to float32 from int32/bool. The cpu kernel keeps the Int32Array/Uint8Array (no encoding
 * loss) under a float32 dtype, which would send every later float kernel to its slow cpu
 * fallback; a real Float32Array costs one converting memcpy.
 */
const castConfig: tf.KernelConfig = {
  kernelName: tf.Cast,
  backendName: "native",
  kernelFunc: withFallback(tf.Cast, ({ inputs, backend, attrs }: NativeArgs) => {
    const x = inputs.x!;
    if (attrs!.dtype === x.dtype && x.dtype !== "complex64") {
      backend.incRef(x.dataId); // identity, as the cpu kernel does
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    }
    if (attrs!.dtype !== "float32" || (x.dtype !== "int32" && x.dtype !== "bool")) return null;
    const v = backend.data.get(x.dataId).values;
    if (!(v instanceof Int32Array || v instanceof Uint8Array || v instanceof Float32Array)) {
      return null;
    }
    const o = backend.alloc(v.length);
    o.set(v);
    return out(backend, x.shape, o);
  }),
};

type Unary = (x: A, o: A, n: number, attrs: tf.NamedAttrMap | undefined) => void;

/** Unary kernels by tfjs kernel name: the cpu kernels' formulas, in plain loops. */
const UNARY: Readonly<Record<string, Unary>> = {
  // Data-dependent branches (Math.max, ?:) mispredict half the time on activations; these
  // branch-free forms give the same float32 results without a branch.
  [tf.Relu]: (x, o, n) => {
    let inf = 0;
    for (let i = 0; i < n; i++) {
      const v = x[i];
      o[i] = (v + Math.abs(v)) * 0.5; // exact: 2v and 2v * 0.5 are representable
      inf |= +(v - v !== 0); // -Infinity gives NaN above: redo those (and NaN) exactly
    }
    if (inf) { for (let i = 0; i < n; i++) o[i] = Math.max(0, x[i]); }
  },
  [tf.Relu6]: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.min(Math.max(0, x[i]), 6);
  },
  [tf.LeakyRelu]: (x, o, n, attrs) => {
    const alpha = attrs!.alpha as number;
    let inf = 0;
    for (let i = 0; i < n; i++) {
      const v = x[i], a = Math.abs(v);
      o[i] = (v + a) * 0.5 + alpha * ((v - a) * 0.5); // v < 0 ? alpha v : v
      inf |= +(v - v !== 0);
    }
    if (inf) {
      for (let i = 0; i < n; i++) {
        const v = x[i];
        o[i] = v < 0 ? alpha * v : v;
      }
    }
  },
  [tf.Step]: (x, o, n, attrs) => {
    const alpha = attrs!.alpha as number, rest = 1 - alpha;
    let nan = 0;
    for (let i = 0; i < n; i++) {
      const v = x[i];
      o[i] = alpha + rest * +(v > 0); // rounds to exactly 1 or alpha in float32
      nan |= +(v !== v);
    }
    if (nan) { for (let i = 0; i < n; i++) if (x[i] !== x[i]) o[i] = NaN; }
  },
  [tf.Sigmoid]: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = 1 / (1 + Math.exp(-x[i]));
  },
  [tf.Tanh]: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.tanh(x[i]);
  },
  [tf.Exp]: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.exp(x[i]);
  },
  [tf.Log]: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.log(x[i]);
  },
  [tf.Sqrt]: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.sqrt(x[i]);
  },
  [tf.Rsqrt]: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = 1 / Math.sqrt(x[i]);
  },
  [tf.Reciprocal]: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = 1 / x[i];
  },
  [tf.Neg]: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = -x[i];
  },
  [tf.Square]: (x, o, n) => {
    for (let i = 0; i < n; i++) {
      const v = x[i];
      o[i] = v * v;
    }
  },
  [tf.Abs]: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.abs(x[i]);
  },
  [tf.Elu]: (x, o, n) => {
    for (let i = 0; i < n; i++) {
      const v = x[i];
      o[i] = v >= 0 ? v : Math.exp(v) - 1;
    }
  },
};

function unaryKernel(name: string): tf.KernelConfig {
  const loop = UNARY[name];
  return {
    kernelName: name,
    backendName: "native",
    kernelFunc: withFallback(name, ({ inputs, backend, attrs }: NativeArgs) => {
      const x = inputs.x!;
      const xv = f32(backend, x);
      if (!xv) return null;
      const o = backend.alloc(xv.length);
      loop(xv, o, xv.length, attrs);
      return out(backend, x.shape, o);
    }),
  };
}

/** Kernel configs of this module. */
export const elementwiseKernels: tf.KernelConfig[] = [
  ...Object.keys(BINARY_LOOPS).map(binaryKernel),
  ...Object.keys(COMPARE_LOOPS).map(compareKernel),
  castConfig,
  ...Object.keys(UNARY).map(unaryKernel),
];

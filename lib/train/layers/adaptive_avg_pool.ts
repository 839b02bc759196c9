/**
 * Adaptive average pooling of NHWC maps to a target size with PyTorch's windows
 * (rows floor(i*H/oh) .. ceil((i+1)*H/oh)), and the rule the auxiliary heads use to pick that
 * size: halve the map until the flattened size is at most 2048.
 */
import { tf } from "../tf.ts";
import type { Layer } from "./layer.ts";

/** Largest flattened size fed to a linear or MLP head. */
export const HEAD_MAX_FEATURES = 2048;

/** Spatial size after halving (rounding up) until h*w*c <= limit or the map is 1x1. */
export function headPoolTarget(h: number, w: number, c: number, limit = HEAD_MAX_FEATURES) {
  let oh = h, ow = w;
  while (oh * ow * c > limit && (oh > 1 || ow > 1)) {
    oh = Math.ceil(oh / 2);
    ow = Math.ceil(ow / 2);
  }
  return { oh, ow };
}

/** The n x out averaging matrix of adaptive pooling along one axis, as [out, n] rows. */
function poolMatrix(n: number, out: number): Float32Array {
  const m = new Float32Array(out * n);
  for (let i = 0; i < out; i++) {
    const s = Math.floor((i * n) / out), e = Math.ceil(((i + 1) * n) / out);
    for (let j = s; j < e; j++) m[i * n + j] = 1 / (e - s);
  }
  return m;
}

/** Adaptive average pooling to [oh, ow]. */
export class AdaptiveAvgPool implements Layer {
  readonly outShape: number[];
  readonly params: tf.Variable[] = [];
  readonly state: tf.Variable[] = [];
  readonly #h: number;
  readonly #w: number;
  readonly #ph: Float32Array;
  readonly #pw: Float32Array;

  constructor(inShape: number[], readonly oh: number, readonly ow: number) {
    const [h, w, c] = inShape;
    this.#h = h;
    this.#w = w;
    this.outShape = [oh, ow, c];
    // Transposed ([n, out]) so that the products need no transposed operand.
    this.#ph = transpose(poolMatrix(h, oh), oh, h);
    this.#pw = transpose(poolMatrix(w, ow), ow, w);
  }

  apply(x: tf.Tensor): tf.Tensor {
    const [h, w, oh, ow] = [this.#h, this.#w, this.oh, this.ow];
    if (h === oh && w === ow) return x;
    if (h % oh === 0 && w % ow === 0 && h / oh === w / ow) {
      return tf.avgPool(x as tf.Tensor4D, h / oh, h / oh, "valid");
    }
    const [n, , , c] = x.shape;
    const ph = tf.tensor2d(this.#ph, [h, oh]), pw = tf.tensor2d(this.#pw, [w, ow]);
    // Pool rows: [n, w, c, h] @ [h, oh]; then columns: [n, oh, c, w] @ [w, ow].
    let t = tf.reshape(tf.transpose(x, [0, 2, 3, 1]), [n * w * c, h]);
    t = tf.reshape(tf.matMul(t as tf.Tensor2D, ph), [n, w, c, oh]);
    t = tf.reshape(tf.transpose(t, [0, 3, 2, 1]), [n * oh * c, w]);
    t = tf.reshape(tf.matMul(t as tf.Tensor2D, pw), [n, oh, c, ow]);
    return tf.transpose(t, [0, 1, 3, 2]);
  }
}

function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}

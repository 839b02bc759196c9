/**
 * Gradient of a max pool with "valid" padding, assembled from element-wise ops for
 * tfjs-backend-wasm, whose MaxPoolGrad kernel drops entries when the stride equals the window
 * (4.22.0: 3 of 4 on a 1x4x4x1 input, 44 of 54 on 2x6x6x3). lib/train/autodiff uses it on wasm
 * only; the other backends run tfjs' stock rule on their MaxPoolGrad kernels.
 *
 * - Non-overlapping windows (stride = size, the usual case): the mask of window maxima is
 *   x == upsample(y); the gradient of a window is shared equally among tied maxima (a valid
 *   subgradient; ties are rare except between zeros after a ReLU, whose gradient is 0 anyway).
 * - Other strides: each window tap is a strided view of the input and the gradient goes to the
 *   first tap holding the maximum, as in PyTorch (slower: rank-6 slices and pads).
 */
import * as tf from "@tensorflow/tfjs-core";

/** Window geometry of a valid max pool with square `size` and `stride`. */
function geometry(h: number, w: number, size: number, stride: number) {
  const ho = Math.floor((h - size) / stride) + 1, wo = Math.floor((w - size) / stride) + 1;
  const extra = Math.floor((size - 1) / stride);
  // View each spatial axis as [q, r] with index = q * stride + r.
  return { ho, wo, hq: ho + extra, wq: wo + extra };
}

/** Fits a [n, h, w, c] tensor to [n, hq*s, wq*s, c] by cropping or zero-padding at the end. */
function fit(x: tf.Tensor4D, hp: number, wp: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  let t = x;
  if (h > hp || w > wp) t = tf.slice(t, [0, 0, 0, 0], [n, Math.min(h, hp), Math.min(w, wp), c]);
  const [, h2, w2] = t.shape;
  if (h2 < hp || w2 < wp) t = tf.pad(t, [[0, 0], [0, hp - h2], [0, wp - w2], [0, 0]]);
  return t;
}

/** dL/dx of y = maxPool(x, size, stride, "valid") given y and dL/dy (NHWC). */
export function maxPoolGrad(
  x: tf.Tensor4D,
  y: tf.Tensor4D,
  dy: tf.Tensor4D,
  size: number,
  stride: number,
): tf.Tensor4D {
  if (stride === size) return disjointGrad(x, y, dy, size);
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const s = stride;
    const { ho, wo, hq, wq } = geometry(h, w, size, s);
    const xv = tf.reshape(fit(x, hq * s, wq * s), [n, hq, s, wq, s, c]);
    let taken: tf.Tensor = tf.zerosLike(y);
    let acc: tf.Tensor | null = null;
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        const qi = Math.floor(i / s), ri = i % s, qj = Math.floor(j / s), rj = j % s;
        const tap = tf.reshape(tf.slice(xv, [0, qi, ri, qj, rj, 0], [n, ho, 1, wo, 1, c]), y.shape);
        const hit = tf.mul(tf.cast(tf.equal(tap, y), "float32"), tf.sub(1, taken));
        taken = tf.add(taken, hit);
        const part = tf.pad(tf.reshape(tf.mul(dy, hit), [n, ho, 1, wo, 1, c]), [
          [0, 0],
          [qi, hq - ho - qi],
          [ri, s - 1 - ri],
          [qj, wq - wo - qj],
          [rj, s - 1 - rj],
          [0, 0],
        ]);
        acc = acc === null ? part : tf.add(acc, part);
      }
    }
    const full = tf.reshape(acc!, [n, hq * s, wq * s, c]) as tf.Tensor4D;
    return fit(full, h, w);
  });
}

/** Nearest-neighbour upsampling of [n, ho, wo, c] by an integer factor. */
function upsample(t: tf.Tensor4D, k: number): tf.Tensor4D {
  return tf.image.resizeNearestNeighbor(t, [t.shape[1] * k, t.shape[2] * k]);
}

/** Gradient of a max pool whose windows tile the (cropped) input. */
function disjointGrad(x: tf.Tensor4D, y: tf.Tensor4D, dy: tf.Tensor4D, k: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const [, ho, wo] = y.shape;
    const xc = ho * k === h && wo * k === w ? x : tf.slice(x, [0, 0, 0, 0], [n, ho * k, wo * k, c]);
    const mask = tf.cast(tf.equal(xc, upsample(y, k)), "float32");
    const ties = tf.mul(tf.avgPool(mask as tf.Tensor4D, k, k, "valid"), k * k);
    const dx = tf.mul(mask, upsample(tf.div(dy, ties) as tf.Tensor4D, k)) as tf.Tensor4D;
    return xc === x ? dx : tf.pad(dx, [[0, 0], [0, h - ho * k], [0, w - wo * k], [0, 0]]);
  });
}

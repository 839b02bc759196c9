/**
 * Gradients of a 2-D convolution (NHWC, dilation 1) written as forward convolutions, which
 * tfjs-backend-wasm runs through XNNPACK: its Conv2DBackpropInput kernel is a plain loop and it
 * has no Conv2DBackpropFilter at all (lib/train/autodiff uses these on wasm only; the other
 * backends run tfjs' stock rule on their own kernels).
 *
 * - input:  dx = valid correlation of the zero-dilated, padded dy with the flipped, transposed
 *           filter;
 * - filter: dW = valid correlation of x^T (batch and channels swapped) with dy^T, dilated by the
 *           stride ("batch as channels").
 */
import * as tf from "@tensorflow/tfjs-core";

/** Convolution settings as the Conv2D kernel receives them. */
export interface ConvAttrs {
  strides: number | [number, number];
  pad: "same" | "valid" | number;
  dimRoundingMode?: "floor" | "round" | "ceil";
}

type Shape4 = [number, number, number, number];

function info(xShape: Shape4, filterShape: Shape4, attrs: ConvAttrs) {
  return tf.backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

/** 0/1 matrix [n, len] placing row y at top + y * s (zero-dilation and padding along an axis). */
function placement(n: number, len: number, top: number, s: number): tf.Tensor2D {
  const m = new Float32Array(n * len);
  for (let y = 0; y < n; y++) {
    const r = top + y * s;
    if (r >= 0 && r < len) m[y * len + r] = 1;
  }
  return tf.tensor2d(m, [n, len]);
}

/**
 * Zero-dilates dy by `s` along both spatial axes and pads it to [lh, lw] with `top`/`left`
 * leading zeros. A plain pad when s is 1; otherwise two small matrix products.
 */
function dilateAndPad(
  dy: tf.Tensor4D,
  s: [number, number],
  top: number,
  left: number,
  lh: number,
  lw: number,
): tf.Tensor4D {
  const [n, ho, wo, c] = dy.shape;
  if (s[0] === 1 && s[1] === 1) {
    return tf.pad(dy, [[0, 0], [top, lh - top - ho], [left, lw - left - wo], [0, 0]]);
  }
  let t = tf.reshape(tf.transpose(dy, [0, 2, 3, 1]), [n * wo * c, ho]);
  t = tf.reshape(tf.matMul(t as tf.Tensor2D, placement(ho, lh, top, s[0])), [n, wo, c, lh]);
  t = tf.reshape(tf.transpose(t, [0, 3, 2, 1]), [n * lh * c, wo]);
  t = tf.reshape(tf.matMul(t as tf.Tensor2D, placement(wo, lw, left, s[1])), [n, lh, c, lw]);
  return tf.transpose(t, [0, 1, 3, 2]) as tf.Tensor4D;
}

/** dL/dx of y = conv2d(x, filter) given dL/dy. */
export function conv2dGradInput(
  xShape: Shape4,
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  attrs: ConvAttrs,
): tf.Tensor4D {
  return tf.tidy(() => {
    const ci = info(xShape, filter.shape as Shape4, attrs);
    const [kh, kw] = [ci.filterHeight, ci.filterWidth];
    const s: [number, number] = [ci.strideHeight, ci.strideWidth];
    const { top, left } = ci.padInfo;
    // dx[r] = sum_i dyd[r + top - i] W[i]: a valid correlation with the flipped filter over dyd
    // padded by k-1-top in front, long enough to give exactly H outputs.
    const lh = ci.inHeight + kh - 1, lw = ci.inWidth + kw - 1;
    const padded = dilateAndPad(dy, s, kh - 1 - top, kw - 1 - left, lh, lw);
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return tf.conv2d(padded, flipped, 1, "valid");
  });
}

/** dL/dfilter of y = conv2d(x, filter) given dL/dy. */
export function conv2dGradFilter(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: Shape4,
  attrs: ConvAttrs,
): tf.Tensor4D {
  return tf.tidy(() => {
    const ci = info(x.shape, filterShape, attrs);
    const [kh, kw] = [ci.filterHeight, ci.filterWidth];
    const [sh, sw] = [ci.strideHeight, ci.strideWidth];
    const { top, left } = ci.padInfo;
    const [, h, w] = x.shape;
    // Rows the windows read: top padding, then x, cut or zero-extended to (ho-1)*s + k.
    const lh = (ci.outHeight - 1) * sh + kh, lw = (ci.outWidth - 1) * sw + kw;
    let xp: tf.Tensor4D = x;
    if (top + h > lh || left + w > lw) {
      xp = tf.slice(xp, [0, 0, 0, 0], [-1, Math.min(h, lh - top), Math.min(w, lw - left), -1]);
    }
    const [, h2, w2] = xp.shape;
    if (top > 0 || left > 0 || top + h2 < lh || left + w2 < lw) {
      xp = tf.pad(xp, [[0, 0], [top, lh - top - h2], [left, lw - left - w2], [0, 0]]);
    }
    const input = tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D; // [ci, lh, lw, n]
    const kernel = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [ho, wo, n, co]
    const out = tf.conv2d(input, kernel, 1, "valid", "NHWC", [sh, sw]); // [ci, kh, kw, co]
    return tf.transpose(out, [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

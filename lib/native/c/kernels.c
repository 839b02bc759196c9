/*
 * infoplane's native kernels: the data movement and element-wise loops of a convolutional
 * training step that JS runs slowly (branch mispredictions on activations, thousands of small
 * FFI calls into OpenBLAS's copy routines; figures in docs/performance.md). The matrix products stay in
 * OpenBLAS; these loops feed them. Built by scripts/build_kernels.ts, loaded through Deno FFI
 * by lib/native/ckernels.ts; every function has a TypeScript twin that runs when the library is
 * absent, and tests/native_ckernels_test.ts checks both give the same numbers.
 *
 * Layouts are those of the tfjs kernels: NHWC activations, row-major matrices. Semantics match
 * the tfjs cpu kernels (first maximum of a pooling window, NaN never wins; float64
 * accumulation for sums). No -ffast-math: NaN and signed zeros must behave like JS.
 */

#include <dlfcn.h>
#include <stdint.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
/* One binary for every x86-64: the loader picks the widest vector unit at load time. */
#define HOT __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define HOT
#endif

/* Version of this ABI: lib/native/ckernels.ts refuses a library built from another one. */
int32_t ip_abi_version(void) { return 3; }

/* ---- convolution, "rows" layout (see lib/native/kernels/conv.ts) ---- */

/* xp[b, c, iy + top, ix + left] = x[b, iy, ix, c]; zero elsewhere in the n ci hp wp planes. */
HOT static void ip_pad_nchw(const float *x, int32_t n, int32_t h, int32_t w, int32_t ci, int32_t top,
                     int32_t left, int32_t hp, int32_t wp, float *xp) {
  const int64_t plane = (int64_t)hp * wp;
  memset(xp, 0, sizeof(float) * (size_t)(plane * n * ci));
  for (int64_t b = 0; b < n; b++) {
    const float *xb = x + b * h * w * ci;
    float *pb = xp + b * ci * plane + (int64_t)top * wp + left;
    if (ci == 1) {
      for (int32_t iy = 0; iy < h; iy++) memcpy(pb + (int64_t)iy * wp, xb + (int64_t)iy * w, sizeof(float) * w);
      continue;
    }
    for (int32_t iy = 0; iy < h; iy++) {
      for (int32_t ix = 0; ix < w; ix++) {
        const float *src = xb + ((int64_t)iy * w + ix) * ci;
        float *dst = pb + (int64_t)iy * wp + ix;
        for (int32_t c = 0; c < ci; c++) dst[c * plane] = src[c];
      }
    }
  }
}

/* Adjoint of ip_pad_nchw without the padding: x[b, iy, ix, c] = xp[b, c, iy + top, ix + left]. */
HOT static void ip_unpad_nhwc(const float *xp, int32_t n, int32_t h, int32_t w, int32_t ci, int32_t top,
                       int32_t left, int32_t hp, int32_t wp, float *x) {
  const int64_t plane = (int64_t)hp * wp;
  for (int64_t b = 0; b < n; b++) {
    float *xb = x + b * h * w * ci;
    const float *pb = xp + b * ci * plane + (int64_t)top * wp + left;
    if (ci == 1) {
      for (int32_t iy = 0; iy < h; iy++) memcpy(xb + (int64_t)iy * w, pb + (int64_t)iy * wp, sizeof(float) * w);
      continue;
    }
    for (int32_t iy = 0; iy < h; iy++) {
      for (int32_t ix = 0; ix < w; ix++) {
        float *dst = xb + ((int64_t)iy * w + ix) * ci;
        const float *src = pb + (int64_t)iy * wp + ix;
        for (int32_t c = 0; c < ci; c++) dst[c] = src[c * plane];
      }
    }
  }
}

/*
 * Patch matrix colT [fh fw ci, nb l] of images b0 .. b0 + nb - 1 of the padded copy xp: row
 * (ky fw + kx) ci + c, column bb l + j holds xp[(b0 + bb) ci + c plane + ky wp + kx + j].
 */
HOT static void ip_rows_pack(const float *xp, int32_t ci, int32_t fh, int32_t fw, int32_t hp, int32_t wp,
                      int32_t l, int32_t b0, int32_t nb, float *colT) {
  const int64_t plane = (int64_t)hp * wp, cols = (int64_t)nb * l;
  for (int32_t ky = 0; ky < fh; ky++) {
    for (int32_t kx = 0; kx < fw; kx++) {
      for (int32_t c = 0; c < ci; c++) {
        float *row = colT + ((int64_t)(ky * fw + kx) * ci + c) * cols;
        const float *src = xp + ((int64_t)b0 * ci + c) * plane + (int64_t)ky * wp + kx;
        for (int32_t bb = 0; bb < nb; bb++) memcpy(row + (int64_t)bb * l, src + bb * ci * plane, sizeof(float) * l);
      }
    }
  }
}

/*
 * NHWC output of images b0.. from yT [co, nb l] (the product W^T colT): y[b, oy, ox, c] =
 * act(yT[c, bb l + oy wp + ox] + bias[c]) for ox < ow (the wp - ow extra columns are dropped).
 * bias may be null (has_bias 0); relu != 0 then maps v to v > 0 ? v : 0, NaN kept (as the JS
 * epilogue of lib/native/kernels/util.ts: +0 for -0 and -inf too).
 */
HOT static void ip_rows_gather(const float *yT, int32_t co, int32_t nb, int32_t oh, int32_t ow,
                        int32_t wp, const float *bias, int32_t has_bias, int32_t relu, float *y) {
  const int64_t l = (int64_t)oh * wp, cols = (int64_t)nb * l;
  for (int64_t bb = 0; bb < nb; bb++) {
    for (int32_t oy = 0; oy < oh; oy++) {
      float *yr = y + ((bb * oh + oy) * (int64_t)ow) * co;
      const float *src = yT + bb * l + (int64_t)oy * wp;
      for (int32_t ox = 0; ox < ow; ox++) {
        for (int32_t c = 0; c < co; c++) {
          float v = src[c * cols + ox];
          if (has_bias) v += bias[c];
          if (relu) v = v > 0.0f ? v : (v != v ? v : 0.0f);
          yr[(int64_t)ox * co + c] = v;
        }
      }
    }
  }
}

/* dyp [nb l, co] from dy rows of images b0..: dyp[bb l + oy wp + ox, c] = dy[b, oy, ox, c], zero
 * in the wp - ow extra columns. dy points at image b0. */
HOT static void ip_rows_spread(const float *dy, int32_t co, int32_t nb, int32_t oh, int32_t ow,
                        int32_t wp, float *dyp) {
  const int64_t run = (int64_t)ow * co, pitch = (int64_t)wp * co;
  for (int64_t r = 0; r < (int64_t)nb * oh; r++) {
    memcpy(dyp + r * pitch, dy + r * run, sizeof(float) * run);
    memset(dyp + r * pitch + run, 0, sizeof(float) * (pitch - run));
  }
}

/* ---- whole convolutions, "rows" layout, a chunk of images per thread ---- */

/*
 * The convolutions below call cblas_sgemm themselves, from several threads at once (OpenMP,
 * one chunk of images per thread, OpenBLAS itself on one thread in each). A training step's
 * products are too small for OpenBLAS's own threading (it splits every 2-MFLOP product and
 * waits for both halves); whole chunks on separate cores need no synchronisation until the end.
 * The library binds the OpenBLAS that lib/linalg already loaded (same path: same instance, core
 * type and settings).
 */
typedef void (*sgemm_t)(int, int, int, int, int, int, float, const float *, int, const float *,
                        int, float, float *, int);
static sgemm_t sgemm_fn = 0;
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

/* Binds cblas_sgemm of the library at path (a NUL-terminated string); 1 on success. */
int32_t ip_bind_blas(const char *path) {
  void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  if (!h) h = dlopen(path, RTLD_NOW);
  if (!h) return 0;
  sgemm_fn = (sgemm_t)dlsym(h, "cblas_sgemm");
  return sgemm_fn != 0;
}

/* The calling team member (0 without OpenMP or outside a parallel region). */
static int thread_id(void) {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

/* Geometry, as lib/native/ckernels.ts packs it into an Int32Array. */
enum { G_N, G_H, G_W, G_CI, G_FH, G_FW, G_TOP, G_LEFT, G_HP, G_WP, G_OH, G_OW, G_CO, G_PER, G_LEN };

/* Adjoint of ip_rows_pack. The columns ox >= ow hold exact zeros (W times the zero columns of
 * dyp); a run that would spill past the chunk's own images skips them, so threads never write
 * the same element. */
static void rows_unpack_add_valid(const float *colT, int32_t ci, int32_t fh, int32_t fw,
                                  int32_t hp, int32_t wp, int32_t oh, int32_t ow, int32_t b0,
                                  int32_t nb, float *dxp) {
  const int64_t plane = (int64_t)hp * wp, l = (int64_t)oh * wp, cols = (int64_t)nb * l;
  const float *end = dxp + (int64_t)(b0 + nb) * ci * plane;
  for (int32_t bb = 0; bb < nb; bb++) {
    for (int32_t c = 0; c < ci; c++) {
      float *dst0 = dxp + ((int64_t)(b0 + bb) * ci + c) * plane;
      for (int32_t ky = 0; ky < fh; ky++) {
        for (int32_t kx = 0; kx < fw; kx++) {
          const float *src = colT + ((int64_t)(ky * fw + kx) * ci + c) * cols + (int64_t)bb * l;
          float *dst = dst0 + (int64_t)ky * wp + kx;
          if (dst + l <= end) {
            for (int64_t j = 0; j < l; j++) dst[j] += src[j];
            continue;
          }
          for (int32_t oy = 0; oy < oh; oy++) {
            for (int32_t ox = 0; ox < ow; ox++) dst[(int64_t)oy * wp + ox] += src[(int64_t)oy * wp + ox];
          }
        }
      }
    }
  }
}

/* How a convolution is cut: patch length k, channels out, images per chunk, chunks, and l, the
 * output positions per image on the padded width. */
typedef struct {
  int32_t k, co, per, chunks;
  int64_t l;
} Plan;

static Plan plan_of(const int32_t *g) {
  Plan p = {g[G_FH] * g[G_FW] * g[G_CI], g[G_CO], g[G_PER], (g[G_N] + g[G_PER] - 1) / g[G_PER],
            (int64_t)g[G_OH] * g[G_WP]};
  return p;
}

/* Chunk c: its images b0 .. b0 + nb - 1, its columns, and the calling thread's part of `work`
 * (threads x (k + co) per l floats, from the caller: no allocation here): the patch matrix colT
 * [k, per l], then room for per l co floats (yT or dyp). */
typedef struct {
  int32_t b0, nb;
  int64_t cols;
  float *colT, *rest;
} Chunk;

static Chunk chunk_at(const Plan *p, const int32_t *g, int32_t c, float *work) {
  Chunk ch;
  ch.b0 = c * p->per;
  ch.nb = g[G_N] - ch.b0 < p->per ? g[G_N] - ch.b0 : p->per;
  ch.cols = ch.nb * p->l;
  ch.colT = work + (int64_t)thread_id() * (p->k + p->co) * p->per * p->l;
  ch.rest = ch.colT + (int64_t)p->k * p->per * p->l;
  return ch;
}

/* The patch matrix of chunk ch into its scratch. */
static void pack_chunk(const float *xp, const int32_t *g, const Plan *p, const Chunk *ch) {
  ip_rows_pack(xp, g[G_CI], g[G_FH], g[G_FW], g[G_HP], g[G_WP], (int32_t)p->l, ch->b0, ch->nb,
               ch->colT);
}

/* Row b0 of an NHWC output-shaped array (dy or y). */
static inline int64_t out_row(const int32_t *g, int32_t b0) {
  return (int64_t)b0 * g[G_OH] * g[G_OW] * g[G_CO];
}

/* The padded copy of x in xp (n ci hp wp floats, then fw zeros the last patch rows read). */
static void pad_all(const float *x, const int32_t *g, float *xp) {
  ip_pad_nchw(x, g[G_N], g[G_H], g[G_W], g[G_CI], g[G_TOP], g[G_LEFT], g[G_HP], g[G_WP], xp);
  memset(xp + (int64_t)g[G_N] * g[G_CI] * g[G_HP] * g[G_WP], 0, sizeof(float) * g[G_FW]);
}

/* y = act(conv2d(x, filter) + bias) (NHWC); xp: scratch of n ci hp wp + fw floats; work: see
 * chunk_at. */
void ip_conv_rows_forward(const float *x, const float *filter, const float *bias,
                          int32_t has_bias, int32_t relu, const int32_t *g, int32_t threads,
                          float *xp, float *work, float *y) {
  const Plan p = plan_of(g);
  (void)threads; /* without OpenMP */
  pad_all(x, g, xp);
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1 && p.chunks > 1)
  for (int32_t c = 0; c < p.chunks; c++) {
    const Chunk ch = chunk_at(&p, g, c, work);
    pack_chunk(xp, g, &p, &ch);
    sgemm_fn(ROW_MAJOR, TRANS, NO_TRANS, p.co, (int)ch.cols, p.k, 1.0f, filter, p.co, ch.colT,
             (int)ch.cols, 0.0f, ch.rest, (int)ch.cols);
    ip_rows_gather(ch.rest, p.co, ch.nb, g[G_OH], g[G_OW], g[G_WP], bias, has_bias, relu,
                   y + out_row(g, ch.b0));
  }
}

/* dW [fh fw ci, co] of the convolution: per-chunk products summed in chunk order, so the result
 * does not depend on the thread count. xp as above; parts: chunks k co floats of scratch. */
void ip_conv_rows_filter(const float *x, const float *dy, const int32_t *g, int32_t threads,
                         float *xp, float *work, float *parts, float *dw) {
  const Plan p = plan_of(g);
  (void)threads;
  pad_all(x, g, xp);
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1 && p.chunks > 1)
  for (int32_t c = 0; c < p.chunks; c++) {
    const Chunk ch = chunk_at(&p, g, c, work);
    pack_chunk(xp, g, &p, &ch);
    ip_rows_spread(dy + out_row(g, ch.b0), p.co, ch.nb, g[G_OH], g[G_OW], g[G_WP], ch.rest);
    sgemm_fn(ROW_MAJOR, NO_TRANS, NO_TRANS, p.k, p.co, (int)ch.cols, 1.0f, ch.colT, (int)ch.cols,
             ch.rest, p.co, 0.0f, parts + (int64_t)c * p.k * p.co, p.co);
  }
  const int64_t kc = (int64_t)p.k * p.co;
  memcpy(dw, parts, sizeof(float) * kc);
  for (int32_t c = 1; c < p.chunks; c++) {
    const float *part = parts + c * kc;
    for (int64_t i = 0; i < kc; i++) dw[i] += part[i];
  }
}

/* dx (NHWC) of the convolution; dxp: scratch of n ci hp wp + fw floats. */
void ip_conv_rows_input(const float *dy, const float *filter, const int32_t *g, int32_t threads,
                        float *dxp, float *work, float *dx) {
  const Plan p = plan_of(g);
  (void)threads;
  memset(dxp, 0, sizeof(float) * ((int64_t)g[G_N] * g[G_CI] * g[G_HP] * g[G_WP] + g[G_FW]));
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1 && p.chunks > 1)
  for (int32_t c = 0; c < p.chunks; c++) {
    const Chunk ch = chunk_at(&p, g, c, work);
    ip_rows_spread(dy + out_row(g, ch.b0), p.co, ch.nb, g[G_OH], g[G_OW], g[G_WP], ch.rest);
    sgemm_fn(ROW_MAJOR, NO_TRANS, TRANS, p.k, (int)ch.cols, p.co, 1.0f, filter, p.co, ch.rest,
             p.co, 0.0f, ch.colT, (int)ch.cols);
    rows_unpack_add_valid(ch.colT, g[G_CI], g[G_FH], g[G_FW], g[G_HP], g[G_WP], g[G_OH], g[G_OW],
                          ch.b0, ch.nb, dxp);
  }
  ip_unpad_nhwc(dxp, g[G_N], g[G_H], g[G_W], g[G_CI], g[G_TOP], g[G_LEFT], g[G_HP], g[G_WP], dx);
}

/* ---- max pooling (NHWC) ---- */

/* Windows of 2x2, stride 2, no padding, tiling the image exactly: the usual case, unrolled. */
static int tiles2x2(int32_t h, int32_t w, int32_t oh, int32_t ow, int32_t fh, int32_t fw,
                    int32_t sh, int32_t sw, int32_t top, int32_t left) {
  return fh == 2 && fw == 2 && sh == 2 && sw == 2 && top == 0 && left == 0 && h == 2 * oh &&
         w == 2 * ow;
}

/* The first maximum of a, e, f, k in that order (NaN never wins; -inf if all are NaN). */
static inline float max4(float a, float e, float f, float k) {
  float m = -__builtin_inff();
  m = a > m ? a : m;
  m = e > m ? e : m;
  m = f > m ? f : m;
  return k > m ? k : m;
}

HOT static void maxpool2x2(const float *x, int32_t n, int32_t oh, int32_t ow, int32_t c, float *y) {
  const int64_t row = 2 * (int64_t)ow * c;
  for (int64_t r = 0; r < (int64_t)n * oh; r++) {
    const float *r0 = x + 2 * r * row, *r1 = r0 + row;
    float *yr = y + r * ow * c;
    for (int64_t ox = 0; ox < ow; ox++) {
      const float *p0 = r0 + 2 * ox * c, *p1 = r1 + 2 * ox * c;
      for (int32_t d = 0; d < c; d++) yr[ox * c + d] = max4(p0[d], p0[c + d], p1[d], p1[c + d]);
    }
  }
}

/* Each dx element written once: dy at the window's first maximum, 0 at the others. */
HOT static void maxpool_grad2x2(const float *x, const float *dy, int32_t n, int32_t oh,
                                int32_t ow, int32_t c, float *dx) {
  const int64_t row = 2 * (int64_t)ow * c;
  for (int64_t r = 0; r < (int64_t)n * oh; r++) {
    const int64_t o0 = 2 * r * row, o1 = o0 + row;
    const float *dyr = dy + r * ow * c;
    for (int64_t ox = 0; ox < ow; ox++) {
      const int64_t i0 = o0 + 2 * ox * c, i2 = o1 + 2 * ox * c;
      for (int32_t d = 0; d < c; d++) {
        const float a = x[i0 + d], e = x[i0 + c + d], f = x[i2 + d], k = x[i2 + c + d];
        const float m = max4(a, e, f, k);
        uint32_t g;
        memcpy(&g, dyr + ox * c + d, 4);
        // masks instead of branches (a hit is data-dependent: branches mispredict); a window
        // of NaN only has no hit, and its dx stays +0
        const uint32_t h0 = -(uint32_t)(a == m), h1 = ~h0 & -(uint32_t)(e == m);
        const uint32_t h2 = ~(h0 | h1) & -(uint32_t)(f == m);
        const uint32_t h3 = ~(h0 | h1 | h2) & -(uint32_t)(k == m);
        const uint32_t v[4] = {g & h0, g & h1, g & h2, g & h3};
        memcpy(dx + i0 + d, v, 4);
        memcpy(dx + i0 + c + d, v + 1, 4);
        memcpy(dx + i2 + d, v + 2, 4);
        memcpy(dx + i2 + c + d, v + 3, 4);
      }
    }
  }
}

/* [lo, hi) of the input rows (or columns) under window o: stride s, padding before pad, size f,
 * clipped to the input's n rows. */
static inline void window_span(int32_t o, int32_t s, int32_t pad, int32_t f, int32_t n,
                               int32_t *lo, int32_t *hi) {
  const int32_t start = o * s - pad;
  *lo = start < 0 ? 0 : start;
  *hi = start + f > n ? n : start + f;
}

/* y = max over each window; the first maximum wins and NaN never does (-inf if none). */
HOT void ip_maxpool(const float *x, int32_t n, int32_t h, int32_t w, int32_t c, int32_t oh,
                    int32_t ow, int32_t fh, int32_t fw, int32_t sh, int32_t sw, int32_t top,
                    int32_t left, float *y) {
  if (tiles2x2(h, w, oh, ow, fh, fw, sh, sw, top, left)) return maxpool2x2(x, n, oh, ow, c, y);
  for (int64_t b = 0; b < n; b++) {
    const float *xb = x + b * h * w * c;
    for (int32_t oy = 0; oy < oh; oy++) {
      int32_t y0, y1, x0, x1;
      window_span(oy, sh, top, fh, h, &y0, &y1);
      for (int32_t ox = 0; ox < ow; ox++) {
        window_span(ox, sw, left, fw, w, &x0, &x1);
        float *yo = y + ((b * oh + oy) * (int64_t)ow + ox) * c;
        for (int32_t d = 0; d < c; d++) yo[d] = -__builtin_inff();
        for (int32_t iy = y0; iy < y1; iy++) {
          for (int32_t ix = x0; ix < x1; ix++) {
            const float *p = xb + ((int64_t)iy * w + ix) * c;
            for (int32_t d = 0; d < c; d++) yo[d] = p[d] > yo[d] ? p[d] : yo[d];
          }
        }
      }
    }
  }
}

/* dx of ip_maxpool: each window's dy goes to its first maximum (none if the window has none). */
HOT void ip_maxpool_grad(const float *x, const float *dy, int32_t n, int32_t h, int32_t w,
                         int32_t c, int32_t oh, int32_t ow, int32_t fh, int32_t fw, int32_t sh,
                         int32_t sw, int32_t top, int32_t left, float *dx) {
  if (tiles2x2(h, w, oh, ow, fh, fw, sh, sw, top, left)) {
    return maxpool_grad2x2(x, dy, n, oh, ow, c, dx);
  }
  memset(dx, 0, sizeof(float) * (size_t)((int64_t)n * h * w * c));
  for (int64_t b = 0; b < n; b++) {
    const int64_t xb = b * h * w * c;
    for (int32_t oy = 0; oy < oh; oy++) {
      int32_t y0, y1, x0, x1;
      window_span(oy, sh, top, fh, h, &y0, &y1);
      for (int32_t ox = 0; ox < ow; ox++) {
        window_span(ox, sw, left, fw, w, &x0, &x1);
        const float *dyo = dy + ((b * oh + oy) * (int64_t)ow + ox) * c;
        for (int32_t d = 0; d < c; d++) {
          float best = -__builtin_inff();
          int64_t at = -1;
          for (int32_t iy = y0; iy < y1; iy++) {
            for (int32_t ix = x0; ix < x1; ix++) {
              const int64_t p = xb + ((int64_t)iy * w + ix) * c + d;
              const int take = x[p] > best;
              best = take ? x[p] : best;
              at = take ? p : at;
            }
          }
          if (at >= 0) dx[at] += dyo[d];
        }
      }
    }
  }
}

/* ---- element-wise and reductions ---- */

/* dx = dy * step(x): step is 1 for x > 0, 0 otherwise, NaN for NaN (as tf.mul(dy, tf.step(x))). */
HOT void ip_relu_grad(const float *dy, const float *x, int32_t n, float *dx) {
  for (int32_t i = 0; i < n; i++) {
    const float v = x[i];
    const float s = v > 0.0f ? 1.0f : 0.0f;
    dx[i] = dy[i] * (v != v ? v : s);
  }
}

/*
 * y[o, j] = sum over r of x[o, r, j] for x viewed as [outer, reduced, inner], in float64.
 * Narrow rows (a conv bias gradient, inner = 6) are summed g at a time as one wide row, then the
 * g partial sums are folded: the order differs from a row-by-row sum only inside float64.
 */
HOT void ip_sum_middle(const float *x, int32_t outer, int32_t reduced, int32_t inner, float *y) {
  enum { W = 256 };
  double acc[W];
  const int32_t g = inner < 64 && reduced >= 4 ? (W / inner < reduced ? W / inner : reduced) : 1;
  for (int64_t o = 0; o < outer; o++) {
    const float *xo = x + o * reduced * inner;
    if (g > 1) {
      const int32_t width = g * inner, groups = reduced / g;
      for (int32_t j = 0; j < width; j++) acc[j] = 0.0;
      for (int32_t r = 0; r < groups; r++) {
        const float *row = xo + (int64_t)r * width;
        for (int32_t j = 0; j < width; j++) acc[j] += (double)row[j];
      }
      for (int32_t r = groups * g; r < reduced; r++) {
        const float *row = xo + (int64_t)r * inner;
        for (int32_t j = 0; j < inner; j++) acc[j] += (double)row[j];
      }
      for (int32_t k = 1; k < g; k++) {
        for (int32_t j = 0; j < inner; j++) acc[j] += acc[k * inner + j];
      }
      for (int32_t j = 0; j < inner; j++) y[o * inner + j] = (float)acc[j];
      continue;
    }
    for (int32_t j0 = 0; j0 < inner; j0 += W) {
      const int32_t m = inner - j0 < W ? inner - j0 : W;
      for (int32_t j = 0; j < m; j++) acc[j] = 0.0;
      for (int32_t r = 0; r < reduced; r++) {
        const float *row = xo + (int64_t)r * inner + j0;
        for (int32_t j = 0; j < m; j++) acc[j] += (double)row[j];
      }
      for (int32_t j = 0; j < m; j++) y[o * inner + j0 + j] = (float)acc[j];
    }
  }
}

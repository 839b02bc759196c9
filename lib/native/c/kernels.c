/*
 * infoplane's native kernels: what a training step needs faster than JS (or im2col + OpenBLAS)
 * gives it: direct stride-1 convolutions and their gradients, conv + ReLU + 2x2 pooling fused, an
 * AVX-512 GEMM, max pooling, the ReLU gradient and bias sums, on a small pool of helper threads.
 * Built by scripts/build_kernels.ts, loaded through Deno FFI by lib/native/ckernels.ts; every
 * function has a TypeScript twin (the convolutions' and products' twins are im2col + OpenBLAS)
 * that runs when the library is absent, and tests/native_ckernels_test.ts checks both give the
 * same numbers (bits, or float32 rounding for the convolutions and products).
 *
 * Layouts are those of the tfjs kernels: NHWC activations, row-major matrices. Semantics match
 * the tfjs cpu kernels (first maximum of a pooling window, NaN never wins; float64
 * accumulation for sums). No -ffast-math: NaN and signed zeros must behave like JS.
 */

#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
/* One binary for every x86-64: the loader picks the widest vector unit at load time. */
#define HOT __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define HOT
#endif

/* Version of this ABI: lib/native/ckernels.ts refuses a library built from another one. */
int32_t ip_abi_version(void) { return 4; }

/* ---- a pool of helper threads (caller runs too; no barrier) ---- */

/*
 * run_parallel(fn, ctx, chunks, threads) calls fn(ctx, c, worker) for every chunk c, on the
 * calling thread (worker 0) and up to threads - 1 helper threads (workers 1..). Chunks are
 * claimed one at a time from a shared counter and the call returns when every chunk is done:
 * a helper that is not running (a busy machine, a sleeping thread) simply claims nothing, and
 * the caller does the work itself. OpenMP's parallel-for instead waits at a barrier for every
 * team member, which on a loaded machine (other processes on the cores) made a 5 ms
 * convolution take 15-20 ms. What is computed never depends on which worker ran a chunk.
 *
 * One job at a time (Workers of one process share the library): a caller that finds the pool
 * busy runs its chunks alone. Helpers are started on first use and never stop; they spin for
 * ~20 us after a job (the next kernel of a training step is often that close), then sleep on a
 * futex. They allocate nothing and touch no memory but the job's.
 */
typedef void (*task_fn)(const void *ctx, int32_t chunk, int32_t worker);

enum { MAX_WORKERS = 16 };

#if defined(__linux__) && defined(__GNUC__)
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#define IP_POOL 1

static struct {
  pthread_mutex_t busy, start;
  int32_t helpers;
  _Atomic uint32_t gen;    /* futex word: a new job was published */
  _Atomic uint64_t ticket; /* gen << 32 | next chunk to claim */
  _Atomic int32_t done;    /* chunks finished in the current job */
  _Atomic int32_t sleeping;
  task_fn fn;
  const void *ctx;
  int32_t chunks, width;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/* Claims and runs chunks of job `g` until none is left (or a newer job replaced it). */
static void claim_chunks(uint32_t g, int32_t worker) {
  for (;;) {
    uint64_t t = atomic_load(&pool.ticket);
    if ((uint32_t)(t >> 32) != g) return;
    /* chunks and width belong to job g whenever the compare-exchange below succeeds */
    if ((int32_t)(uint32_t)t >= pool.chunks || worker >= pool.width) return;
    if (!atomic_compare_exchange_weak(&pool.ticket, &t, t + 1)) continue;
    pool.fn(pool.ctx, (int32_t)(uint32_t)t, worker);
    atomic_fetch_add(&pool.done, 1);
  }
}

static void *helper_main(void *arg) {
  const int32_t worker = (int32_t)(intptr_t)arg;
  uint32_t seen = atomic_load(&pool.gen);
  for (;;) {
    uint32_t g;
    const double t0 = now_us();
    int spins = 0;
    while ((g = atomic_load(&pool.gen)) == seen) {
      cpu_relax();
      if (++spins < 256) continue;
      spins = 0;
      if (now_us() - t0 < 20) continue;
      atomic_fetch_add(&pool.sleeping, 1);
      if (atomic_load(&pool.gen) == seen) {
        syscall(SYS_futex, &pool.gen, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
      }
      atomic_fetch_sub(&pool.sleeping, 1);
    }
    seen = g;
    claim_chunks(g, worker);
  }
  return NULL;
}

/* Starts helpers up to n (at most MAX_WORKERS - 1); returns how many run. */
static int32_t start_helpers(int32_t n) {
  if (n > MAX_WORKERS - 1) n = MAX_WORKERS - 1;
  if (pool.helpers >= n) return pool.helpers;
  pthread_mutex_lock(&pool.start);
  while (pool.helpers < n) {
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&a, 256 * 1024);
    const int ok = pthread_create(&t, &a, helper_main, (void *)(intptr_t)(pool.helpers + 1)) == 0;
    pthread_attr_destroy(&a);
    if (!ok) break;
    pool.helpers++;
  }
  pthread_mutex_unlock(&pool.start);
  return pool.helpers;
}

/*
 * On a machine busier than its cores, a helper can be descheduled in the middle of a chunk and
 * the caller then waits for it (up to a scheduler time slice, milliseconds). Each job records
 * whether the caller waited long for the helpers after running out of chunks to claim; three
 * such jobs among the last eight make the next 256 jobs run on the calling thread alone, after
 * which helpers are tried again. Only the speed changes: results never depend on it.
 */
static int32_t solo_left = 0;
static uint32_t straggles = 0;

static void run_parallel(task_fn fn, const void *ctx, int32_t chunks, int32_t threads) {
  if (threads > chunks) threads = chunks;
  if (threads > 1 && solo_left > 0) {
    solo_left--;
    threads = 1;
  }
  if (threads <= 1 || pthread_mutex_trylock(&pool.busy) != 0) {
    for (int32_t c = 0; c < chunks; c++) fn(ctx, c, 0);
    return;
  }
  if (start_helpers(threads - 1) < 1) {
    pthread_mutex_unlock(&pool.busy);
    for (int32_t c = 0; c < chunks; c++) fn(ctx, c, 0);
    return;
  }
  const double t0 = now_us();
  pool.fn = fn;
  pool.ctx = ctx;
  pool.chunks = chunks;
  pool.width = threads;
  atomic_store(&pool.done, 0);
  const uint32_t g = atomic_load(&pool.gen) + 1;
  atomic_store(&pool.ticket, (uint64_t)g << 32);
  atomic_store(&pool.gen, g);
  if (atomic_load(&pool.sleeping) > 0) {
    syscall(SYS_futex, &pool.gen, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
  }
  claim_chunks(g, 0);
  const double t1 = now_us();
  /* the last chunks may still run on helpers; a descheduled one gets the core back */
  for (int spins = 0; atomic_load(&pool.done) < chunks;) {
    cpu_relax();
    if (++spins >= 2048) {
      spins = 0;
      sched_yield();
    }
  }
  const double t2 = now_us(), wait = t2 - t1;
  straggles = (straggles << 1 | (wait > 30 && wait > 0.25 * (t2 - t0))) & 0xFF;
  if (__builtin_popcount(straggles) >= 3) {
    solo_left = 256;
    straggles = 0;
  }
  pthread_mutex_unlock(&pool.busy);
}
#else
static void run_parallel(task_fn fn, const void *ctx, int32_t chunks, int32_t threads) {
  (void)threads;
  for (int32_t c = 0; c < chunks; c++) fn(ctx, c, 0);
}
#endif

/* ---- direct convolutions (stride 1, NHWC) ---- */

/*
 * Forward: y[b, oy, ox, o] = act(bias[o] + sum over ky, kx, c of
 * x[b, oy + ky - top, ox + kx - left, c] w[ky, kx, c, o]), the terms in the order (ky, kx, c)
 * (that of the patch matrix), one fused multiply-add after the other, rows outside the image
 * skipped (their terms are zero). Vectorised over output channels: a tile of P pixels of one
 * output row times one or two vectors of channels stays in registers while the patch entries
 * stream by (a weight vector load and P broadcasts of input values per entry). The input is
 * read in place; with left/right padding each image is first copied into a worker's scratch with
 * zero columns.
 *
 * Input gradient: the same sweep over dy (a "full" convolution) with the filter flipped and its
 * channel axes swapped: dx[b, iy, ix, c] = sum over ky', kx', o of
 * dy[b, iy + ky' - (fh - 1 - top), ix + kx' - (fw - 1 - left), o] w[fh-1-ky', fw-1-kx', c, o].
 *
 * Filter gradient: dw[ky, kx, c, o] = sum over b, oy, ox of x[b, oy + ky - top, ox + kx - left, c]
 * dy[b, oy, ox, o]: T consecutive (kx, c) entries of one filter row times the output channels in
 * registers, the pixels of four output rows streaming by, then added into the chunk's part (short
 * chains: a chain over a whole chunk of images was 8x further from the float64 sum than sgemm).
 * Images are cut into chunks (at most 16, fixed by n); each chunk sums its images in order into
 * its own part and the parts are added in chunk order, so the result is the same on any number
 * of threads.
 *
 * The ISA variants (AVX-512 with 16 lanes, AVX2 with 8, scalar) only differ in how many output
 * channels share one instruction: every element is the same chain of fmaf and the same bits.
 */

/* Geometry of a direct convolution, as lib/native/ckernels.ts packs it into an Int32Array. */
enum { D_N, D_H, D_W, D_CI, D_FH, D_FW, D_TOP, D_LEFT, D_OH, D_OW, D_CO, D_LEN };

/* A forward-style sweep: in [n, hin, win, cin] -> out [n, oh, ow, cout]. */
typedef struct {
  const float *in;
  int32_t n, hin, win, cin, fh, fw, top, left, wpad, oh, ow, cout;
  const float *wpk;  /* packed filter: [groups][fh fw cin][nv VL] */
  const float *bias; /* packed bias [groups nv VL], or null */
  int32_t relu, nv, groups;
  int32_t dot_c; /* "dot" sweeps (input channels on the vector axis): channels per tile */
  float *scratch; /* workers x per_worker floats: a padded image each (then its activations) */
  int64_t per_worker, pad_floats;
  float *out;
  /* 2x2 max pooling of the activations instead of writing them (see ip_conv_pool_forward) */
  float *pooled;
  uint8_t *codes;
} Sweep;

typedef struct {
  const float *x, *dy;
  int32_t n, h, w, ci, fh, fw, top, left, wpad, oh, ow, co, nv, per;
  float *parts; /* chunks x fh fw ci co */
  float *scratch;
  int64_t per_worker;
} FilterSweep;

static inline float *worker_scratch(const Sweep *s, int32_t worker) {
  return s->scratch + (int64_t)worker * s->per_worker;
}

/* The image [h, w, c] with `left` zero columns before and wpad - w - left after each row: src
 * itself when there are none, else a copy in scratch (h wpad c floats). */
static inline const float *padded_rows(const float *src, int32_t h, int32_t w, int32_t c,
                                       int32_t left, int32_t wpad, float *scratch) {
  if (left == 0 && wpad == w) return src;
  const int64_t run = (int64_t)w * c, row = (int64_t)wpad * c, before = (int64_t)left * c;
  for (int32_t y = 0; y < h; y++) {
    float *d = scratch + y * row;
    memset(d, 0, sizeof(float) * (size_t)before);
    memcpy(d + before, src + y * run, sizeof(float) * (size_t)run);
    memset(d + before + run, 0, sizeof(float) * (size_t)(row - before - run));
  }
  return scratch;
}

/* [ky0, ky1): the filter rows whose input row oy + ky - top lies in [0, hin). */
static inline void rows_in_range(int32_t oy, int32_t top, int32_t fh, int32_t hin, int32_t *ky0,
                                 int32_t *ky1) {
  const int32_t lo = top - oy, hi = hin + top - oy;
  *ky0 = lo > 0 ? lo : 0;
  *ky1 = hi < fh ? hi : fh;
  if (*ky1 < *ky0) *ky1 = *ky0;
}

/*
 * 2x2 max pooling of one image's activations y [2 ph, 2 pw, c] (ReLU outputs) into p
 * [ph, pw, c], with a code per pooled element for the gradient (ip_relu_pool_grad): bits 0-1
 * the window element holding the first maximum (order: top-left, top-right, bottom-left,
 * bottom-right), bit 2 set when there is one (a window of NaN only has none; p is -inf), bits
 * 4-7 which elements are NaN. Same comparisons as ip_maxpool, so p is what MaxPool gives.
 */
static inline uint8_t window_code(float a, float e, float f, float k, float *m) {
  float v = -__builtin_inff();
  v = a > v ? a : v;
  v = e > v ? e : v;
  v = f > v ? f : v;
  v = k > v ? k : v;
  *m = v;
  const int32_t hit = a == v ? 0 : e == v ? 1 : f == v ? 2 : k == v ? 3 : -1;
  return (uint8_t)((hit >= 0 ? hit | 4 : 0) | (a != a) << 4 | (e != e) << 5 | (f != f) << 6 |
                   (k != k) << 7);
}

static void pool_codes_scalar(const float *y, int32_t ph, int32_t pw, int32_t c, float *p,
                              uint8_t *codes) {
  const int64_t row = 2 * (int64_t)pw * c;
  for (int32_t oy = 0; oy < ph; oy++) {
    const float *r0 = y + 2 * oy * row, *r1 = r0 + row;
    for (int32_t ox = 0; ox < pw; ox++) {
      const float *p0 = r0 + 2 * ox * c, *p1 = r1 + 2 * ox * c;
      const int64_t o = ((int64_t)oy * pw + ox) * c;
      for (int32_t d = 0; d < c; d++) {
        codes[o + d] = window_code(p0[d], p0[c + d], p1[d], p1[c + d], p + o + d);
      }
    }
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
/* The same, 16 channels at a time. */
__attribute__((target("avx512f,avx512bw,avx512vl"))) static void pool_codes_z16(
    const float *y, int32_t ph, int32_t pw, int32_t c, float *p, uint8_t *codes) {
  const int64_t row = 2 * (int64_t)pw * c;
  const __m512 ninf = _mm512_set1_ps(-__builtin_inff());
  for (int32_t oy = 0; oy < ph; oy++) {
    const float *r0 = y + 2 * oy * row, *r1 = r0 + row;
    for (int32_t ox = 0; ox < pw; ox++) {
      const float *p0 = r0 + 2 * ox * c, *p1 = r1 + 2 * ox * c;
      const int64_t o = ((int64_t)oy * pw + ox) * c;
      for (int32_t d = 0; d < c; d += 16) {
        const __mmask16 l = (__mmask16)(c - d >= 16 ? 0xFFFF : (1u << (c - d)) - 1);
        const __m512 a = _mm512_maskz_loadu_ps(l, p0 + d), e = _mm512_maskz_loadu_ps(l, p0 + c + d);
        const __m512 f = _mm512_maskz_loadu_ps(l, p1 + d), k = _mm512_maskz_loadu_ps(l, p1 + c + d);
        __m512 m = ninf;
        m = _mm512_mask_mov_ps(m, _mm512_cmp_ps_mask(a, m, _CMP_GT_OQ), a);
        m = _mm512_mask_mov_ps(m, _mm512_cmp_ps_mask(e, m, _CMP_GT_OQ), e);
        m = _mm512_mask_mov_ps(m, _mm512_cmp_ps_mask(f, m, _CMP_GT_OQ), f);
        m = _mm512_mask_mov_ps(m, _mm512_cmp_ps_mask(k, m, _CMP_GT_OQ), k);
        _mm512_mask_storeu_ps(p + o + d, l, m);
        const __mmask16 h0 = _mm512_cmp_ps_mask(a, m, _CMP_EQ_OQ);
        const __mmask16 h1 = (__mmask16)(~h0 & _mm512_cmp_ps_mask(e, m, _CMP_EQ_OQ));
        const __mmask16 h2 = (__mmask16)(~(h0 | h1) & _mm512_cmp_ps_mask(f, m, _CMP_EQ_OQ));
        const __mmask16 h3 = (__mmask16)(~(h0 | h1 | h2) & _mm512_cmp_ps_mask(k, m, _CMP_EQ_OQ));
        /* code = index | 4 (hit) | NaN flags << 4, assembled in 32-bit lanes */
        __m512i v = _mm512_setzero_si512();
        v = _mm512_mask_mov_epi32(v, h0, _mm512_set1_epi32(4));
        v = _mm512_mask_mov_epi32(v, h1, _mm512_set1_epi32(5));
        v = _mm512_mask_mov_epi32(v, h2, _mm512_set1_epi32(6));
        v = _mm512_mask_mov_epi32(v, h3, _mm512_set1_epi32(7));
        v = _mm512_mask_or_epi32(v, _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), v, _mm512_set1_epi32(16));
        v = _mm512_mask_or_epi32(v, _mm512_cmp_ps_mask(e, e, _CMP_UNORD_Q), v, _mm512_set1_epi32(32));
        v = _mm512_mask_or_epi32(v, _mm512_cmp_ps_mask(f, f, _CMP_UNORD_Q), v, _mm512_set1_epi32(64));
        v = _mm512_mask_or_epi32(v, _mm512_cmp_ps_mask(k, k, _CMP_UNORD_Q), v, _mm512_set1_epi32(128));
        _mm_mask_storeu_epi8(codes + o + d, l, _mm512_cvtepi32_epi8(v));
      }
    }
  }
}
#endif

int32_t ip_direct_isa(int32_t cap);

static void pool_codes(const float *y, int32_t ph, int32_t pw, int32_t c, float *p,
                       uint8_t *codes) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  if (ip_direct_isa(0) == 16) return pool_codes_z16(y, ph, pw, c, p, codes);
#endif
  pool_codes_scalar(y, ph, pw, c, p, codes);
}

#define R1_6(X, n) X(1, n) X(2, n) X(3, n) X(4, n) X(5, n) X(6, n)
#define R7_12(X, n) X(7, n) X(8, n) X(9, n) X(10, n) X(11, n) X(12, n)
#define R13_14(X, n) X(13, n) X(14, n)
#define R15_24(X, n) \
  X(15, n) X(16, n) X(17, n) X(18, n) X(19, n) X(20, n) X(21, n) X(22, n) X(23, n) X(24, n)

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#define IP_X86 1

/* AVX-512: 16 lanes, 32 registers. */
#define SFX _z16
#define TGT __attribute__((target("avx512f,fma")))
#define VL 16
#define VT __m512
#define V_ZERO() _mm512_setzero_ps()
#define V_LOAD(p) _mm512_loadu_ps(p)
#define V_BCAST(p) _mm512_set1_ps(*(p))
#define V_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define V_ADD(a, b) _mm512_add_ps(a, b)
#define V_MASK(l) ((__mmask16)((l) >= 16 ? 0xFFFF : (1u << (l)) - 1))
#define V_LOADM(p, l) _mm512_maskz_loadu_ps(V_MASK(l), p)
#define V_STOREM(p, v, l) _mm512_mask_storeu_ps(p, V_MASK(l), v)
#define V_RELU(v)                                                              \
  _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ) | \
                          _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q),              \
                      v)
#define FWD_PMAX1 24
#define FWD_PMAX2 14
#define FLT_TMAX1 24
#define FLT_TMAX2 14
#define FWD_TILES(X) R1_6(X, 1) R7_12(X, 1) R13_14(X, 1) R15_24(X, 1) R1_6(X, 2) R7_12(X, 2) R13_14(X, 2)
#define FLT_TILES(X) FWD_TILES(X)
#define DOT_TILES(X) \
  R1_6(X, 1) X(7, 1) X(8, 1) R1_6(X, 2) X(7, 2) X(8, 2) R1_6(X, 3) X(7, 3) \
  X(1, 4) X(2, 4) X(3, 4) X(4, 4) X(5, 4) X(1, 6) X(2, 6) X(3, 6) X(4, 6) X(1, 8) X(2, 8) X(3, 8)
static inline TGT float fold16_z16(const __m512 *a) {
  const __m512 v = a[0];
  const __m512 t = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, 0x4E)); /* o + o+8 */
  const __m256 y = _mm512_castps512_ps256(t);
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(y), _mm256_extractf128_ps(y, 1)); /* + o+4 */
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));                                           /* + o+2 */
  x = _mm_add_ss(x, _mm_shuffle_ps(x, x, 1));                                       /* + o+1 */
  return _mm_cvtss_f32(x);
}
/*
 * fold16 of v[0..15] at once, results in order into out[0..15]: the same additions (lanes o and
 * o+8, then o+4, o+2, o+1) as fold16_z16 on each vector, done on pairs of vectors.
 */
static inline __attribute__((always_inline)) TGT void fold16x16_z16(const __m512 *v,
                                                                    float *out) {
  __m512 w[8], x[4], y[2];
  for (int i = 0; i < 8; i++) {
    w[i] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0x44),
                         _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0xEE));
  }
  for (int i = 0; i < 4; i++) {
    x[i] = _mm512_add_ps(_mm512_shuffle_f32x4(w[2 * i], w[2 * i + 1], 0x88),
                         _mm512_shuffle_f32x4(w[2 * i], w[2 * i + 1], 0xDD));
  }
  for (int i = 0; i < 2; i++) {
    y[i] = _mm512_add_ps(_mm512_shuffle_ps(x[2 * i], x[2 * i + 1], 0x44),
                         _mm512_shuffle_ps(x[2 * i], x[2 * i + 1], 0xEE));
  }
  const __m512 z = _mm512_add_ps(_mm512_shuffle_ps(y[0], y[1], 0x88),
                                 _mm512_shuffle_ps(y[0], y[1], 0xDD));
  /* lane 4i + j of z is the sum of v[4j + i] */
  const __m512i order = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
  _mm512_storeu_ps(out, _mm512_permutexvar_ps(order, z));
}
#define FOLD16X16(v, out) fold16x16_z16(v, out)
static inline int32_t dot_pmax_z16(int32_t c) {
  return c == 1 ? 8 : c == 2 ? 8 : c == 3 ? 7 : c == 4 ? 5 : c == 6 ? 4 : 3;
}
#include "conv_direct.h"
#undef DOT_TILES
#undef FOLD16X16
#undef SFX
#undef TGT
#undef VL
#undef VT
#undef V_ZERO
#undef V_LOAD
#undef V_BCAST
#undef V_FMA
#undef V_ADD
#undef V_MASK
#undef V_LOADM
#undef V_STOREM
#undef V_RELU
#undef FWD_PMAX1
#undef FWD_PMAX2
#undef FLT_TMAX1
#undef FLT_TMAX2
#undef FWD_TILES
#undef FLT_TILES

/* AVX2 + FMA: 8 lanes, 16 registers. */
static const int32_t ymask_table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
#define SFX _y8
#define TGT __attribute__((target("avx2,fma")))
#define VL 8
#define VT __m256
#define V_ZERO() _mm256_setzero_ps()
#define V_LOAD(p) _mm256_loadu_ps(p)
#define V_BCAST(p) _mm256_broadcast_ss(p)
#define V_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define V_ADD(a, b) _mm256_add_ps(a, b)
#define V_MASK(l) _mm256_loadu_si256((const __m256i *)(ymask_table + 8 - ((l) >= 8 ? 8 : (l))))
#define V_LOADM(p, l) ((l) >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, V_MASK(l)))
#define V_STOREM(p, v, l) \
  ((l) >= 8 ? _mm256_storeu_ps(p, v) : _mm256_maskstore_ps(p, V_MASK(l), v))
#define V_RELU(v)                                                                \
  _mm256_and_ps(v, _mm256_or_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ), \
                                _mm256_cmp_ps(v, v, _CMP_UNORD_Q)))
#define FWD_PMAX1 12
#define FWD_PMAX2 6
#define FLT_TMAX1 12
#define FLT_TMAX2 6
#define FWD_TILES(X) R1_6(X, 1) R7_12(X, 1) R1_6(X, 2)
#define FLT_TILES(X) FWD_TILES(X)
#define DOT_TILES(X) X(1, 1) X(2, 1) X(3, 1) X(1, 2) X(2, 2) X(1, 3) X(1, 4) X(1, 6) X(1, 8)
static inline TGT float fold16_y8(const __m256 *v) {
  const __m256 t = _mm256_add_ps(v[0], v[1]); /* o + o+8 */
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1)); /* + o+4 */
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));                                           /* + o+2 */
  x = _mm_add_ss(x, _mm_shuffle_ps(x, x, 1));                                       /* + o+1 */
  return _mm_cvtss_f32(x);
}
static inline int32_t dot_pmax_y8(int32_t c) { return c == 1 ? 3 : c == 2 ? 2 : 1; }
#include "conv_direct.h"
#undef DOT_TILES
#undef SFX
#undef TGT
#undef VL
#undef VT
#undef V_ZERO
#undef V_LOAD
#undef V_BCAST
#undef V_FMA
#undef V_ADD
#undef V_MASK
#undef V_LOADM
#undef V_STOREM
#undef V_RELU
#undef FWD_PMAX1
#undef FWD_PMAX2
#undef FLT_TMAX1
#undef FLT_TMAX2
#undef FWD_TILES
#undef FLT_TILES
#endif

/* Scalar: one lane (fmaf: the same rounding as the vector FMAs). */
#include <math.h>
static inline float relu1(float v) { return v > 0.0f ? v : (v != v ? v : 0.0f); }
#define SFX _s1
#define TGT
#define VL 1
#define VT float
#define V_ZERO() 0.0f
#define V_LOAD(p) (*(p))
#define V_BCAST(p) (*(p))
#define V_FMA(a, b, c) fmaf(a, b, c)
#define V_ADD(a, b) ((a) + (b))
#define V_LOADM(p, l) (*(p))
#define V_STOREM(p, v, l) (*(p) = (v))
#define V_RELU(v) relu1(v)
#define FWD_PMAX1 8
#define FWD_PMAX2 4
#define FLT_TMAX1 8
#define FLT_TMAX2 4
#define FWD_TILES(X) R1_6(X, 1) X(7, 1) X(8, 1) X(1, 2) X(2, 2) X(3, 2) X(4, 2)
#define FLT_TILES(X) FWD_TILES(X)
#define DOT_TILES(X) X(1, 1) X(1, 2) X(1, 3) X(1, 4) X(1, 6) X(1, 8)
static inline float fold16_s1(const float *v) {
  float t[8];
  for (int o = 0; o < 8; o++) t[o] = v[o] + v[o + 8];
  for (int o = 0; o < 4; o++) t[o] = t[o] + t[o + 4];
  for (int o = 0; o < 2; o++) t[o] = t[o] + t[o + 2];
  return t[0] + t[1];
}
static inline int32_t dot_pmax_s1(int32_t c) {
  (void)c;
  return 1;
}
#include "conv_direct.h"
#undef DOT_TILES
#undef SFX
#undef TGT
#undef VL
#undef VT
#undef V_ZERO
#undef V_LOAD
#undef V_BCAST
#undef V_FMA
#undef V_ADD
#undef V_LOADM
#undef V_STOREM
#undef V_RELU
#undef FWD_PMAX1
#undef FWD_PMAX2
#undef FLT_TMAX1
#undef FLT_TMAX2
#undef FWD_TILES
#undef FLT_TILES

/* The vector ISA in use: lanes 16 (AVX-512), 8 (AVX2 + FMA) or 1 (scalar). */
static int32_t isa_best = 0, isa_cap = 16;

static int32_t best_isa(void) {
  if (isa_best) return isa_best;
  int32_t isa = 1;
#ifdef IP_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) isa = 8;
  if (__builtin_cpu_supports("avx512f") && isa == 8) isa = 16;
#endif
  isa_best = isa;
  return isa;
}

/*
 * The lanes of the ISA the direct convolutions use (16, 8 or 1). cap > 0 limits it to at most
 * that many lanes (tests run every variant); cap 0 only asks.
 */
int32_t ip_direct_isa(int32_t cap) {
  if (cap > 0) isa_cap = cap;
  const int32_t b = best_isa();
  return b < isa_cap ? b : (isa_cap >= 16 ? 16 : isa_cap >= 8 ? 8 : 1);
}

/* The lanes used for `cout` output channels: 8 where 16 would leave half of them empty. */
static int32_t lanes_for(int32_t cout) {
  const int32_t isa = ip_direct_isa(0);
  return isa == 16 && cout <= 8 ? 8 : isa;
}

/* Vectors per tile: 1 or 2 (co up to two vectors at once; more channels: groups of two). */
static int32_t nv_for(int32_t cout, int32_t vl) { return cout <= vl ? 1 : 2; }

/*
 * Whether a sweep puts its input channels on the vector axis ("dot" tiles): few output channels
 * and whole vectors of input channels. A function of the shape only, never of the ISA (the two
 * forms sum in different orders).
 */
static int32_t dot_channels(int32_t cin, int32_t cout) {
  if (cout > 8 || cin < 16 || cin > 64) return 0;
  return cout <= 4 ? cout : cout <= 6 ? 6 : 8;
}

static task_fn sweep_task_for(const Sweep *s) {
  /* dot tiles always fill the ISA's widest vectors; others size them to cout */
  const int32_t vl = s->dot_c ? ip_direct_isa(0) : lanes_for(s->cout), dot = s->dot_c;
#ifdef IP_X86
  if (vl == 16) return dot ? dot_task_z16 : sweep_task_z16;
  if (vl == 8) return dot ? dot_task_y8 : sweep_task_y8;
#endif
  (void)vl;
  return dot ? dot_task_s1 : sweep_task_s1;
}

static task_fn filter_task_for(int32_t vl) {
#ifdef IP_X86
  if (vl == 16) return filter_task_z16;
  if (vl == 8) return filter_task_y8;
#endif
  (void)vl;
  return filter_task_s1;
}

/* Chunks of the filter gradient: at most 16, a function of n only. */
static int32_t filter_per(int32_t n) {
  const int32_t chunks = n < 16 ? n : 16;
  return chunks > 0 ? (n + chunks - 1) / chunks : 1;
}

/* The sweep of kind 0 (forward) or 1 (input gradient: a sweep over dy) on g, without weights. */
static Sweep sweep_of(const int32_t *g, int32_t kind) {
  Sweep s = {0};
  s.n = g[D_N], s.fh = g[D_FH], s.fw = g[D_FW];
  if (kind == 0) {
    s.hin = g[D_H], s.win = g[D_W], s.cin = g[D_CI], s.top = g[D_TOP], s.left = g[D_LEFT];
    s.oh = g[D_OH], s.ow = g[D_OW], s.cout = g[D_CO];
  } else {
    s.hin = g[D_OH], s.win = g[D_OW], s.cin = g[D_CO];
    s.top = g[D_FH] - 1 - g[D_TOP], s.left = g[D_FW] - 1 - g[D_LEFT];
    s.oh = g[D_H], s.ow = g[D_W], s.cout = g[D_CI];
  }
  s.wpad = s.ow + s.fw - 1;
  s.dot_c = dot_channels(s.cin, s.cout);
  const int32_t vl = lanes_for(s.cout), gw = (s.nv = nv_for(s.cout, vl)) * vl;
  s.groups = (s.cout + gw - 1) / gw;
  s.per_worker = (int64_t)s.hin * s.wpad * s.cin;
  return s;
}

/* Floats of packed weights (and bias) of a sweep. */
static int64_t packed_floats(const Sweep *s) {
  const int64_t taps = (int64_t)s->fh * s->fw;
  if (s->dot_c) return taps * s->dot_c * ((s->cin + 15) / 16) * 16;
  const int64_t gw = (int64_t)s->nv * lanes_for(s->cout);
  return s->groups * gw * (taps * s->cin + 1);
}

/*
 * Floats of scratch the direct convolution `kind` (0 forward, 1 input gradient, 2 filter
 * gradient) needs on `threads` threads with the ISA now in use: packed filter and bias (or the
 * per-chunk parts), then one padded image per worker.
 */
int64_t ip_direct_scratch(const int32_t *g, int32_t kind, int32_t threads) {
  if (threads < 1) threads = 1;
  if (threads > MAX_WORKERS) threads = MAX_WORKERS;
  if (kind == 2) {
    const int64_t k = (int64_t)g[D_FH] * g[D_FW] * g[D_CI];
    const int32_t per = filter_per(g[D_N]), chunks = (g[D_N] + per - 1) / per;
    const int64_t img = (int64_t)g[D_H] * (g[D_OW] + g[D_FW] - 1) * g[D_CI];
    return chunks * k * g[D_CO] + threads * img;
  }
  const Sweep s = sweep_of(g, kind);
  return packed_floats(&s) + threads * s.per_worker;
}

/* The filter entry a sweep multiplies input channel i of tap (ky, kx) by, for output channel o. */
static inline float tap(const float *filter, const int32_t *g, int32_t kind, int32_t ky,
                        int32_t kx, int32_t i, int32_t o) {
  const int32_t fh = g[D_FH], fw = g[D_FW], ci = g[D_CI], co = g[D_CO];
  if (kind == 0) return filter[(((int64_t)ky * fw + kx) * ci + i) * co + o];
  /* input gradient: flipped taps, the channel axes swapped (i: conv output, o: conv input) */
  return filter[(((int64_t)(fh - 1 - ky) * fw + (fw - 1 - kx)) * ci + o) * co + i];
}

/* Packs a sweep's filter (and bias) into the front of scratch; returns where the images go. */
static float *pack_sweep(Sweep *s, const float *filter, const float *bias, int32_t kind,
                         const int32_t *g, float *scratch) {
  s->wpk = scratch;
  s->bias = 0;
  if (s->dot_c) {
    /* [ky][kx][c < dot_c][i < 16 nb], zero beyond cout and cin */
    const int32_t w16 = (s->cin + 15) / 16 * 16;
    float *d = scratch;
    for (int32_t ky = 0; ky < s->fh; ky++) {
      for (int32_t kx = 0; kx < s->fw; kx++) {
        for (int32_t c = 0; c < s->dot_c; c++) {
          for (int32_t i = 0; i < w16; i++) {
            *d++ = c < s->cout && i < s->cin ? tap(filter, g, kind, ky, kx, i, c) : 0.0f;
          }
        }
      }
    }
    return scratch + packed_floats(s);
  }
  /* [group][ky][kx][i < cin][j < gw], zero beyond cout; then the bias [groups gw] */
  const int32_t gw = s->nv * lanes_for(s->cout);
  const int64_t k = (int64_t)s->fh * s->fw * s->cin;
  float *d = scratch;
  for (int32_t grp = 0; grp < s->groups; grp++) {
    for (int32_t ky = 0; ky < s->fh; ky++) {
      for (int32_t kx = 0; kx < s->fw; kx++) {
        for (int32_t i = 0; i < s->cin; i++) {
          for (int32_t j = 0; j < gw; j++) {
            const int32_t o = grp * gw + j;
            *d++ = o < s->cout ? tap(filter, g, kind, ky, kx, i, o) : 0.0f;
          }
        }
      }
    }
  }
  float *bpk = scratch + s->groups * k * gw;
  if (bias) {
    for (int64_t j = 0; j < (int64_t)s->groups * gw; j++) bpk[j] = j < s->cout ? bias[j] : 0.0f;
    s->bias = bpk;
  }
  return scratch + packed_floats(s);
}

/* y = act(conv2d(x, filter) + bias), stride 1 (see above); scratch: ip_direct_scratch(g, 0). */
void ip_conv_direct_forward(const float *x, const float *filter, const float *bias,
                            int32_t has_bias, int32_t relu, const int32_t *g, int32_t threads,
                            float *scratch, float *y) {
  Sweep s = sweep_of(g, 0);
  s.in = x;
  s.out = y;
  s.relu = relu;
  s.scratch = pack_sweep(&s, filter, has_bias ? bias : 0, 0, g, scratch);
  run_parallel(sweep_task_for(&s), &s, s.n, threads);
  if (!s.dot_c || !(has_bias || relu)) return;
  /* dot tiles have no epilogue: bias and ReLU in a second pass (rare: co <= 8, ci >= 16) */
  const int64_t total = (int64_t)s.n * s.oh * s.ow;
  for (int64_t q = 0; q < total; q++) {
    for (int32_t o = 0; o < s.cout; o++) {
      float v = y[q * s.cout + o];
      if (has_bias) v += bias[o];
      if (relu) v = v > 0.0f ? v : (v != v ? v : 0.0f);
      y[q * s.cout + o] = v;
    }
  }
}

/* dx of the convolution (stride 1); scratch: ip_direct_scratch(g, 1). */
void ip_conv_direct_input(const float *dy, const float *filter, const int32_t *g, int32_t threads,
                          float *scratch, float *dx) {
  Sweep s = sweep_of(g, 1);
  s.in = dy;
  s.out = dx;
  s.scratch = pack_sweep(&s, filter, 0, 1, g, scratch);
  run_parallel(sweep_task_for(&s), &s, s.n, threads);
}


/*
 * p = maxpool2x2(act(conv2d(x, filter) + bias)) (stride-1 convolution, 2x2 pooling with stride
 * 2 tiling its even output exactly), without writing the activations: each image's stay in the
 * worker's scratch and are pooled there. codes: one byte per element of p for the gradient (see
 * pool_codes). Same values as the three kernels in a row. Not for "dot" sweeps
 * (ip_conv_pool_supported). scratch: ip_conv_pool_scratch(g, threads).
 */
void ip_conv_pool_forward(const float *x, const float *filter, const float *bias,
                          int32_t has_bias, int32_t relu, const int32_t *g, int32_t threads,
                          float *scratch, float *p, uint8_t *codes) {
  Sweep s = sweep_of(g, 0);
  s.in = x;
  s.relu = relu;
  s.pooled = p;
  s.codes = codes;
  s.pad_floats = s.per_worker;
  s.per_worker += (int64_t)s.oh * s.ow * s.cout;
  s.scratch = pack_sweep(&s, filter, has_bias ? bias : 0, 0, g, scratch);
  run_parallel(sweep_task_for(&s), &s, s.n, threads);
}

/* Whether ip_conv_pool_forward takes g: no "dot" sweep, an even output. */
int32_t ip_conv_pool_supported(const int32_t *g) {
  const Sweep s = sweep_of(g, 0);
  return !s.dot_c && s.oh % 2 == 0 && s.ow % 2 == 0 && s.oh > 0 && s.ow > 0;
}

/* Floats of scratch ip_conv_pool_forward needs on `threads` threads. */
int64_t ip_conv_pool_scratch(const int32_t *g, int32_t threads) {
  if (threads < 1) threads = 1;
  if (threads > MAX_WORKERS) threads = MAX_WORKERS;
  const Sweep s = sweep_of(g, 0);
  return packed_floats(&s) + threads * (s.per_worker + (int64_t)s.oh * s.ow * s.cout);
}

typedef struct {
  const float *dp, *p;
  const uint8_t *codes;
  int32_t n, ph, pw, c, per;
  float *dz;
} PoolGradJob;

/*
 * dz of relu-then-pool for images [b0, b1): exactly what MaxPoolGrad (dp to the first maximum of
 * each window, +0 elsewhere) followed by the ReLU gradient (times step(y): 1 where y > 0, 0
 * elsewhere, NaN where y is NaN) give. The maximum's y is p.
 */
HOT static void relu_pool_grad_images(const PoolGradJob *j, int32_t b0, int32_t b1) {
  const int32_t c = j->c, pw = j->pw;
  const int64_t row = 2 * (int64_t)pw * c, per_img = (int64_t)j->ph * pw * c;
  const float nan = __builtin_nanf("");
  for (int32_t b = b0; b < b1; b++) {
    const float *dp = j->dp + b * per_img, *p = j->p + b * per_img;
    const uint8_t *codes = j->codes + b * per_img;
    float *dz = j->dz + b * per_img * 4;
    for (int32_t oy = 0; oy < j->ph; oy++) {
      float *r0 = dz + 2 * oy * row, *r1 = r0 + row;
      for (int32_t ox = 0; ox < pw; ox++) {
        float *q[4] = {r0 + 2 * ox * c, r0 + 2 * ox * c + c, r1 + 2 * ox * c, r1 + 2 * ox * c + c};
        const int64_t o = ((int64_t)oy * pw + ox) * c;
        /* selects, not branches (which element holds the maximum is data, and mispredicts);
           one element of the window at a time, so that the loop over channels vectorises */
        for (uint32_t i = 0; i < 4; i++) {
          float *qi = q[i];
          for (int32_t d = 0; d < c; d++) {
            const uint32_t code = codes[o + d];
            const float g = dp[o + d] * (float)(p[o + d] > 0.0f);
            uint32_t gb, nb, v;
            memcpy(&gb, &g, 4);
            memcpy(&nb, &nan, 4);
            const uint32_t hit = 0u - (uint32_t)((code & 7) == (4 | i));
            const uint32_t isnan = 0u - ((code >> (4 + i)) & 1);
            v = ((gb & hit) & ~isnan) | (nb & isnan);
            memcpy(qi + d, &v, 4);
          }
        }
      }
    }
  }
}

#ifdef IP_X86
/* The same, 16 channels at a time. */
__attribute__((target("avx512f,avx512bw,avx512vl"))) static void relu_pool_grad_images_z16(
    const PoolGradJob *j, int32_t b0, int32_t b1) {
  const int32_t c = j->c, pw = j->pw;
  const int64_t row = 2 * (int64_t)pw * c, per_img = (int64_t)j->ph * pw * c;
  const __m512 nan = _mm512_set1_ps(__builtin_nanf("")), one = _mm512_set1_ps(1.0f);
  const __m512 zero = _mm512_setzero_ps();
  for (int32_t b = b0; b < b1; b++) {
    const float *dp = j->dp + b * per_img, *p = j->p + b * per_img;
    const uint8_t *codes = j->codes + b * per_img;
    float *dz = j->dz + b * per_img * 4;
    for (int32_t oy = 0; oy < j->ph; oy++) {
      float *r0 = dz + 2 * oy * row, *r1 = r0 + row;
      for (int32_t ox = 0; ox < pw; ox++) {
        float *q[4] = {r0 + 2 * ox * c, r0 + 2 * ox * c + c, r1 + 2 * ox * c, r1 + 2 * ox * c + c};
        const int64_t o = ((int64_t)oy * pw + ox) * c;
        for (int32_t d = 0; d < c; d += 16) {
          const __mmask16 l = (__mmask16)(c - d >= 16 ? 0xFFFF : (1u << (c - d)) - 1);
          const __m512i code = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(l, codes + o + d));
          const __m512 pv = _mm512_maskz_loadu_ps(l, p + o + d);
          const __m512 step = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(pv, zero, _CMP_GT_OQ), one);
          const __m512 g = _mm512_mul_ps(_mm512_maskz_loadu_ps(l, dp + o + d), step);
          const __m512i low = _mm512_and_si512(code, _mm512_set1_epi32(7));
          for (int32_t i = 0; i < 4; i++) {
            const __mmask16 hit = _mm512_cmpeq_epi32_mask(low, _mm512_set1_epi32(4 | i));
            const __mmask16 isnan = _mm512_test_epi32_mask(code, _mm512_set1_epi32(16 << i));
            const __m512 v = _mm512_mask_mov_ps(_mm512_maskz_mov_ps(hit, g), isnan, nan);
            _mm512_mask_storeu_ps(q[i] + d, l, v);
          }
        }
      }
    }
  }
}
#endif

static void relu_pool_grad_task(const void *ctx, int32_t ch, int32_t worker) {
  (void)worker;
  const PoolGradJob *j = (const PoolGradJob *)ctx;
  const int32_t b0 = ch * j->per, b1 = b0 + j->per < j->n ? b0 + j->per : j->n;
#ifdef IP_X86
  if (ip_direct_isa(0) == 16) return relu_pool_grad_images_z16(j, b0, b1);
#endif
  relu_pool_grad_images(j, b0, b1);
}

/* dz [n, 2 ph, 2 pw, c] from dp and the forward's p and codes (see relu_pool_grad_images). */
void ip_relu_pool_grad(const float *dp, const float *p, const uint8_t *codes, int32_t n,
                       int32_t ph, int32_t pw, int32_t c, int32_t threads, float *dz) {
  const int32_t chunks = n < 16 ? n : 16, per = chunks > 0 ? (n + chunks - 1) / chunks : 1;
  const PoolGradJob j = {dp, p, codes, n, ph, pw, c, per, dz};
  run_parallel(relu_pool_grad_task, &j, (n + per - 1) / per, threads);
}

/* dw [fh, fw, ci, co] of the convolution (stride 1); scratch: ip_direct_scratch(g, 2). */
void ip_conv_direct_filter(const float *x, const float *dy, const int32_t *g, int32_t threads,
                           float *scratch, float *dw) {
  FilterSweep f = {0};
  f.x = x, f.dy = dy;
  f.n = g[D_N], f.h = g[D_H], f.w = g[D_W], f.ci = g[D_CI], f.fh = g[D_FH], f.fw = g[D_FW];
  f.top = g[D_TOP], f.left = g[D_LEFT], f.oh = g[D_OH], f.ow = g[D_OW], f.co = g[D_CO];
  f.wpad = f.ow + f.fw - 1;
  const int32_t vl = lanes_for(f.co);
  f.nv = nv_for(f.co, vl);
  f.per = filter_per(f.n);
  const int32_t chunks = (f.n + f.per - 1) / f.per;
  const int64_t kc = (int64_t)f.fh * f.fw * f.ci * f.co;
  f.parts = scratch;
  f.scratch = scratch + chunks * kc;
  f.per_worker = (int64_t)f.h * f.wpad * f.ci;
  run_parallel(filter_task_for(vl), &f, chunks, threads);
  memcpy(dw, f.parts, sizeof(float) * (size_t)kc);
  for (int32_t c = 1; c < chunks; c++) {
    const float *part = f.parts + c * kc;
    for (int64_t i = 0; i < kc; i++) dw[i] += part[i];
  }
}

/* ---- single-precision GEMM (AVX-512) ---- */

/*
 * C = op(A) op(B), optionally plus a bias row and a ReLU, for the dense layers of a training
 * step (batch 128, widths 10..1024). OpenBLAS is the fallback; this exists because it beats the
 * OpenBLAS kernels a deployment may be configured with (OPENBLAS_CORETYPE=Haswell on an
 * AVX-512 machine: AVX2 kernels at half the width) and because the bias and ReLU are applied
 * while the tile is still in registers. Every element of C is one chain of fused multiply-adds
 * over k = 0 .. K-1 in order, whatever the tiling and the thread count (tiles own whole
 * elements; no split of K), so results do not depend on threads.
 *
 * B is read in place in blocks of 64 columns (B^T is first packed into such panels, [panel][k]
 * [64], zeros past N); A is read in place (element (i, k) at a + i sai + k sak: A or A^T). A tile is up to 6 rows x 4
 * vectors of 16 columns: per k, 4 vector loads of B and 6 broadcasts of A feed 24 FMAs.
 */
#ifdef IP_X86
#define TGT512 __attribute__((target("avx512f,fma")))
enum { GM_NR = 64, GM_MR = 6, GM_ROW_TILES = 8 };

static inline __attribute__((always_inline)) TGT512 void gemm_tile(
    const float *a, int64_t sai, int64_t sak, const float *bp, int64_t sbk, int32_t k, float *c,
    int64_t ldc, int32_t ncols, const float *bias, int32_t relu, const int MR, const int NV) {
  __m512 acc[6][4];
  __mmask16 bm[4];
#pragma GCC unroll 4
  for (int v = 0; v < NV; v++) {
    const int32_t lanes = ncols - 16 * v;
    bm[v] = (__mmask16)(lanes >= 16 ? 0xFFFF : lanes > 0 ? (1u << lanes) - 1 : 0);
  }
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();
  }
  for (int32_t kk = 0; kk < k; kk++) {
    __m512 bv[4];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) bv[v] = _mm512_maskz_loadu_ps(bm[v], bp + kk * sbk + 16 * v);
    const float *ak = a + kk * sak;
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
      const __m512 av = _mm512_set1_ps(ak[i * sai]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
      const int32_t lanes = ncols - 16 * v;
      if (lanes <= 0) continue;
      const __mmask16 m = (__mmask16)(lanes >= 16 ? 0xFFFF : (1u << lanes) - 1);
      __m512 val = acc[i][v];
      if (bias) val = _mm512_add_ps(val, _mm512_maskz_loadu_ps(m, bias + 16 * v));
      if (relu) {
        val = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(val, _mm512_setzero_ps(), _CMP_GT_OQ) |
                                      _mm512_cmp_ps_mask(val, val, _CMP_UNORD_Q),
                                  val);
      }
      _mm512_mask_storeu_ps(c + i * ldc + 16 * v, m, val);
    }
  }
}

static TGT512 void gemm_tile_any(const float *a, int64_t sai, int64_t sak, const float *bp,
                                 int64_t sbk, int32_t k, float *c, int64_t ldc, int32_t ncols,
                                 const float *bias, int32_t relu, int MR, int NV) {
#define X(mr, nv)                                                                \
  case (nv) * 8 + (mr):                                                          \
    gemm_tile(a, sai, sak, bp, sbk, k, c, ldc, ncols, bias, relu, mr, nv);      \
    return;
#define XM(nv) X(1, nv) X(2, nv) X(3, nv) X(4, nv) X(5, nv) X(6, nv)
  switch (NV * 8 + MR) { XM(1) XM(2) XM(3) XM(4) }
#undef XM
#undef X
}

typedef struct {
  int32_t transa, transb, m, n, k, lda, ldb, ldc, relu, panels, row_chunks, pack;
  const float *a, *b, *bias;
  float *c, *packed;
} Gemm;

/* Panel p of op(B) into packed + p K 64 (zeros past N). */
static TGT512 void gemm_pack(const void *ctx, int32_t p, int32_t worker) {
  (void)worker;
  const Gemm *g = (const Gemm *)ctx;
  const int32_t j0 = p * GM_NR, nc = g->n - j0 < GM_NR ? g->n - j0 : GM_NR;
  float *dst = g->packed + (int64_t)p * g->k * GM_NR;
  /* B^T stored [n][k] (or B [k][n] read through a packed panel): gathers of 16 elements */
  const int64_t sj = g->transb ? g->ldb : 1, sk = g->transb ? 1 : g->ldb;
  const __m512i idx = _mm512_mullo_epi32(
      _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
      _mm512_set1_epi32((int32_t)sj));
  for (int v = 0; v < 4; v++) {
    const int32_t lanes = nc - 16 * v;
    const __mmask16 m = (__mmask16)(lanes >= 16 ? 0xFFFF : lanes > 0 ? (1u << lanes) - 1 : 0);
    const float *src = g->b + (j0 + 16 * v) * sj;
    for (int32_t kk = 0; kk < g->k; kk++) {
      const __m512 col = m ? _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, src + kk * sk, 4)
                           : _mm512_setzero_ps();
      _mm512_storeu_ps(dst + (int64_t)kk * GM_NR + 16 * v, col);
    }
  }
}

/* Chunk: panel p x up to GM_ROW_TILES tiles of GM_MR rows. */
static TGT512 void gemm_chunk(const void *ctx, int32_t chunk, int32_t worker) {
  (void)worker;
  const Gemm *g = (const Gemm *)ctx;
  const int32_t p = chunk % g->panels, rc = chunk / g->panels;
  const int32_t j0 = p * GM_NR, nc = g->n - j0 < GM_NR ? g->n - j0 : GM_NR;
  const int32_t nv = (nc + 15) / 16;
  const int64_t sai = g->transa ? 1 : g->lda, sak = g->transa ? g->lda : 1;
  /* op(B) = B is read in place (rows of ldb); B^T was packed into panels of 64 columns */
  const float *bp = g->pack ? g->packed + (int64_t)p * g->k * GM_NR : g->b + j0;
  const int64_t sbk = g->pack ? GM_NR : g->ldb;
  const float *bias = g->bias ? g->bias + j0 : 0;
  const int32_t i0 = rc * GM_ROW_TILES * GM_MR;
  const int32_t i1 = i0 + GM_ROW_TILES * GM_MR < g->m ? i0 + GM_ROW_TILES * GM_MR : g->m;
  for (int32_t i = i0; i < i1; i += GM_MR) {
    const int32_t mr = i1 - i < GM_MR ? i1 - i : GM_MR;
    gemm_tile_any(g->a + i * sai, sai, sak, bp, sbk, g->k, g->c + (int64_t)i * g->ldc + j0,
                  g->ldc, nc, bias, g->relu, mr, nv);
  }
}
#endif

/* Whether ip_gemm runs here (an AVX-512 CPU, and the ISA not capped below 16 lanes). */
int32_t ip_gemm_available(void) {
#ifdef IP_X86
  return ip_direct_isa(0) == 16;
#else
  return 0;
#endif
}

/* Floats of scratch ip_gemm needs for an op(B) with n columns and k rows. */
int64_t ip_gemm_scratch(int32_t transb, int32_t n, int32_t k) {
  (void)transb;
  return (int64_t)((n + 63) / 64) * 64 * (k > 0 ? k : 1);
}

/*
 * c[m, n] (leading dimension ldc) = op(a) op(b), plus bias[n] when flags & 1, then a ReLU when
 * flags & 2 (NaN kept, -0 and below to +0). op(a) is m x k: a is [m][lda] or, transposed,
 * [k][lda]; op(b) is k x n: b is [k][ldb] or, transposed, [n][ldb]. Needs ip_gemm_available().
 */
void ip_gemm(int32_t transa, int32_t transb, int32_t m, int32_t n, int32_t k, const float *a,
             int32_t lda, const float *b, int32_t ldb, float *c, int32_t ldc, const float *bias,
             int32_t flags, int32_t threads, float *scratch) {
#ifdef IP_X86
  if (m <= 0 || n <= 0) return;
  Gemm g = {transa, transb, m, n, k, lda, ldb, ldc, (flags & 2) != 0, (n + GM_NR - 1) / GM_NR,
            0, 0, a, b, (flags & 1) ? bias : 0, c, scratch};
  const int32_t rows = GM_ROW_TILES * GM_MR;
  g.row_chunks = (m + rows - 1) / rows;
  const int64_t work = (int64_t)m * n * (k > 0 ? k : 1);
  /* below ~1 MFLOP a second thread costs more than it saves */
  const int32_t t = work < (1 << 19) ? 1 : threads;
  /* B is read in place unless transposed, or large with rows a multiple of 4 KiB apart (they
     would all compete for the same cache sets) */
  g.pack = transb || ((int64_t)k * n > (1 << 18) && ldb % 1024 == 0);
  if (k > 0 && g.pack) run_parallel(gemm_pack, &g, g.panels, t);
  run_parallel(gemm_chunk, &g, g.panels * g.row_chunks, t);
#else
  (void)transa, (void)transb, (void)m, (void)n, (void)k, (void)a, (void)lda, (void)b, (void)ldb;
  (void)c, (void)ldc, (void)bias, (void)flags, (void)threads, (void)scratch;
#endif
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

#ifdef IP_X86
/* The 2x2 loops above, 16 channels at a time (masked for the last block): the same compares
 * and selections, so the same results. */
static inline TGT512 __m512 max4_z16(__m512 a, __m512 e, __m512 f, __m512 k) {
  __m512 m = _mm512_set1_ps(-__builtin_inff());
  m = _mm512_mask_mov_ps(m, _mm512_cmp_ps_mask(a, m, _CMP_GT_OQ), a);
  m = _mm512_mask_mov_ps(m, _mm512_cmp_ps_mask(e, m, _CMP_GT_OQ), e);
  m = _mm512_mask_mov_ps(m, _mm512_cmp_ps_mask(f, m, _CMP_GT_OQ), f);
  return _mm512_mask_mov_ps(m, _mm512_cmp_ps_mask(k, m, _CMP_GT_OQ), k);
}

static TGT512 void maxpool2x2_z16(const float *x, int32_t n, int32_t oh, int32_t ow, int32_t c,
                                  float *y) {
  const int64_t row = 2 * (int64_t)ow * c;
  for (int64_t r = 0; r < (int64_t)n * oh; r++) {
    const float *r0 = x + 2 * r * row, *r1 = r0 + row;
    float *yr = y + r * ow * c;
    for (int64_t ox = 0; ox < ow; ox++) {
      const float *p0 = r0 + 2 * ox * c, *p1 = r1 + 2 * ox * c;
      for (int32_t d = 0; d < c; d += 16) {
        const __mmask16 l = (__mmask16)(c - d >= 16 ? 0xFFFF : (1u << (c - d)) - 1);
        const __m512 m = max4_z16(_mm512_maskz_loadu_ps(l, p0 + d), _mm512_maskz_loadu_ps(l, p0 + c + d),
                                  _mm512_maskz_loadu_ps(l, p1 + d), _mm512_maskz_loadu_ps(l, p1 + c + d));
        _mm512_mask_storeu_ps(yr + ox * c + d, l, m);
      }
    }
  }
}

static TGT512 void maxpool_grad2x2_z16(const float *x, const float *dy, int32_t n, int32_t oh,
                                       int32_t ow, int32_t c, float *dx) {
  const int64_t row = 2 * (int64_t)ow * c;
  for (int64_t r = 0; r < (int64_t)n * oh; r++) {
    const int64_t o0 = 2 * r * row, o1 = o0 + row;
    const float *dyr = dy + r * ow * c;
    for (int64_t ox = 0; ox < ow; ox++) {
      const int64_t i0 = o0 + 2 * ox * c, i2 = o1 + 2 * ox * c;
      for (int32_t d = 0; d < c; d += 16) {
        const __mmask16 l = (__mmask16)(c - d >= 16 ? 0xFFFF : (1u << (c - d)) - 1);
        const __m512 a = _mm512_maskz_loadu_ps(l, x + i0 + d);
        const __m512 e = _mm512_maskz_loadu_ps(l, x + i0 + c + d);
        const __m512 f = _mm512_maskz_loadu_ps(l, x + i2 + d);
        const __m512 k = _mm512_maskz_loadu_ps(l, x + i2 + c + d);
        const __m512 m = max4_z16(a, e, f, k);
        const __m512 g = _mm512_maskz_loadu_ps(l, dyr + ox * c + d);
        /* a window of NaN only has no hit, and its dx stays +0 */
        const __mmask16 h0 = _mm512_cmp_ps_mask(a, m, _CMP_EQ_OQ);
        const __mmask16 h1 = (__mmask16)(~h0 & _mm512_cmp_ps_mask(e, m, _CMP_EQ_OQ));
        const __mmask16 h2 = (__mmask16)(~(h0 | h1) & _mm512_cmp_ps_mask(f, m, _CMP_EQ_OQ));
        const __mmask16 h3 = (__mmask16)(~(h0 | h1 | h2) & _mm512_cmp_ps_mask(k, m, _CMP_EQ_OQ));
        _mm512_mask_storeu_ps(dx + i0 + d, l, _mm512_maskz_mov_ps(h0, g));
        _mm512_mask_storeu_ps(dx + i0 + c + d, l, _mm512_maskz_mov_ps(h1, g));
        _mm512_mask_storeu_ps(dx + i2 + d, l, _mm512_maskz_mov_ps(h2, g));
        _mm512_mask_storeu_ps(dx + i2 + c + d, l, _mm512_maskz_mov_ps(h3, g));
      }
    }
  }
}
#endif

/* [lo, hi) of the input rows (or columns) under window o: stride s, padding before pad, size f,
 * clipped to the input's n rows. */
static inline void window_span(int32_t o, int32_t s, int32_t pad, int32_t f, int32_t n,
                               int32_t *lo, int32_t *hi) {
  const int32_t start = o * s - pad;
  *lo = start < 0 ? 0 : start;
  *hi = start + f > n ? n : start + f;
}

/* maxpool over n images (see ip_maxpool). */
HOT static void maxpool_images(const float *x, int32_t n, int32_t h, int32_t w, int32_t c,
                               int32_t oh, int32_t ow, int32_t fh, int32_t fw, int32_t sh,
                               int32_t sw, int32_t top, int32_t left, float *y) {
  if (tiles2x2(h, w, oh, ow, fh, fw, sh, sw, top, left)) {
#ifdef IP_X86
    if (ip_direct_isa(0) == 16) return maxpool2x2_z16(x, n, oh, ow, c, y);
#endif
    return maxpool2x2(x, n, oh, ow, c, y);
  }
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

/* maxpool_grad over n images (see ip_maxpool_grad). */
HOT static void maxpool_grad_images(const float *x, const float *dy, int32_t n, int32_t h,
                                    int32_t w, int32_t c, int32_t oh, int32_t ow, int32_t fh,
                                    int32_t fw, int32_t sh, int32_t sw, int32_t top, int32_t left,
                                    float *dx) {
  if (tiles2x2(h, w, oh, ow, fh, fw, sh, sw, top, left)) {
#ifdef IP_X86
    if (ip_direct_isa(0) == 16) return maxpool_grad2x2_z16(x, dy, n, oh, ow, c, dx);
#endif
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


/* ---- the pooling and ReLU-gradient kernels on the pool of helpers ---- */

typedef struct {
  const float *x, *dy;
  int32_t n, h, w, c, oh, ow, fh, fw, sh, sw, top, left, per;
  float *out;
} PoolJob;

enum { POOL_CHUNKS = 16 };

static int32_t chunk_images(int32_t n) {
  const int32_t chunks = n < POOL_CHUNKS ? n : POOL_CHUNKS;
  return chunks > 0 ? (n + chunks - 1) / chunks : 1;
}

static void maxpool_task(const void *ctx, int32_t ch, int32_t worker) {
  (void)worker;
  const PoolJob *j = (const PoolJob *)ctx;
  const int32_t b0 = ch * j->per, nb = j->n - b0 < j->per ? j->n - b0 : j->per;
  maxpool_images(j->x + (int64_t)b0 * j->h * j->w * j->c, nb, j->h, j->w, j->c, j->oh, j->ow,
                 j->fh, j->fw, j->sh, j->sw, j->top, j->left,
                 j->out + (int64_t)b0 * j->oh * j->ow * j->c);
}

static void maxpool_grad_task(const void *ctx, int32_t ch, int32_t worker) {
  (void)worker;
  const PoolJob *j = (const PoolJob *)ctx;
  const int32_t b0 = ch * j->per, nb = j->n - b0 < j->per ? j->n - b0 : j->per;
  const int64_t in = (int64_t)b0 * j->h * j->w * j->c;
  maxpool_grad_images(j->x + in, j->dy + (int64_t)b0 * j->oh * j->ow * j->c, nb, j->h, j->w,
                      j->c, j->oh, j->ow, j->fh, j->fw, j->sh, j->sw, j->top, j->left,
                      j->out + in);
}

/* y = max over each window; the first maximum wins and NaN never does (-inf if none). Images
 * run on up to `threads` threads. */
void ip_maxpool(const float *x, int32_t n, int32_t h, int32_t w, int32_t c, int32_t oh,
                int32_t ow, int32_t fh, int32_t fw, int32_t sh, int32_t sw, int32_t top,
                int32_t left, int32_t threads, float *y) {
  const PoolJob j = {x, 0, n, h, w, c, oh, ow, fh, fw, sh, sw, top, left, chunk_images(n), y};
  run_parallel(maxpool_task, &j, (n + j.per - 1) / j.per, threads);
}

/* dx of ip_maxpool: each window's dy goes to its first maximum (none if the window has none). */
void ip_maxpool_grad(const float *x, const float *dy, int32_t n, int32_t h, int32_t w, int32_t c,
                     int32_t oh, int32_t ow, int32_t fh, int32_t fw, int32_t sh, int32_t sw,
                     int32_t top, int32_t left, int32_t threads, float *dx) {
  const PoolJob j = {x, dy, n, h, w, c, oh, ow, fh, fw, sh, sw, top, left, chunk_images(n), dx};
  run_parallel(maxpool_grad_task, &j, (n + j.per - 1) / j.per, threads);
}

/* ---- element-wise and reductions ---- */

/* dx = dy * step(x): step is 1 for x > 0, 0 otherwise, NaN for NaN (as tf.mul(dy, tf.step(x))). */
HOT static void relu_grad_range(const float *dy, const float *x, int64_t n, float *dx) {
  for (int64_t i = 0; i < n; i++) {
    const float v = x[i];
    const float s = v > 0.0f ? 1.0f : 0.0f;
    dx[i] = dy[i] * (v != v ? v : s);
  }
}

typedef struct {
  const float *dy, *x;
  int64_t n, per;
  float *dx;
} ReluJob;

static void relu_grad_task(const void *ctx, int32_t ch, int32_t worker) {
  (void)worker;
  const ReluJob *j = (const ReluJob *)ctx;
  const int64_t i0 = ch * j->per, m = j->n - i0 < j->per ? j->n - i0 : j->per;
  relu_grad_range(j->dy + i0, j->x + i0, m, j->dx + i0);
}

/* dx = dy * step(x), in chunks of 64K elements on up to `threads` threads. */
void ip_relu_grad(const float *dy, const float *x, int32_t n, int32_t threads, float *dx) {
  const ReluJob j = {dy, x, n, 1 << 16, dx};
  run_parallel(relu_grad_task, &j, (int32_t)((n + j.per - 1) / j.per), threads);
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

/*
 * Direct stride-1 convolutions (NHWC) for one vector ISA: included by kernels.c once per ISA with
 * SFX (name suffix), TGT (target attribute), VL (lanes), VT (vector type), the V_* operations
 * and the tile lists FWD_TILES / FLT_TILES defined. See kernels.c ("direct convolutions") for
 * the layouts and the order of the sums, which is the same for every ISA (and for the scalar
 * twin): each output element is one chain of fused multiply-adds in a fixed order, so AVX-512,
 * AVX2 and scalar builds give the same bits.
 */

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SFX)
/* Output rows the filter gradient sums in registers before adding them into its part. */
#define FLT_ROWS 4

/*
 * P output pixels of one row x NV vectors of output channels: acc[p][v] = sum over the nky input
 * rows r and the run t = kx cin + c of src[r rstride + p cin + t] * w[(r run + t) gw + v VL].
 * Then bias, ReLU and a store of the group's nco channels at dst + p cout.
 */
static inline __attribute__((always_inline)) TGT void FN(fwd_tile)(
    const float *src, int64_t rstride, int32_t nky, int32_t run, int32_t cin, const float *w,
    int32_t gw, const float *bias, int32_t relu, int32_t nco, float *dst, int32_t cout,
    const int P, const int NV) {
  VT acc[24][2];
#pragma GCC unroll 32
  for (int p = 0; p < P; p++) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) acc[p][v] = V_ZERO();
  }
  for (int32_t r = 0; r < nky; r++) {
    const float *s = src + r * rstride;
    const float *wr = w + (int64_t)r * run * gw;
    for (int32_t t = 0; t < run; t++) {
      VT wv[2];
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) wv[v] = V_LOAD(wr + (int64_t)t * gw + v * VL);
#pragma GCC unroll 32
      for (int p = 0; p < P; p++) {
        const VT xb = V_BCAST(s + p * cin + t);
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) acc[p][v] = V_FMA(xb, wv[v], acc[p][v]);
      }
    }
  }
#pragma GCC unroll 32
  for (int p = 0; p < P; p++) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
      const int32_t lanes = nco - v * VL;
      if (lanes <= 0) continue;
      VT val = acc[p][v];
      if (bias) val = V_ADD(val, V_LOAD(bias + v * VL));
      if (relu) val = V_RELU(val);
      V_STOREM(dst + (int64_t)p * cout + v * VL, val, lanes);
    }
  }
}

static TGT void FN(fwd_row)(const float *src, int64_t rstride, int32_t nky, int32_t run,
                            int32_t cin, const float *w, int32_t gw, const float *bias,
                            int32_t relu, int32_t nco, float *dst, int32_t cout, int P, int NV) {
#define X(p, nv)                                                                           \
  case (nv) * 64 + (p):                                                                    \
    FN(fwd_tile)(src, rstride, nky, run, cin, w, gw, bias, relu, nco, dst, cout, p, nv); \
    return;
  switch (NV * 64 + P) { FWD_TILES(X) }
#undef X
}

/*
 * T consecutive patch entries (one run of a filter row) x NV vectors of output channels of the
 * filter gradient, accumulated over nrows x ow output pixels: part[t][v] += sum over pixels of
 * xs[r xrow + ox cin + t] * dy[(r ow + ox) cout + v VL], FLT_ROWS rows at a time.
 */
static inline __attribute__((always_inline)) TGT void FN(flt_tile)(
    const float *xs, int64_t xrow, int32_t cin, const float *dys, int32_t nrows, int32_t ow,
    int32_t cout, int32_t nco, float *part, const int T, const int NV) {
  /* a few rows at a time, added into part: short chains of FMAs (as accurate as sgemm's) */
  for (int32_t r0 = 0; r0 < nrows; r0 += FLT_ROWS) {
    const int32_t r1 = r0 + FLT_ROWS < nrows ? r0 + FLT_ROWS : nrows;
    VT acc[24][2];
#pragma GCC unroll 32
    for (int t = 0; t < T; t++) {
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) acc[t][v] = V_ZERO();
    }
    for (int32_t r = r0; r < r1; r++) {
      const float *s = xs + r * xrow;
      const float *d = dys + (int64_t)r * ow * cout;
      for (int32_t ox = 0; ox < ow; ox++) {
        VT dv[2];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
          const int32_t lanes = nco - v * VL;
          dv[v] = lanes > 0 ? V_LOADM(d + (int64_t)ox * cout + v * VL, lanes) : V_ZERO();
        }
        const float *so = s + (int64_t)ox * cin;
#pragma GCC unroll 32
        for (int t = 0; t < T; t++) {
          const VT xb = V_BCAST(so + t);
#pragma GCC unroll 4
          for (int v = 0; v < NV; v++) acc[t][v] = V_FMA(xb, dv[v], acc[t][v]);
        }
      }
    }
#pragma GCC unroll 32
    for (int t = 0; t < T; t++) {
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) {
        const int32_t lanes = nco - v * VL;
        if (lanes <= 0) continue;
        float *q = part + (int64_t)t * cout + v * VL;
        V_STOREM(q, V_ADD(V_LOADM(q, lanes), acc[t][v]), lanes);
      }
    }
  }
}

static TGT void FN(flt_run)(const float *xs, int64_t xrow, int32_t cin, const float *dys,
                            int32_t nrows, int32_t ow, int32_t cout, int32_t nco, float *part,
                            int T, int NV) {
#define X(t, nv)                                                                      \
  case (nv) * 64 + (t):                                                               \
    FN(flt_tile)(xs, xrow, cin, dys, nrows, ow, cout, nco, part, t, nv);            \
    return;
  switch (NV * 64 + T) { FLT_TILES(X) }
#undef X
}

/* One image of a sweep (forward, or the input gradient as a forward sweep over dy). */
static TGT void FN(sweep_image)(const Sweep *s, int32_t b, int32_t worker) {
  const int64_t rstride = (int64_t)s->wpad * s->cin;
  const float *img = padded_rows(s->in + (int64_t)b * s->hin * s->win * s->cin, s->hin, s->win,
                                 s->cin, s->left, s->wpad, worker_scratch(s, worker));
  /* with a pooling epilogue the image's activations only live in the worker's scratch */
  float *out = s->pooled ? worker_scratch(s, worker) + s->pad_floats
                         : s->out + (int64_t)b * s->oh * s->ow * s->cout;
  const int32_t run = s->fw * s->cin, nv = s->nv, gw = nv * VL;
  const int32_t pmax = nv == 1 ? FWD_PMAX1 : FWD_PMAX2;
  const int32_t blocks = (s->ow + pmax - 1) / pmax, pb = (s->ow + blocks - 1) / blocks;
  const int64_t kg = (int64_t)s->fh * run * gw; /* packed floats per group */
  for (int32_t grp = 0; grp < s->groups; grp++) {
    const int32_t c0 = grp * gw, nco = s->cout - c0 < gw ? s->cout - c0 : gw;
    const float *wg = s->wpk + grp * kg;
    const float *bg = s->bias ? s->bias + c0 : 0;
    for (int32_t oy = 0; oy < s->oh; oy++) {
      int32_t ky0, ky1;
      rows_in_range(oy, s->top, s->fh, s->hin, &ky0, &ky1);
      const float *src = img + (int64_t)(oy + ky0 - s->top) * rstride;
      const float *wk = wg + (int64_t)ky0 * run * gw;
      float *dst = out + (int64_t)oy * s->ow * s->cout + c0;
      for (int32_t ox = 0; ox < s->ow; ox += pb) {
        const int32_t p = s->ow - ox < pb ? s->ow - ox : pb;
        FN(fwd_row)(src + (int64_t)ox * s->cin, rstride, ky1 - ky0, run, s->cin, wk, gw, bg,
                    s->relu, nco, dst + (int64_t)ox * s->cout, s->cout, p, nv);
      }
    }
  }
  if (s->pooled) {
    const int64_t pooled = (int64_t)b * (s->oh / 2) * (s->ow / 2) * s->cout;
    pool_codes(out, s->oh / 2, s->ow / 2, s->cout, s->pooled + pooled, s->codes + pooled);
  }
}

/* Chunk c of the filter gradient: its images' contributions, in order, into parts[c]. */
static TGT void FN(filter_chunk)(const FilterSweep *f, int32_t c, int32_t worker) {
  const int32_t b0 = c * f->per, b1 = b0 + f->per < f->n ? b0 + f->per : f->n;
  const int32_t run = f->fw * f->ci, nv = f->nv, gw = nv * VL;
  const int32_t tmax = nv == 1 ? FLT_TMAX1 : FLT_TMAX2;
  const int32_t blocks = (run + tmax - 1) / tmax, tb = (run + blocks - 1) / blocks;
  const int64_t k = (int64_t)f->fh * run;
  float *part = f->parts + (int64_t)c * k * f->co;
  memset(part, 0, sizeof(float) * (size_t)(k * f->co));
  const int64_t xrow = (int64_t)f->wpad * f->ci;
  for (int32_t b = b0; b < b1; b++) {
    const float *img = padded_rows(f->x + (int64_t)b * f->h * f->w * f->ci, f->h, f->w, f->ci,
                                   f->left, f->wpad, f->scratch + (int64_t)worker * f->per_worker);
    const float *dyb = f->dy + (int64_t)b * f->oh * f->ow * f->co;
    for (int32_t ky = 0; ky < f->fh; ky++) {
      /* output rows whose input row oy + ky - top is inside the image */
      int32_t oy0 = f->top - ky, oy1 = f->h + f->top - ky;
      if (oy0 < 0) oy0 = 0;
      if (oy1 > f->oh) oy1 = f->oh;
      if (oy1 <= oy0) continue;
      const float *xs = img + (int64_t)(oy0 + ky - f->top) * xrow;
      const float *dys = dyb + (int64_t)oy0 * f->ow * f->co;
      for (int32_t grp = 0; grp * gw < f->co; grp++) {
        const int32_t c0 = grp * gw, nco = f->co - c0 < gw ? f->co - c0 : gw;
        for (int32_t t0 = 0; t0 < run; t0 += tb) {
          const int32_t t = run - t0 < tb ? run - t0 : tb;
          FN(flt_run)(xs + t0, xrow, f->ci, dys + c0, oy1 - oy0, f->ow, f->co, nco,
                      part + ((int64_t)ky * run + t0) * f->co + c0, t, nv);
        }
      }
    }
  }
}


#ifdef DOT_TILES
/*
 * P output pixels x C output channels of a sweep whose *input* channels are the vector axis
 * (few output channels, many input channels: conv2's input gradient in LeNet). Each accumulator
 * is 16 logical lanes (16 / VL registers): lane o sums, over the patch entries (r, kx) and the
 * blocks b of 16 input channels in that order, in[p][b 16 + o] * wd[(r fw + kx)][c][b 16 + o];
 * the 16 lanes are then folded in the fixed tree of fold16 (o + o+8, + o+4, + o+2, + o+1).
 */
static inline __attribute__((always_inline)) TGT void FN(dot_tile)(
    const float *src, int64_t rstride, int32_t nky, int32_t fw, int32_t cin, int32_t nb,
    const float *wd, int32_t kstride, int32_t nco, float *dst, int32_t cout, const int P,
    const int C) {
  enum { U = 16 / VL };
  VT acc[8][8][U];
#pragma GCC unroll 8
  for (int p = 0; p < P; p++) {
#pragma GCC unroll 8
    for (int c = 0; c < C; c++) {
#pragma GCC unroll 16
      for (int u = 0; u < U; u++) acc[p][c][u] = V_ZERO();
    }
  }
  for (int32_t r = 0; r < nky; r++) {
    for (int32_t kx = 0; kx < fw; kx++) {
      const float *s = src + r * rstride + (int64_t)kx * cin;
      const float *w = wd + ((int64_t)r * fw + kx) * kstride;
      for (int32_t b = 0; b < nb; b++) {
        const int32_t left = cin - b * 16;
        VT xin[8][U];
#pragma GCC unroll 8
        for (int p = 0; p < P; p++) {
#pragma GCC unroll 16
          for (int u = 0; u < U; u++) {
            const int32_t lanes = left - u * VL;
            xin[p][u] = lanes >= VL ? V_LOAD(s + (int64_t)p * cin + b * 16 + u * VL)
                        : lanes > 0 ? V_LOADM(s + (int64_t)p * cin + b * 16 + u * VL, lanes)
                                    : V_ZERO();
          }
        }
#pragma GCC unroll 8
        for (int c = 0; c < C; c++) {
#pragma GCC unroll 16
          for (int u = 0; u < U; u++) {
            const VT wv = V_LOAD(w + ((int64_t)c * nb + b) * 16 + u * VL);
#pragma GCC unroll 8
            for (int p = 0; p < P; p++) acc[p][c][u] = V_FMA(xin[p][u], wv, acc[p][c][u]);
          }
        }
      }
    }
  }
#ifdef FOLD16X16
  /* sixteen accumulators folded at once (the same tree, fewer shuffles per result) */
  float res[64];
  {
    VT v[16];
    int n = 0;
#pragma GCC unroll 8
    for (int p = 0; p < P; p++) {
#pragma GCC unroll 8
      for (int c = 0; c < C; c++) {
        v[n % 16] = acc[p][c][0];
        n++;
        if (n % 16 == 0) FOLD16X16(v, res + n - 16);
      }
    }
    if (n % 16) {
#pragma GCC unroll 16
      for (int k = n % 16; k < 16; k++) v[k] = V_ZERO();
      FOLD16X16(v, res + n - n % 16);
    }
  }
#pragma GCC unroll 8
  for (int p = 0; p < P; p++) {
#pragma GCC unroll 8
    for (int c = 0; c < C; c++) {
      if (c < nco) dst[(int64_t)p * cout + c] = res[p * C + c];
    }
  }
#else
#pragma GCC unroll 8
  for (int p = 0; p < P; p++) {
#pragma GCC unroll 8
    for (int c = 0; c < C; c++) {
      if (c < nco) dst[(int64_t)p * cout + c] = FN(fold16)(acc[p][c]);
    }
  }
#endif
}

static TGT void FN(dot_row)(const float *src, int64_t rstride, int32_t nky, int32_t fw,
                            int32_t cin, int32_t nb, const float *wd, int32_t kstride,
                            int32_t nco, float *dst, int32_t cout, int P, int C) {
#define X(p, c)                                                                          \
  case (c) * 64 + (p):                                                                   \
    FN(dot_tile)(src, rstride, nky, fw, cin, nb, wd, kstride, nco, dst, cout, p, c);   \
    return;
  switch (C * 64 + P) { DOT_TILES(X) }
#undef X
}

/* One image of a "dot" sweep (see dot_tile). */
static TGT void FN(dot_image)(const Sweep *s, int32_t b, int32_t worker) {
  const int64_t rstride = (int64_t)s->wpad * s->cin;
  const float *img = padded_rows(s->in + (int64_t)b * s->hin * s->win * s->cin, s->hin, s->win,
                                 s->cin, s->left, s->wpad, worker_scratch(s, worker));
  float *out = s->out + (int64_t)b * s->oh * s->ow * s->cout;
  const int32_t C = s->dot_c, pmax = FN(dot_pmax)(C), nb = (s->cin + 15) / 16;
  const int32_t kstride = C * nb * 16;
  const int32_t blocks = (s->ow + pmax - 1) / pmax, pb = (s->ow + blocks - 1) / blocks;
  for (int32_t oy = 0; oy < s->oh; oy++) {
    int32_t ky0, ky1;
    rows_in_range(oy, s->top, s->fh, s->hin, &ky0, &ky1);
    const float *src = img + (int64_t)(oy + ky0 - s->top) * rstride;
    const float *wk = s->wpk + (int64_t)ky0 * s->fw * kstride;
    float *dst = out + (int64_t)oy * s->ow * s->cout;
    for (int32_t ox = 0; ox < s->ow; ox += pb) {
      const int32_t p = s->ow - ox < pb ? s->ow - ox : pb;
      FN(dot_row)(src + (int64_t)ox * s->cin, rstride, ky1 - ky0, s->fw, s->cin, nb, wk,
                  kstride, s->cout, dst + (int64_t)ox * s->cout, s->cout, p, C);
    }
  }
}

static void FN(dot_task)(const void *ctx, int32_t b, int32_t worker) {
  FN(dot_image)((const Sweep *)ctx, b, worker);
}
#endif

static void FN(sweep_task)(const void *ctx, int32_t b, int32_t worker) {
  FN(sweep_image)((const Sweep *)ctx, b, worker);
}

static void FN(filter_task)(const void *ctx, int32_t c, int32_t worker) {
  FN(filter_chunk)((const FilterSweep *)ctx, c, worker);
}

#undef FN
#undef FLT_ROWS
#undef CAT
#undef CAT_

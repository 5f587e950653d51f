/*
 * deform_conv2d forward and backward on channelsLast tensors, the algorithm of
 * kernels/reference/deform_conv2d.ts (read it first): chunks of output
 * positions, a column buffer per chunk (bilinear samples in f32x4 lanes over
 * contiguous channels), and register-tiled f32x4 GEMMs (ported from the
 * AssemblyScript kernel it replaced, with its float operations in its order).
 *
 * Samples one at a time: the chunks restart at each sample (a chunk never
 * spans two), so a sample's results do not depend on the other samples or on
 * how the batch is cut. The header's batch is the samples of this call, and
 * x, offset, mask, dy and the per-sample outputs may start at any sample: the
 * TensorFlow op library (kernels/tensorflow/native/vision_call.cc, kSplitRules)
 * runs shares of the batch on several threads that way. dWeight is the sum in
 * sample order of per-sample partials, each from zero over its own chunks:
 * dW = ((p0 + p1) + p2) + ...; the op library adds the partials of calls of
 * one sample each in the same order, so the bits are the same for any split
 * (and on wasm, one thread).
 *
 * The caller (kernels/wasm/DeformConv2d.ts) passes `scratch`: a header of
 * DEFORM_HEADER_WORDS int32 (the geometry), then
 *   forward:  zero[C] (padded to 4), col[chunk K]
 *   backward: zero[C], sink[C], sums[4], col[chunk K], dcol[chunk K], wt[Cout Kg],
 *             part[Cout Kg] (the partial dW of samples 1, 2, ...)
 * (C channels, K = C KH KW, Kg = K / groups). Corners outside the map read
 * `zero` and (backward) write `sink`, so the channel loops have no branches.
 * Every float is range-checked before it becomes an index.
 */
#include "vision_ops.h"

/** dW's GEMM runs over this many positions at a time (its A block stays in cache). */
#define WEIGHT_GRAD_ROWS 128

INLINE int32_t padded(int32_t n) { return (n + 3) & ~3; }
INLINE int32_t mini(int32_t a, int32_t b) { return a < b ? a : b; }

/** dst[i] = dst[i] + src[i] for i < n (f32x4, then the tail: the same bits as one at a time). */
INLINE void add_words(float *dst, const float *src, int32_t n) {
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) store4(dst + i, load4(dst + i) + load4(src + i));
  for (; i < n; i++) dst[i] = dst[i] + src[i];
}

INLINE float hsum(f32x4 v) { return (v[0] + v[1]) + (v[2] + v[3]); }

/* --- GEMM: C[m, n] (+)= sum_t A[m ams + t ats] B[t bts + n] (element strides, B rows contiguous) --- */

INLINE void tile4x8(const float *a, int32_t ams, int32_t ats, const float *b, int32_t bts, float *c,
                    int32_t cs, int32_t T, int add) {
  f32x4 c00 = splat4(0), c01 = splat4(0), c10 = splat4(0), c11 = splat4(0);
  f32x4 c20 = splat4(0), c21 = splat4(0), c30 = splat4(0), c31 = splat4(0);
  const float *ap = a, *bp = b;
  for (int32_t t = 0; t < T; t++) {
    const f32x4 b0 = load4(bp), b1 = load4(bp + 4);
    f32x4 av = splat4(ap[0]);
    c00 = c00 + av * b0;
    c01 = c01 + av * b1;
    av = splat4(ap[ams]);
    c10 = c10 + av * b0;
    c11 = c11 + av * b1;
    av = splat4(ap[2 * ams]);
    c20 = c20 + av * b0;
    c21 = c21 + av * b1;
    av = splat4(ap[3 * ams]);
    c30 = c30 + av * b0;
    c31 = c31 + av * b1;
    ap += ats;
    bp += bts;
  }
  if (add) {
    c00 = c00 + load4(c);
    c01 = c01 + load4(c + 4);
    c10 = c10 + load4(c + cs);
    c11 = c11 + load4(c + cs + 4);
    c20 = c20 + load4(c + 2 * cs);
    c21 = c21 + load4(c + 2 * cs + 4);
    c30 = c30 + load4(c + 3 * cs);
    c31 = c31 + load4(c + 3 * cs + 4);
  }
  store4(c, c00);
  store4(c + 4, c01);
  store4(c + cs, c10);
  store4(c + cs + 4, c11);
  store4(c + 2 * cs, c20);
  store4(c + 2 * cs + 4, c21);
  store4(c + 3 * cs, c30);
  store4(c + 3 * cs + 4, c31);
}

/** One row of C, columns [n0, n0 + 4 w) in w vectors (w = 1 or 2), or n0 alone when w = 0. */
INLINE void tile_row(const float *a, int32_t ats, const float *b, int32_t bts, float *c, int32_t T, int add,
                     int w) {
  const float *ap = a, *bp = b;
  if (w == 0) {
    float s = 0;
    for (int32_t t = 0; t < T; t++) {
      s += ap[0] * bp[0];
      ap += ats;
      bp += bts;
    }
    c[0] = add ? c[0] + s : s;
    return;
  }
  f32x4 c0 = splat4(0), c1 = splat4(0);
  for (int32_t t = 0; t < T; t++) {
    const f32x4 av = splat4(ap[0]);
    c0 = c0 + av * load4(bp);
    if (w == 2) c1 = c1 + av * load4(bp + 4);
    ap += ats;
    bp += bts;
  }
  if (add) c0 = c0 + load4(c);
  store4(c, c0);
  if (w == 2) store4(c + 4, add ? c1 + load4(c + 4) : c1);
}


/* Columns [n, N) of one row of C: 4 at a time, then one at a time. */
INLINE void row_tail(const float *ar, int32_t ats, const float *b, int32_t bts, float *cr, int32_t T, int add,
                     int32_t n, int32_t N) {
  for (; n + 4 <= N; n += 4) {
    float *cn = cr + n;
    OPAQUE(cn);
    tile_row(ar, ats, b + n, bts, cn, T, add, 1);
  }
  for (; n < N; n++) {
    float *cn = cr + n;
    OPAQUE(cn);
    tile_row(ar, ats, b + n, bts, cn, T, add, 0);
  }
}

INLINE void gemm_body(const float *a, int32_t ams, int32_t ats, const float *b, int32_t bts, float *c,
                      int32_t cs, int32_t M, int32_t N, int32_t T, int add) {
  int32_t m = 0;
  for (; m + 4 <= M; m += 4) {
    const float *am = a + m * ams;
    float *cm = c + m * cs;
    int32_t n = 0;
    for (; n + 8 <= N; n += 8) {
      float *cn = cm + n;
      OPAQUE(cn);
      tile4x8(am, ams, ats, b + n, bts, cn, cs, T, add);
    }
    for (int32_t r = 0; r < 4; r++) row_tail(am + r * ams, ats, b, bts, cm + r * cs, T, add, n, N);
  }
  for (; m < M; m++) {
    const float *am = a + m * ams;
    float *cm = c + m * cs;
    int32_t n = 0;
    for (; n + 8 <= N; n += 8) {
      float *cn = cm + n;
      OPAQUE(cn);
      tile_row(am, ats, b + n, bts, cn, T, add, 2);
    }
    row_tail(am, ats, b, bts, cm, T, add, n, N);
  }
}

/*
 * C = A B and C += A B: one specialised copy each. Natively inlined into the
 * exports, so that an export's AVX2 clone (vision_ops.h) covers its GEMMs
 * (about 25% faster); on wasm called (smaller, and as fast).
 */
#ifdef __wasm__
#define GEMM_FN static
#else
#define GEMM_FN INLINE
#endif
GEMM_FN void gemm_set(const float *a, int32_t ams, int32_t ats, const float *b, int32_t bts, float *c,
                      int32_t cs, int32_t M, int32_t N, int32_t T) {
  gemm_body(a, ams, ats, b, bts, c, cs, M, N, T, 0);
}
GEMM_FN void gemm_add(const float *a, int32_t ams, int32_t ats, const float *b, int32_t bts, float *c,
                      int32_t cs, int32_t M, int32_t N, int32_t T) {
  gemm_body(a, ams, ats, b, bts, c, cs, M, N, T, 1);
}

/* --- sampling -------------------------------------------------------------------------------- */

/** The geometry header, read once. */
typedef struct {
  int32_t batch, height, width, channels, out_height, out_width, out_channels, kh, kw;
  int32_t stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, groups, offset_groups, use_mask, chunk;
} Geometry;

INLINE Geometry read_header(const int32_t *h) {
  Geometry g;
  g.batch = h[DEFORM_BATCH];
  g.height = h[DEFORM_HEIGHT];
  g.width = h[DEFORM_WIDTH];
  g.channels = h[DEFORM_CHANNELS];
  g.out_height = h[DEFORM_OUT_HEIGHT];
  g.out_width = h[DEFORM_OUT_WIDTH];
  g.out_channels = h[DEFORM_OUT_CHANNELS];
  g.kh = h[DEFORM_KERNEL_HEIGHT];
  g.kw = h[DEFORM_KERNEL_WIDTH];
  g.stride_h = h[DEFORM_STRIDE_H];
  g.stride_w = h[DEFORM_STRIDE_W];
  g.pad_h = h[DEFORM_PAD_H];
  g.pad_w = h[DEFORM_PAD_W];
  g.dilation_h = h[DEFORM_DILATION_H];
  g.dilation_w = h[DEFORM_DILATION_W];
  g.groups = h[DEFORM_GROUPS];
  g.offset_groups = h[DEFORM_OFFSET_GROUPS];
  g.use_mask = h[DEFORM_USE_MASK];
  g.chunk = h[DEFORM_CHUNK];
  return g;
}

/** Integer base of a sample coordinate, o s - pad + k d with int32 wrap-around (AssemblyScript i32). */
INLINE float base_coord(int32_t o, int32_t s, int32_t pad, int32_t k, int32_t d) {
  return (float)(int32_t)((uint32_t)o * (uint32_t)s - (uint32_t)pad + (uint32_t)k * (uint32_t)d);
}

/**
 * Pointer to channel 0 of pixel (y0, x0) of image b when inside the map,
 * else `fallback`. fy, fx are floors as floats (any finite value).
 */
INLINE const float *pixel(const float *base, const float *fallback, int32_t b, float fy, float fx, int32_t height,
                          int32_t width, int32_t channels) {
  if (!(fy >= 0 && fy < (float)height && fx >= 0 && fx < (float)width)) return fallback;
  return base + ((b * height + (int32_t)fy) * width + (int32_t)fx) * channels;
}
INLINE float *pixel_mut(float *base, float *fallback, int32_t b, float fy, float fx, int32_t height, int32_t width,
                        int32_t channels) {
  if (!(fy >= 0 && fy < (float)height && fx >= 0 && fx < (float)width)) return fallback;
  return base + ((b * height + (int32_t)fy) * width + (int32_t)fx) * channels;
}

/** col[c] = m (w00 v00 + w01 v01 + w10 v10 + w11 v11) for c in [c0, c1) (4 lanes, then a tail). */
INLINE void column_segment(float *dst, int32_t c0, int32_t c1, float m, const float *p00, const float *p01,
                           const float *p10, const float *p11, float w00, float w01, float w10, float w11) {
  const f32x4 mv = splat4(m);
  const f32x4 a = splat4(w00), b = splat4(w01), c = splat4(w10), d = splat4(w11);
  int32_t ch = c0;
  for (; ch + 4 <= c1; ch += 4) {
    f32x4 v = a * load4(p00 + ch);
    v = v + b * load4(p01 + ch);
    v = v + c * load4(p10 + ch);
    v = v + d * load4(p11 + ch);
    store4(dst + ch, mv * v);
  }
  for (; ch < c1; ch++) {
    const float v = w00 * p00[ch] + w01 * p01[ch] + w10 * p10[ch] + w11 * p11[ch];
    dst[ch] = m * v;
  }
}

/** The columns of positions [p0, p1) (layout in the reference). */
static void sample_columns(const int32_t *h, const float *x, const float *offset, const float *mask, float *col,
                           const float *zero, int32_t p0, int32_t p1) {
  const Geometry g = read_header(h);
  const int32_t height = g.height, width = g.width, channels = g.channels;
  const int32_t kh = g.kh, kw = g.kw, kk = kh * kw, row_length = channels * kk;
  const int32_t groups = g.groups, offset_groups = g.offset_groups, use_mask = g.use_mask != 0;
  const int32_t cg = channels / groups, cog = channels / offset_groups, per_image = g.out_height * g.out_width;
  const float fh = (float)height, fw = (float)width;
  for (int32_t p = p0; p < p1; p++) {
    const int32_t b = p / per_image;
    float *row = col + (p - p0) * row_length;
    const int32_t ox = p % g.out_width, oy = (p / g.out_width) % g.out_height;
    for (int32_t og = 0; og < offset_groups; og++) {
      for (int32_t i = 0; i < kh; i++) {
        for (int32_t j = 0; j < kw; j++) {
          const int32_t ij = i * kw + j;
          const float *o = offset + (p * offset_groups + og) * 2 * kk + 2 * ij;
          const float y = base_coord(oy, g.stride_h, g.pad_h, i, g.dilation_h) + o[0];
          const float xx = base_coord(ox, g.stride_w, g.pad_w, j, g.dilation_w) + o[1];
          const float m = use_mask ? mask[(p * offset_groups + og) * kk + ij] : 1.0f;
          const float *p00 = zero, *p01 = zero, *p10 = zero, *p11 = zero;
          float w00 = 0, w01 = 0, w10 = 0, w11 = 0;
          if (y > -1 && y < fh && xx > -1 && xx < fw) {
            const float fy = __builtin_floorf(y), fx = __builtin_floorf(xx);
            const float ly = y - fy, lx = xx - fx, hy = 1 - ly, hx = 1 - lx;
            w00 = hy * hx;
            w01 = hy * lx;
            w10 = ly * hx;
            w11 = ly * lx;
            p00 = pixel(x, zero, b, fy, fx, height, width, channels);
            p01 = pixel(x, zero, b, fy, fx + 1, height, width, channels);
            p10 = pixel(x, zero, b, fy + 1, fx, height, width, channels);
            p11 = pixel(x, zero, b, fy + 1, fx + 1, height, width, channels);
          }
          for (int32_t ch = og * cog, end = ch + cog; ch < end;) {
            const int32_t grp = ch / cg, seg_end = mini(end, (grp + 1) * cg);
            /* Channel ch of group grp sits at (grp KK + ij) Cg + ch - grp Cg. */
            float *dst = row + ((grp * kk + ij) * cg - grp * cg);
            column_segment(dst, ch, seg_end, m, p00, p01, p10, p11, w00, w01, w10, w11);
            ch = seg_end;
          }
        }
      }
    }
  }
}

/**
 * out[B, OH, OW, Cout] = deform_conv2d of x[B, H, W, C] (no bias), offset,
 * mask (read only when the header's useMask), weight HWIO; scratch as in the
 * file comment.
 */
VISION_EXPORT(deform_conv2d)
void deform_conv2d(const float *x, const float *offset, const float *mask, const float *weight, float *out,
                   float *scratch) {
  const int32_t *h = (const int32_t *)scratch;
  const Geometry g = read_header(h);
  const int32_t channels = g.channels, kk = g.kh * g.kw, row_length = channels * kk;
  const int32_t groups = g.groups, out_channels = g.out_channels, chunk = g.chunk;
  const int32_t kg = row_length / groups, cog = out_channels / groups;
  const int32_t per_image = g.out_height * g.out_width;
  float *zero = scratch + DEFORM_HEADER_WORDS, *col = zero + padded(channels);
  zero_words(zero, channels);
  for (int32_t b = 0; b < g.batch; b++) {
    const int32_t end = (b + 1) * per_image;
    for (int32_t p0 = b * per_image; p0 < end; p0 += chunk) {
      const int32_t p1 = mini(end, p0 + chunk), rows = p1 - p0;
      sample_columns(h, x, offset, mask, col, zero, p0, p1);
      for (int32_t grp = 0; grp < groups; grp++) {
        gemm_set(col + grp * kg, row_length, 1, weight + grp * cog, out_channels,
                 out + (p0 * out_channels + grp * cog), out_channels, rows, cog, kg);
      }
    }
  }
}

/* --- backward -------------------------------------------------------------------------------- */

/**
 * One segment of channels [c0, c1) of a sample in the backward pass: returns
 * the four sums of dcol * corner value (lanes 0..3: s00, s01, s10, s11),
 * writes the columns and (when in_range) scatters m w dcol into the dx
 * corners q.
 */
INLINE f32x4 backward_segment(float *col_dst, const float *dcol_src, int32_t c0, int32_t c1, float m, int in_range,
                              const float *p00, const float *p01, const float *p10, const float *p11, float *q00,
                              float *q01, float *q10, float *q11, float w00, float w01, float w10, float w11) {
  f32x4 s00 = splat4(0), s01 = splat4(0), s10 = splat4(0), s11 = splat4(0);
  const f32x4 mv = splat4(m);
  const f32x4 a = splat4(w00), b = splat4(w01), c = splat4(w10), d = splat4(w11);
  int32_t ch = c0;
  for (; ch + 4 <= c1; ch += 4) {
    const f32x4 g = load4(dcol_src + ch);
    const f32x4 v00 = load4(p00 + ch), v01 = load4(p01 + ch), v10 = load4(p10 + ch), v11 = load4(p11 + ch);
    s00 = s00 + g * v00;
    s01 = s01 + g * v01;
    s10 = s10 + g * v10;
    s11 = s11 + g * v11;
    if (in_range) {
      f32x4 v = a * v00;
      v = v + b * v01;
      v = v + c * v10;
      v = v + d * v11;
      store4(col_dst + ch, mv * v);
      const f32x4 mg = mv * g;
      store4(q00 + ch, load4(q00 + ch) + a * mg);
      store4(q01 + ch, load4(q01 + ch) + b * mg);
      store4(q10 + ch, load4(q10 + ch) + c * mg);
      store4(q11 + ch, load4(q11 + ch) + d * mg);
    } else {
      store4(col_dst + ch, mv * splat4(0));
    }
  }
  float t00 = hsum(s00), t01 = hsum(s01), t10 = hsum(s10), t11 = hsum(s11);
  for (; ch < c1; ch++) {
    const float g = dcol_src[ch];
    const float v00 = p00[ch], v01 = p01[ch], v10 = p10[ch], v11 = p11[ch];
    t00 += g * v00;
    t01 += g * v01;
    t10 += g * v10;
    t11 += g * v11;
    if (in_range) {
      col_dst[ch] = m * (w00 * v00 + w01 * v01 + w10 * v10 + w11 * v11);
      const float mg = m * g;
      q00[ch] = q00[ch] + w00 * mg;
      q01[ch] = q01[ch] + w01 * mg;
      q10[ch] = q10[ch] + w10 * mg;
      q11[ch] = q11[ch] + w11 * mg;
    } else {
      col_dst[ch] = m * 0.0f;
    }
  }
  return (f32x4){t00, t01, t10, t11};
}

/** Columns, dx, dOffset and dMask of positions [p0, p1) from dcol. `sums`: 4 scratch floats. */
static void sample_gradients(const int32_t *h, const float *x, const float *offset, const float *mask, float *col,
                             const float *dcol, float *dx, float *d_offset, float *d_mask, const float *zero,
                             float *sink, float *sums, int32_t p0, int32_t p1) {
  const Geometry g = read_header(h);
  const int32_t height = g.height, width = g.width, channels = g.channels;
  const int32_t kh = g.kh, kw = g.kw, kk = kh * kw, row_length = channels * kk;
  const int32_t groups = g.groups, offset_groups = g.offset_groups, use_mask = g.use_mask != 0;
  const int32_t cg = channels / groups, cog = channels / offset_groups, per_image = g.out_height * g.out_width;
  const float fh = (float)height, fw = (float)width;
  for (int32_t p = p0; p < p1; p++) {
    const int32_t b = p / per_image, row = (p - p0) * row_length;
    const int32_t ox = p % g.out_width, oy = (p / g.out_width) % g.out_height;
    for (int32_t og = 0; og < offset_groups; og++) {
      for (int32_t i = 0; i < kh; i++) {
        for (int32_t j = 0; j < kw; j++) {
          const int32_t ij = i * kw + j;
          const float *po = offset + (p * offset_groups + og) * 2 * kk + 2 * ij;
          const float y = base_coord(oy, g.stride_h, g.pad_h, i, g.dilation_h) + po[0];
          const float xx = base_coord(ox, g.stride_w, g.pad_w, j, g.dilation_w) + po[1];
          const int32_t sample = (p * offset_groups + og) * kk + ij;
          const float m = use_mask ? mask[sample] : 1.0f;
          float *o = d_offset + 2 * sample;
          if (!(finitef(y) && finitef(xx))) {
            o[0] = 0;
            o[1] = 0;
            if (use_mask) d_mask[sample] = 0;
            for (int32_t ch = og * cog, end = ch + cog; ch < end; ch++) {
              const int32_t grp = ch / cg;
              col[row + (grp * kk + ij) * cg - grp * cg + ch] = m * 0.0f;
            }
            continue;
          }
          const int in_range = y > -1 && y < fh && xx > -1 && xx < fw;
          const float fy = __builtin_floorf(y), fx = __builtin_floorf(xx);
          const float ly = y - fy, lx = xx - fx;
          float w00 = 0, w01 = 0, w10 = 0, w11 = 0;
          if (in_range) {
            const float hy = 1 - ly, hx = 1 - lx;
            w00 = hy * hx;
            w01 = hy * lx;
            w10 = ly * hx;
            w11 = ly * lx;
          }
          const float *p00 = pixel(x, zero, b, fy, fx, height, width, channels);
          const float *p01 = pixel(x, zero, b, fy, fx + 1, height, width, channels);
          const float *p10 = pixel(x, zero, b, fy + 1, fx, height, width, channels);
          const float *p11 = pixel(x, zero, b, fy + 1, fx + 1, height, width, channels);
          float *q00 = pixel_mut(dx, sink, b, fy, fx, height, width, channels);
          float *q01 = pixel_mut(dx, sink, b, fy, fx + 1, height, width, channels);
          float *q10 = pixel_mut(dx, sink, b, fy + 1, fx, height, width, channels);
          float *q11 = pixel_mut(dx, sink, b, fy + 1, fx + 1, height, width, channels);
          /* The AssemblyScript code accumulates in sums[0..3] (scratch); a register here, stored at the end. */
          f32x4 s = splat4(0);
          for (int32_t ch = og * cog, end = ch + cog; ch < end;) {
            const int32_t grp = ch / cg, seg_end = mini(end, (grp + 1) * cg);
            const int32_t base = row + (grp * kk + ij) * cg - grp * cg;
            s = s + backward_segment(col + base, dcol + base, ch, seg_end, m, in_range, p00, p01, p10, p11, q00,
                                     q01, q10, q11, w00, w01, w10, w11);
            ch = seg_end;
          }
          store4(sums, s);
          const float s00 = s[0], s01 = s[1], s10 = s[2], s11 = s[3];
          o[0] = m * (lx * (s11 - s01) + (1 - lx) * (s10 - s00));
          o[1] = m * (ly * (s11 - s10) + (1 - ly) * (s01 - s00));
          if (use_mask) d_mask[sample] = in_range ? w00 * s00 + w01 * s01 + w10 * s10 + w11 * s11 : 0;
        }
      }
    }
  }
}

/**
 * Gradients of sum(dy * deform_conv2d(...)): dx (shape of x), dOffset, dMask
 * (left zero unless useMask; the dummy then has one float) and dWeight (HWIO).
 * Scratch as in the file comment.
 */
VISION_EXPORT(deform_conv2d_grad)
void deform_conv2d_grad(const float *dy, const float *x, const float *offset, const float *mask, const float *weight,
                        float *dx, float *d_offset, float *d_mask, float *d_weight, float *scratch) {
  const int32_t *h = (const int32_t *)scratch;
  const Geometry g = read_header(h);
  const int32_t channels = g.channels, kk = g.kh * g.kw, row_length = channels * kk;
  const int32_t groups = g.groups, out_channels = g.out_channels, chunk = g.chunk;
  const int32_t kg = row_length / groups, cog = out_channels / groups;
  const int32_t per_image = g.out_height * g.out_width, weight_words = kg * out_channels;
  float *zero = scratch + DEFORM_HEADER_WORDS, *sink = zero + padded(channels), *sums = sink + padded(channels);
  float *col = sums + 4, *dcol = col + chunk * row_length, *wt = dcol + chunk * row_length;
  float *part = wt + weight_words;
  zero_words(zero, channels);
  zero_words(dx, g.batch * g.height * g.width * channels);
  zero_words(d_weight, weight_words);
  if (g.use_mask == 0) d_mask[0] = 0;
  /* wt[g][co][k] = weight[k][g Cog + co]: the dcol GEMM then reads contiguous rows. */
  for (int32_t grp = 0; grp < groups; grp++) {
    for (int32_t co = 0; co < cog; co++) {
      for (int32_t k = 0; k < kg; k++) wt[(grp * cog + co) * kg + k] = weight[k * out_channels + grp * cog + co];
    }
  }
  for (int32_t b = 0; b < g.batch; b++) {
    /* Sample 0's partial is dW itself (zeroed above); the others' go to `part`, then dW += part. */
    float *dw = b == 0 ? d_weight : part;
    if (b > 0) zero_words(part, weight_words);
    const int32_t end = (b + 1) * per_image;
    for (int32_t p0 = b * per_image; p0 < end; p0 += chunk) {
      const int32_t p1 = mini(end, p0 + chunk), rows = p1 - p0;
      for (int32_t grp = 0; grp < groups; grp++) {
        gemm_set(dy + (p0 * out_channels + grp * cog), out_channels, 1, wt + grp * cog * kg, kg, dcol + grp * kg,
                 row_length, rows, kg, cog);
      }
      sample_gradients(h, x, offset, mask, col, dcol, dx, d_offset, d_mask, zero, sink, sums, p0, p1);
      for (int32_t r0 = 0; r0 < rows; r0 += WEIGHT_GRAD_ROWS) {
        const int32_t n = mini(rows - r0, WEIGHT_GRAD_ROWS);
        for (int32_t grp = 0; grp < groups; grp++) {
          gemm_add(col + (r0 * row_length + grp * kg), 1, row_length, dy + ((p0 + r0) * out_channels + grp * cog),
                   out_channels, dw + grp * cog, out_channels, kg, cog, n);
        }
      }
    }
    if (b > 0) add_words(d_weight, part, weight_words);
  }
}

/*
 * Multi-scale deformable attention forward and backward, the math of
 * kernels/reference/ms_deform_attn.ts in the same float32 operations and
 * order: every sum, the channel sums of the backward included, runs in the
 * reference's order, and the value gradient is scattered in (b, q, m, l, p)
 * order, so results are deterministic. For a fixed (b, s, m) the C channels
 * of value [B, S, M, C] are contiguous: each sample's four corners are applied
 * to 4 channels at a time in f32x4 lanes, then a scalar tail.
 *
 * The level tables are data: a corner outside its level, or whose position
 * start + cy W + cx (in i64: any H, W, start) is outside [0, S), or any
 * corner of a level that fails level_usable, reads 0 and gets no gradient.
 *
 * Offsets are element offsets (ptrdiff_t: i32 on wasm32 as in the
 * AssemblyScript original, i64 natively so that large tensors index right).
 */
#include "vision_ops.h"

/* The reference's levelUsable: H, W >= 1 and (H + 1)(W + 1) <= MAX_ATTN_LEVEL_CELLS, in float32. */
INLINE int level_usable(int32_t height, int32_t width) {
  return height >= 1 && width >= 1 &&
      ((float)height + 1.0f) * ((float)width + 1.0f) <= (float)MAX_ATTN_LEVEL_CELLS;
}

/* Element offset in value of corner (cy, cx) of a level for (b, m), or -1 outside the level or value. */
INLINE ptrdiff_t corner_offset(
    double cy, double cx, int32_t height, int32_t width, int32_t start, int32_t spatial_size, ptrdiff_t row0,
    int32_t heads, int32_t m, int32_t channels) {
  if (!(cy >= 0 && cy < (double)height && cx >= 0 && cx < (double)width)) return -1;
  /* cy, cx are in [0, height) x [0, width) here: the conversions are exact. */
  const int64_t s = (int64_t)start + (int64_t)cy * (int64_t)width + (int64_t)cx;
  if (s < 0 || s >= (int64_t)spatial_size) return -1;
  return ((row0 + (ptrdiff_t)s) * heads + m) * channels;
}

/* out[0 .. C) += a * (sum of the valid corners' w * value), out as in the reference. */
INLINE void gather_sample(
    float *out, const float *value, int32_t channels, float a, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t o2,
    ptrdiff_t o3, float w0, float w1, float w2, float w3) {
  const f32x4 av = splat4(a);
  const f32x4 v0 = splat4(w0), v1 = splat4(w1), v2 = splat4(w2), v3 = splat4(w3);
  int32_t c = 0;
  for (; c + 4 <= channels; c += 4) {
    f32x4 v = splat4(0.0f);
    if (o0 >= 0) v = v + v0 * load4(value + o0 + c);
    if (o1 >= 0) v = v + v1 * load4(value + o1 + c);
    if (o2 >= 0) v = v + v2 * load4(value + o2 + c);
    if (o3 >= 0) v = v + v3 * load4(value + o3 + c);
    store4(out + c, load4(out + c) + av * v);
  }
  for (; c < channels; c++) {
    float v = 0.0f;
    if (o0 >= 0) v += w0 * value[o0 + c];
    if (o1 >= 0) v += w1 * value[o1 + c];
    if (o2 >= 0) v += w2 * value[o2 + c];
    if (o3 >= 0) v += w3 * value[o3 + c];
    out[c] = out[c] + a * v;
  }
}

/* s + lane 0 + lane 1 + lane 2 + lane 3, in that order (the reference's channel order). */
INLINE float add_lanes(float s, f32x4 t) {
  s += t[0];
  s += t[1];
  s += t[2];
  return s + t[3];
}

/*
 * One corner of one channel block of the backward: v, vx, vy += (w, x, y) * u
 * with u = value[at ..], and dValue[at ..] += w * a dy.
 */
#define SCATTER_CORNER4(o, W, X, Y) \
  if ((o) >= 0) { \
    const ptrdiff_t at = (o) + c; \
    const f32x4 u = load4(value + at); \
    v = v + (W) * u; \
    vx = vx + (X) * u; \
    vy = vy + (Y) * u; \
    store4(d_value + at, load4(d_value + at) + (W) * ad); \
  }

#define SCATTER_CORNER1(o, w, x, y) \
  if ((o) >= 0) { \
    const ptrdiff_t at = (o) + c; \
    const float u = value[at]; \
    v += (w) * u; \
    vx += (x) * u; \
    vy += (y) * u; \
    d_value[at] = d_value[at] + (w) * ad; \
  }

/*
 * One sample's backward: dValue of its valid corners += w * a * dy, and its
 * dAttentionWeight and dLocation (x, y) at d_weight, d_location.
 */
INLINE void scatter_sample(
    const float *dy, const float *value, float *d_value, float *d_weight, float *d_location, int32_t channels,
    float a, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t o2, ptrdiff_t o3, float lx, float ly, int32_t width,
    int32_t height) {
  const float hx = 1.0f - lx, hy = 1.0f - ly;
  const float w0 = hy * hx, w1 = hy * lx, w2 = ly * hx, w3 = ly * lx;
  /* d(corner weight)/dix and /diy, nw ne sw se. */
  const float x0 = -hy, x1 = hy, x2 = -ly, x3 = ly;
  const float y0 = -hx, y1 = -lx, y2 = hx, y3 = lx;
  const f32x4 av = splat4(a);
  const f32x4 W0 = splat4(w0), W1 = splat4(w1), W2 = splat4(w2), W3 = splat4(w3);
  const f32x4 X0 = splat4(x0), X1 = splat4(x1), X2 = splat4(x2), X3 = splat4(x3);
  const f32x4 Y0 = splat4(y0), Y1 = splat4(y1), Y2 = splat4(y2), Y3 = splat4(y3);
  float dw = 0.0f, gx = 0.0f, gy = 0.0f;
  int32_t c = 0;
  for (; c + 4 <= channels; c += 4) {
    const f32x4 d = load4(dy + c);
    const f32x4 ad = av * d;
    f32x4 v = splat4(0.0f), vx = splat4(0.0f), vy = splat4(0.0f);
    SCATTER_CORNER4(o0, W0, X0, Y0)
    SCATTER_CORNER4(o1, W1, X1, Y1)
    SCATTER_CORNER4(o2, W2, X2, Y2)
    SCATTER_CORNER4(o3, W3, X3, Y3)
    dw = add_lanes(dw, d * v);
    gx = add_lanes(gx, ad * vx);
    gy = add_lanes(gy, ad * vy);
  }
  for (; c < channels; c++) {
    const float d = dy[c];
    const float ad = a * d;
    float v = 0.0f, vx = 0.0f, vy = 0.0f;
    SCATTER_CORNER1(o0, w0, x0, y0)
    SCATTER_CORNER1(o1, w1, x1, y1)
    SCATTER_CORNER1(o2, w2, x2, y2)
    SCATTER_CORNER1(o3, w3, x3, y3)
    dw += d * v;
    gx += ad * vx;
    gy += ad * vy;
  }
  *d_weight = dw;
  d_location[0] = (float)((double)gx * (double)width);
  d_location[1] = (float)((double)gy * (double)height);
}

#undef SCATTER_CORNER4
#undef SCATTER_CORNER1

/*
 * Visits every sample (b, q, m, l, p) in the reference's order: forward
 * (grad 0) accumulates out, backward scatters into d_value (zeroed by the
 * caller) and writes d_locations and d_weights.
 */
INLINE void run(
    int grad, const float *dy, const float *value, const int32_t *shapes, const int32_t *starts,
    const float *locations, const float *weights, float *out, float *d_value, float *d_locations,
    float *d_weights, int32_t batch, int32_t spatial_size, int32_t heads, int32_t channels, int32_t queries,
    int32_t levels, int32_t points) {
  for (int32_t b = 0; b < batch; b++) {
    const ptrdiff_t row0 = (ptrdiff_t)b * spatial_size;
    for (int32_t q = 0; q < queries; q++) {
      for (int32_t m = 0; m < heads; m++) {
        const ptrdiff_t bqm = ((ptrdiff_t)b * queries + q) * heads + m;
        float *out_bqm = grad ? 0 : out + bqm * channels;
        const float *dy_bqm = grad ? dy + bqm * channels : 0;
        if (!grad) zero_words(out_bqm, channels);
        for (int32_t l = 0; l < levels; l++) {
          const int32_t height = shapes[2 * l], width = shapes[2 * l + 1];
          const int32_t start = starts[l];
          /* Every corner of an unusable level is outside it. */
          const int32_t corner_height = level_usable(height, width) ? height : 0;
          for (int32_t p = 0; p < points; p++) {
            const ptrdiff_t j = (bqm * levels + l) * points + p;
            const float a = weights[j];
            const float *location = locations + 2 * j;
            const float ix = (float)((double)location[0] * (double)width) - 0.5f;
            const float iy = (float)((double)location[1] * (double)height) - 0.5f;
            if (!(finitef(ix) && finitef(iy))) {
              /* The reference's sample is NaN: out += a NaN is NaN; no value gradient. */
              if (grad) {
                d_weights[j] = __builtin_nanf("");
                d_locations[2 * j] = __builtin_nanf("");
                d_locations[2 * j + 1] = __builtin_nanf("");
              } else {
                for (int32_t c = 0; c < channels; c++) out_bqm[c] = __builtin_nanf("");
              }
              continue;
            }
            const float fx = __builtin_floorf(ix), fy = __builtin_floorf(iy);
            const float lx = ix - fx, ly = iy - fy;
            const double cx = (double)fx, cy = (double)fy;
            const ptrdiff_t o0 =
                corner_offset(cy, cx, corner_height, width, start, spatial_size, row0, heads, m, channels);
            const ptrdiff_t o1 =
                corner_offset(cy, cx + 1, corner_height, width, start, spatial_size, row0, heads, m, channels);
            const ptrdiff_t o2 =
                corner_offset(cy + 1, cx, corner_height, width, start, spatial_size, row0, heads, m, channels);
            const ptrdiff_t o3 =
                corner_offset(cy + 1, cx + 1, corner_height, width, start, spatial_size, row0, heads, m, channels);
            if (grad) {
              scatter_sample(dy_bqm, value, d_value, d_weights + j, d_locations + 2 * j, channels, a,
                  o0, o1, o2, o3, lx, ly, width, height);
            } else {
              const float hx = 1.0f - lx, hy = 1.0f - ly;
              gather_sample(out_bqm, value, channels, a, o0, o1, o2, o3, hy * hx, hy * lx, ly * hx, ly * lx);
            }
          }
        }
      }
    }
  }
}

/*
 * out[B, Q, M, C] = msDeformAttn of value [B, S, M, C], spatialShapes [L, 2]
 * (int32 H, W), levelStartIndex [L] (int32), samplingLocations
 * [B, Q, M, L, P, 2], attentionWeights [B, Q, M, L, P].
 */
VISION_EXPORT(ms_deform_attn)
void ms_deform_attn(
    const float *value, const int32_t *shapes, const int32_t *starts, const float *locations,
    const float *weights, float *out, int32_t batch, int32_t spatial_size, int32_t heads, int32_t channels,
    int32_t queries, int32_t levels, int32_t points) {
  run(0, 0, value, shapes, starts, locations, weights, out, 0, 0, 0, batch, spatial_size, heads, channels,
      queries, levels, points);
}

/* dValue, dLocations, dWeights (shapes of value, locations, weights) from dy [B, Q, M, C]. */
VISION_EXPORT(ms_deform_attn_grad)
void ms_deform_attn_grad(
    const float *dy, const float *value, const int32_t *shapes, const int32_t *starts, const float *locations,
    const float *weights, float *d_value, float *d_locations, float *d_weights, int32_t batch,
    int32_t spatial_size, int32_t heads, int32_t channels, int32_t queries, int32_t levels, int32_t points) {
  zero_words(d_value, batch * spatial_size * heads * channels);
  run(1, dy, value, shapes, starts, locations, weights, 0, d_value, d_locations, d_weights, batch, spatial_size,
      heads, channels, queries, levels, points);
}

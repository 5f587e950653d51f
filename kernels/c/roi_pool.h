/*
 * roi_pool's coordinate rounding, bin bounds and RoI geometry, shared by
 * roi_pool.c and ps_roi.c.
 */
#pragma once
#include "vision_ops.h"

/* round() of C (half away from zero) of a float32 product, clamped to +-2^24; NaN stays NaN. */
INLINE double round_coord(float v) {
  const double a = __builtin_fabs((double)v);
  double r = __builtin_floor(a);
  if (a - r >= 0.5) r += 1;
  return mind(maxd(v < 0 ? -r : r, -MAX_ROUNDED_COORD), MAX_ROUNDED_COORD);
}

/*
 * Packs a bin's [lo, hi) bounds as lo | hi << 32 (lo = hi: empty). start and
 * bin are not NaN (callers check), so lo and hi are in [0, size].
 */
INLINE uint64_t bin_bounds(double start, float bin, int32_t p, int32_t size) {
  const double fsize = (double)size;
  const double lo = mind(maxd((double)__builtin_floorf((float)p * bin) + start, 0), fsize);
  const double hi = mind(maxd((double)__builtin_ceilf((float)(p + 1) * bin) + start, 0), fsize);
  return (uint64_t)(uint32_t)(int32_t)lo | ((uint64_t)(uint32_t)(int32_t)hi << 32);
}

/* Bin size along one axis, roi = end - start + plusOne (NaN when a corner is NaN). */
INLINE float bin_size(double start, double end, int32_t pooled, double plusOne) {
  return (float)maxd(end - start + plusOne, 1) / (float)pooled;
}

/*
 * One RoI's geometry for roi_pool (plusOne 1) and ps_roi_pool (0): its image
 * index when valid, the rounded starts and bin sizes, and whether it samples
 * anything (a valid image index and no NaN among them: NaN corners leave
 * every bin empty).
 */
typedef struct {
  int32_t valid, sampling;
  double startW, startH;
  float binW, binH;
} PoolBox;

INLINE PoolBox pool_box(const float *box, int32_t batch, int32_t height, int32_t width, float spatialScale,
                        int32_t pooledHeight, int32_t pooledWidth, double plusOne) {
  PoolBox r;
  const float b = box[0];
  r.valid = b > -1.0f && b < (float)batch && height > 0 && width > 0;
  r.startW = round_coord(box[1] * spatialScale);
  r.startH = round_coord(box[2] * spatialScale);
  r.binW = bin_size(r.startW, round_coord(box[3] * spatialScale), pooledWidth, plusOne);
  r.binH = bin_size(r.startH, round_coord(box[4] * spatialScale), pooledHeight, plusOne);
  r.sampling = r.valid && !(r.binW != r.binW) && !(r.binH != r.binH) && !(r.startW != r.startW) &&
      !(r.startH != r.startH);
  return r;
}

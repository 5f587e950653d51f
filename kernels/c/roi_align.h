/*
 * roi_align's machinery (port of kernels/wasm/assembly/roi_align.ts), shared
 * by roi_align.c and ps_roi.c: per RoI, the rows and columns every bin samples
 * ("taps": bilinear weights summed per row and per column) are built once in
 * the caller's scratch buffer; then, per bin, the (row, column) pairs are
 * applied to 16 contiguous channels at a time in f32x4 lanes.
 *
 * Scratch, in 4-byte words (sized by runRoiAlignWasm in ../wasm/RoiAlign.ts):
 * denseY[H], denseX[W], rowCount[PH], rowIndex[PH * maxRowTaps],
 * rowWeight[PH * maxRowTaps], colCount[PW], colIndex[PW * maxColTaps],
 * colWeight[PW * maxColTaps], pairOffset[maxRowTaps * maxColTaps],
 * pairWeight[maxRowTaps * maxColTaps]. Each sample touches two rows, so a
 * bin has at most min(H, 2 * samplingRatio) row taps (H when adaptive).
 *
 * pairOffset holds addresses on wasm32, as in the AssemblyScript module, and
 * element offsets natively (roi_pair_t below).
 *
 * Every float-to-int conversion is clamped in float first (or saturating, as
 * AssemblyScript's <i32> is): NaN, inf and huge coordinates never index
 * outside the map, the output or the scratch.
 */
#pragma once
#include "vision_ops.h"

/* AssemblyScript's <i32> of a float (i32.trunc_sat_f64_s / _f32_s): NaN -> 0, saturating. */
INLINE int32_t trunc_sat_i32_f64(double x) {
  if (!(x == x)) return 0;
  if (x >= 2147483648.0) return INT32_MAX;
  if (x <= -2147483649.0) return INT32_MIN;
  return (int32_t)x;
}

/*
 * Keeps a short inner loop rolled: unrolled by 4 with a remainder loop (clang's
 * choice at -O3), bins of a few pixels run up to 15% slower in V8.
 */
#define ROI_NO_UNROLL _Pragma("GCC unroll 1")

/*
 * NaN payloads: when both operands of a float add are NaN, V8 returns the
 * first operand's NaN, so an add must keep the AssemblyScript operand order.
 * LLVM's reassociate pass reorders the operands of every commutative op by
 * "rank" (values of outer blocks first, then unmovable instructions such as
 * loads and calls in block order), so the code below loads the accumulated
 * value before the other operand's loads. ROI_AFTER(v) gives a loop-invariant
 * v a rank after the loads before it (an empty volatile asm: an unmovable call
 * that stays in the loop); wasm only, the native build does not claim NaN
 * payloads.
 */
#ifdef __wasm__
#define ROI_AFTER(v) __asm__ volatile("" : "+r"(v))
#else
#define ROI_AFTER(v) ((void)0)
#endif

/*
 * A pair's location in the data tensor, in a 4-byte pairOffset slot: on wasm32
 * the address itself (what the AssemblyScript module stores), natively the
 * element offset (pointers are 8 bytes there; the data tensor must then have
 * fewer than 2^32 elements).
 */
#ifdef __wasm__
typedef float *roi_pair_t;
INLINE roi_pair_t roi_pair(float *data, uint32_t offset) { return data + offset; }
INLINE float *roi_pair_at(const float *data, roi_pair_t pair) { (void)data; return pair; }
#else
typedef uint32_t roi_pair_t;
INLINE roi_pair_t roi_pair(float *data, uint32_t offset) { (void)data; return offset; }
INLINE float *roi_pair_at(const float *data, roi_pair_t pair) { return (float *)data + pair; }
#endif
_Static_assert(sizeof(roi_pair_t) == 4, "pairOffset slots are 4 bytes");

/* Per-bin actions of roi_align_run(). */
enum { GATHER = 0, SCATTER = 1, PS_GATHER = 2, PS_SCATTER = 3 };

/* Samples per bin along one axis (0: none). */
INLINE float roi_grid_size(float bin, int32_t samplingRatio) {
  if (samplingRatio > 0) return (float)samplingRatio;
  const float g = __builtin_ceilf(bin);
  return g > 0 ? minf(g, (float)MAX_ADAPTIVE_GRID) : 0.0f; /* NaN: 0 */
}

/*
 * Taps of every bin of one axis: bin p has counts[p] taps at index/weight +
 * p * maxTaps. Returns the grid (samples per bin; 0: the RoI samples nothing).
 * dense: `size` zeros, left zeroed.
 */
INLINE float axis_taps(
    float c1, float c2, float scale, int32_t pooled, int32_t samplingRatio, int32_t aligned,
    int32_t size, int32_t maxTaps, float *dense, int32_t *counts, int32_t *index, float *weight) {
  const float offset = aligned ? 0.5f : 0.0f;
  const float roiStart = c1 * scale - offset;
  float roiSize = (c2 * scale - offset) - roiStart;
  if (!aligned && roiSize < 1.0f) roiSize = 1.0f;
  const float bin = roiSize / (float)pooled;
  const float grid = roi_grid_size(bin, samplingRatio);
  const float fsize = (float)size;
  for (int32_t p = 0; p < pooled; p++) {
    const float base = roiStart + (float)p * bin;
    /* Sample indices that can land in [-1, size], one extra on each side. */
    int32_t lo = 0, hi = -1;
    if (grid > 0 && finitef(base) && finitef(bin)) {
      if (bin == 0) {
        if (base >= -1.0f && base <= fsize) hi = trunc_sat_i32_f64((double)grid) - 1;
      } else {
        const double t1 = (-1.0 - (double)base) / (double)bin * (double)grid - 0.5;
        const double t2 = ((double)fsize - (double)base) / (double)bin * (double)grid - 0.5;
        const double top = (double)grid - 1;
        lo = trunc_sat_i32_f64(mind(maxd(__builtin_floor(mind(t1, t2)) - 1, 0), top + 1));
        hi = trunc_sat_i32_f64(maxd(mind(__builtin_ceil(maxd(t1, t2)) + 1, top), -1));
      }
    }
    int32_t first = size, last = -1;
    /* i wraps as an i32 does in wasm (no signed overflow natively). */
    ROI_NO_UNROLL
    for (int32_t i = lo; i <= hi; i = (int32_t)((uint32_t)i + 1u)) {
      float y = base + ((float)i + 0.5f) * bin / grid;
      if (!(y >= -1.0f && y <= fsize)) continue;
      if (y <= 0) y = 0;
      int32_t low = (int32_t)y; /* y in [0, size] */
      int32_t high = low + 1;
      if (low >= size - 1) {
        low = high = size - 1;
        y = (float)low;
      }
      const float l = y - (float)low;
      dense[low] = dense[low] + (1.0f - l);
      dense[high] = dense[high] + l;
      if (low < first) first = low;
      if (high > last) last = high;
    }
    int32_t *binIndex = index + p * maxTaps;
    float *binWeight = weight + p * maxTaps;
    int32_t count = 0;
    ROI_NO_UNROLL
    for (int32_t r = first; r <= last; r++) {
      const float w = dense[r];
      if (w != 0 && count < maxTaps) {
        binIndex[count] = r;
        binWeight[count] = w;
        count++;
      }
      dense[r] = 0;
    }
    counts[p] = count;
  }
  return grid;
}

/*
 * Per-bin pair list of one bin: locations in the data tensor and weights
 * (1/count included); returns the number of pairs.
 */
INLINE int32_t bin_pairs(
    int32_t rowCount, const int32_t *rowIndex, const float *rowWeight, int32_t colCount,
    const int32_t *colIndex, const float *colWeight, int32_t imageRow0, int32_t width,
    int32_t channels, float *data, float invCount, roi_pair_t *pairOffset, float *pairWeight) {
  int32_t n = 0;
  for (int32_t a = 0; a < rowCount; a++) {
    const uint32_t rowBase = ((uint32_t)imageRow0 + (uint32_t)rowIndex[a]) * (uint32_t)width;
    const float wy = rowWeight[a] * invCount;
    ROI_NO_UNROLL
    for (int32_t b = 0; b < colCount; b++) {
      const uint32_t pixel = rowBase + (uint32_t)colIndex[b];
      pairOffset[n] = roi_pair(data, pixel * (uint32_t)channels);
      pairWeight[n] = wy * colWeight[b];
      n++;
    }
  }
  return n;
}

/* out[0 .. channels) = sum of weight * data[offset ..] over the pairs. */
INLINE void roi_gather_bin(
    float *out, const float *data, int32_t channels, int32_t pairs, const roi_pair_t *pairOffset,
    const float *pairWeight) {
  int32_t c = 0;
  for (; c + 16 <= channels; c += 16) {
    f32x4 a0 = splat4(0), a1 = splat4(0), a2 = splat4(0), a3 = splat4(0);
    for (int32_t i = 0; i < pairs; i++) {
      const f32x4 w = splat4(pairWeight[i]);
      const float *p = roi_pair_at(data, pairOffset[i]) + c;
      a0 = a0 + w * load4(p);
      a1 = a1 + w * load4(p + 4);
      a2 = a2 + w * load4(p + 8);
      a3 = a3 + w * load4(p + 12);
    }
    store4(out + c, a0);
    store4(out + c + 4, a1);
    store4(out + c + 8, a2);
    store4(out + c + 12, a3);
    OPAQUE(out);
  }
  for (; c + 4 <= channels; c += 4) {
    f32x4 a = splat4(0);
    for (int32_t i = 0; i < pairs; i++) {
      const f32x4 w = splat4(pairWeight[i]);
      a = a + w * load4(roi_pair_at(data, pairOffset[i]) + c);
    }
    store4(out + c, a);
    OPAQUE(out);
  }
  for (; c < channels; c++) {
    float a = 0;
    for (int32_t i = 0; i < pairs; i++) a += pairWeight[i] * roi_pair_at(data, pairOffset[i])[c];
    out[c] = a;
    OPAQUE(out);
  }
}

/* data[offset ..] += weight * dy[0 .. channels) for every pair. */
INLINE void roi_scatter_bin(
    const float *dy, float *data, int32_t channels, int32_t pairs, const roi_pair_t *pairOffset,
    const float *pairWeight) {
  int32_t c = 0;
  for (; c + 16 <= channels; c += 16) {
    const f32x4 g0 = load4(dy + c), g1 = load4(dy + c + 4);
    const f32x4 g2 = load4(dy + c + 8), g3 = load4(dy + c + 12);
    for (int32_t i = 0; i < pairs; i++) {
      /* The four loads before the weight's: each add stays add(x, w * g) (see ROI_AFTER). */
      float *p = roi_pair_at(data, pairOffset[i]) + c;
      const f32x4 x0 = load4(p), x1 = load4(p + 4), x2 = load4(p + 8), x3 = load4(p + 12);
      const f32x4 w = splat4(pairWeight[i]);
      store4(p, x0 + w * g0);
      store4(p + 4, x1 + w * g1);
      store4(p + 8, x2 + w * g2);
      store4(p + 12, x3 + w * g3);
    }
  }
  for (; c + 4 <= channels; c += 4) {
    const f32x4 g = load4(dy + c);
    for (int32_t i = 0; i < pairs; i++) {
      float *p = roi_pair_at(data, pairOffset[i]) + c;
      const f32x4 x = load4(p);
      store4(p, x + splat4(pairWeight[i]) * g);
    }
  }
  for (; c < channels; c++) {
    const float g = dy[c];
    for (int32_t i = 0; i < pairs; i++) {
      float *p = roi_pair_at(data, pairOffset[i]) + c;
      *p = *p + pairWeight[i] * g;
    }
  }
}

/* ps_roi_align's forward of one bin: out[c] = sum of weight * data[offset + (c * bins + bin)]. */
INLINE void roi_ps_gather_bin(
    float *out, const float *data, int32_t outChannels, int32_t bins, int32_t bin, int32_t pairs,
    const roi_pair_t *pairOffset, const float *pairWeight) {
  for (int32_t c = 0; c < outChannels; c++) {
    const int32_t cb = c * bins + bin;
    float sum = 0;
    for (int32_t i = 0; i < pairs; i++) sum += pairWeight[i] * roi_pair_at(data, pairOffset[i])[cb];
    out[c] = sum;
    OPAQUE(out);
  }
}

/* ps_roi_align's backward of one bin. */
INLINE void roi_ps_scatter_bin(
    const float *dy, float *data, int32_t outChannels, int32_t bins, int32_t bin, int32_t pairs,
    const roi_pair_t *pairOffset, const float *pairWeight) {
  for (int32_t c = 0; c < outChannels; c++) {
    const int32_t cb = c * bins + bin;
    const float g = dy[c];
    for (int32_t i = 0; i < pairs; i++) {
      float *p = roi_pair_at(data, pairOffset[i]) + cb;
      *p = *p + pairWeight[i] * g;
    }
  }
}

/*
 * Visits every bin of every RoI and, by `mode` (a constant at every call),
 * gathers it from x (GATHER), scatters it into dx (SCATTER), or either
 * position-sensitively (PS_GATHER, PS_SCATTER). `data` is x or dx; `bins` is
 * out or dy, [K, PH, PW, C] (C / (PH PW) channels when position-sensitive).
 */
INLINE void roi_align_run(
    int32_t mode, float *data, const float *boxes, float *bins, float *scratch, int32_t batch,
    int32_t height, int32_t width, int32_t channels, int32_t numBoxes, int32_t pooledHeight,
    int32_t pooledWidth, float spatialScale, int32_t samplingRatio, int32_t aligned,
    int32_t maxRowTaps, int32_t maxColTaps) {
  const int32_t binCount = pooledHeight * pooledWidth;
  /* AssemblyScript traps on binCount == 0 (i32.div_s); the ops never pass it. */
  const int32_t outChannels =
      mode >= PS_GATHER ? (binCount != 0 ? channels / binCount : 0) : channels;
  float *denseY = scratch;
  float *denseX = denseY + height;
  int32_t *rowCount = (int32_t *)(denseX + width);
  int32_t *rowIndex = rowCount + pooledHeight;
  float *rowWeight = (float *)(rowIndex + pooledHeight * maxRowTaps);
  int32_t *colCount = (int32_t *)(rowWeight + pooledHeight * maxRowTaps);
  int32_t *colIndex = colCount + pooledWidth;
  float *colWeight = (float *)(colIndex + pooledWidth * maxColTaps);
  roi_pair_t *pairOffset = (roi_pair_t *)(colWeight + pooledWidth * maxColTaps);
  float *pairWeight = (float *)(pairOffset + maxRowTaps * maxColTaps);
  zero_words(denseY, height + width);
  const int32_t binWords = binCount * outChannels;
  const float fbatch = (float)batch;
  for (int32_t k = 0; k < numBoxes; k++) {
    const float *box = boxes + (size_t)k * 5;
    float *roiBins = bins + (size_t)k * (size_t)binWords;
    const float b = box[0];
    float gridY = 0, gridX = 0;
    if (b > -1.0f && b < fbatch && height > 0 && width > 0) {
      gridY = axis_taps(box[2], box[4], spatialScale, pooledHeight, samplingRatio, aligned, height,
          maxRowTaps, denseY, rowCount, rowIndex, rowWeight);
      gridX = axis_taps(box[1], box[3], spatialScale, pooledWidth, samplingRatio, aligned, width,
          maxColTaps, denseX, colCount, colIndex, colWeight);
    }
    if (!(gridY > 0 && gridX > 0)) {
      if (mode == GATHER || mode == PS_GATHER) zero_words(roiBins, binWords);
      continue;
    }
    const int32_t imageRow0 = (int32_t)((uint32_t)(int32_t)b * (uint32_t)height);
    const float invCount = 1.0f / (gridY * gridX);
    for (int32_t ph = 0; ph < pooledHeight; ph++) {
      for (int32_t pw = 0; pw < pooledWidth; pw++) {
        const int32_t pairs = bin_pairs(
            rowCount[ph], rowIndex + ph * maxRowTaps, rowWeight + ph * maxRowTaps, colCount[pw],
            colIndex + pw * maxColTaps, colWeight + pw * maxColTaps, imageRow0, width, channels,
            data, invCount, pairOffset, pairWeight);
        const int32_t binIndex = ph * pooledWidth + pw;
        float *bin = roiBins + (size_t)binIndex * (size_t)outChannels;
        if (mode == GATHER) roi_gather_bin(bin, data, channels, pairs, pairOffset, pairWeight);
        else if (mode == SCATTER) roi_scatter_bin(bin, data, channels, pairs, pairOffset, pairWeight);
        else if (mode == PS_GATHER)
          roi_ps_gather_bin(bin, data, outChannels, binCount, binIndex, pairs, pairOffset, pairWeight);
        else roi_ps_scatter_bin(bin, data, outChannels, binCount, binIndex, pairs, pairOffset, pairWeight);
      }
    }
  }
}

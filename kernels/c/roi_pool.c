/*
 * roi_pool forward and backward on channelsLast tensors (port of
 * kernels/wasm/assembly/roi_pool.ts), four channels per f32x4: the running
 * max takes strictly greater values in row-major order (first maximum wins)
 * and its argmax is tracked per lane; the backward pass recomputes that
 * argmax and adds dy where it matches. Bounds are clamped in float before any
 * int conversion, so no coordinate can index outside the map.
 */
#include "roi_align.h"
#include "roi_pool.h"

/* bitselect(a, b, m): a where m is set, else b (v128.bitselect). */
INLINE i32x4 select_i32x4(i32x4 a, i32x4 b, i32x4 m) { return (a & m) | (b & ~m); }

/* Max over the bin rows [y0, y1) x columns [x0, x1) of the four channels at c. */
INLINE f32x4 max_block(
    const float *image, int32_t width, int32_t channels, int32_t y0, int32_t y1, int32_t x0,
    int32_t x1, int32_t c) {
  f32x4 best = splat4(-(float)FLT_MAX);
  for (int32_t h = y0; h < y1; h++) {
    ROI_NO_UNROLL
    for (int32_t w = x0; w < x1; w++) {
      const f32x4 v = load4(image + (size_t)(h * width + w) * (size_t)channels + c);
      best = (f32x4)select_i32x4((i32x4)v, (i32x4)best, v > best);
    }
  }
  return best;
}

/* Argmax (h * W + w, first maximum) of the same block; -1 where nothing beats -FLT_MAX. */
INLINE i32x4 arg_block(
    const float *image, int32_t width, int32_t channels, int32_t y0, int32_t y1, int32_t x0,
    int32_t x1, int32_t c) {
  f32x4 best = splat4(-(float)FLT_MAX);
  i32x4 arg = {-1, -1, -1, -1};
  for (int32_t h = y0; h < y1; h++) {
    ROI_NO_UNROLL
    for (int32_t w = x0; w < x1; w++) {
      const f32x4 v = load4(image + (size_t)(h * width + w) * (size_t)channels + c);
      const i32x4 m = v > best;
      const int32_t at = h * width + w;
      best = (f32x4)select_i32x4((i32x4)v, (i32x4)best, m);
      arg = select_i32x4((i32x4){at, at, at, at}, arg, m);
    }
  }
  return arg;
}

/*
 * Visits every bin: forward writes out (0 for empty bins and invalid RoIs);
 * backward adds dy to dx at the recomputed argmax.
 */
INLINE void roi_pool_run(
    int32_t forward, const float *x, const float *boxes, float *bins, float *dx, int32_t batch,
    int32_t height, int32_t width, int32_t channels, int32_t numBoxes, int32_t pooledHeight,
    int32_t pooledWidth, float spatialScale) {
  const int32_t c4 = channels & ~3;
  const int32_t plane = height * width;
  for (int32_t k = 0; k < numBoxes; k++) {
    const float *box = boxes + (size_t)k * 5;
    const PoolBox r = pool_box(box, batch, height, width, spatialScale, pooledHeight, pooledWidth, 1);
    const int32_t n = r.valid ? (int32_t)box[0] : 0;
    const size_t imageOffset = (size_t)n * (size_t)plane * (size_t)channels;
    const float *image = x + imageOffset;
    float *grad = forward ? dx : dx + imageOffset;
    for (int32_t ph = 0; ph < pooledHeight; ph++) {
      const uint64_t rows = r.sampling ? bin_bounds(r.startH, r.binH, ph, height) : 0;
      const int32_t y0 = (int32_t)(uint32_t)rows, y1 = (int32_t)(uint32_t)(rows >> 32);
      for (int32_t pw = 0; pw < pooledWidth; pw++) {
        const uint64_t cols = r.sampling ? bin_bounds(r.startW, r.binW, pw, width) : 0;
        const int32_t x0 = (int32_t)(uint32_t)cols, x1 = (int32_t)(uint32_t)(cols >> 32);
        float *bin = bins +
            ((size_t)k * (size_t)pooledHeight * (size_t)pooledWidth + (size_t)(ph * pooledWidth + pw)) *
                (size_t)channels;
        const int32_t empty = y1 <= y0 || x1 <= x0;
        if (forward) {
          for (int32_t c = 0; c < c4; c += 4) {
            store4(bin + c, empty ? splat4(0) : max_block(image, width, channels, y0, y1, x0, x1, c));
            OPAQUE(bin);
          }
          for (int32_t c = c4; c < channels; c++) {
            float best = empty ? 0 : -(float)FLT_MAX;
            for (int32_t h = y0; h < y1 && !empty; h++) {
              for (int32_t w = x0; w < x1; w++) {
                const float v = image[(size_t)(h * width + w) * (size_t)channels + c];
                if (v > best) best = v;
              }
            }
            bin[c] = best;
            OPAQUE(bin);
          }
        } else if (!empty) {
          for (int32_t c = 0; c < c4; c += 4) {
            const i32x4 arg = arg_block(image, width, channels, y0, y1, x0, x1, c);
            const f32x4 g = load4(bin + c);
            for (int32_t h = y0; h < y1; h++) {
              ROI_NO_UNROLL
              for (int32_t w = x0; w < x1; w++) {
                float *at = grad + (size_t)(h * width + w) * (size_t)channels + c;
                const int32_t idx = h * width + w;
                const i32x4 hit = arg == (i32x4){idx, idx, idx, idx};
                store4(at, load4(at) + (f32x4)((i32x4)g & hit));
              }
            }
          }
          for (int32_t c = c4; c < channels; c++) {
            float best = -(float)FLT_MAX;
            int32_t arg = -1;
            for (int32_t h = y0; h < y1; h++) {
              for (int32_t w = x0; w < x1; w++) {
                const float v = image[(size_t)(h * width + w) * (size_t)channels + c];
                if (v > best) {
                  best = v;
                  arg = h * width + w;
                }
              }
            }
            if (arg >= 0) {
              float *at = grad + (size_t)arg * (size_t)channels + c;
              *at = *at + bin[c];
            }
          }
        }
      }
    }
  }
}

/* out[K, PH, PW, C] = roi_pool of x[N, H, W, C] at boxes[K, 5]. */
VISION_EXPORT(roi_pool) void roi_pool(
    const float *x, const float *boxes, float *out, int32_t batch, int32_t height, int32_t width,
    int32_t channels, int32_t numBoxes, int32_t pooledHeight, int32_t pooledWidth,
    float spatialScale) {
  roi_pool_run(1, x, boxes, out, out, batch, height, width, channels, numBoxes, pooledHeight,
      pooledWidth, spatialScale);
}

/* dx[N, H, W, C] = gradient of roi_pool for x, from dy[K, PH, PW, C]. */
VISION_EXPORT(roi_pool_grad) void roi_pool_grad(
    const float *dy, const float *x, const float *boxes, float *dx, int32_t batch, int32_t height,
    int32_t width, int32_t channels, int32_t numBoxes, int32_t pooledHeight, int32_t pooledWidth,
    float spatialScale) {
  zero_words(dx, (int32_t)((uint32_t)batch * (uint32_t)height * (uint32_t)width * (uint32_t)channels));
  roi_pool_run(0, x, boxes, (float *)dy, dx, batch, height, width, channels, numBoxes, pooledHeight,
      pooledWidth, spatialScale);
}

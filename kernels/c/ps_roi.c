/*
 * ps_roi_align and ps_roi_pool on channelsLast tensors (port of
 * kernels/wasm/assembly/ps_roi.ts). ps_roi_align is roi_align's machinery
 * (roi_align.h, aligned always, same scratch layout) with bin (ph, pw) of
 * output channel c reading input channel (c * PH + ph) * PW + pw; ps_roi_pool
 * uses roi_pool's rounding (roi_pool.h) without the + 1, and torchvision's
 * clipping: bins to [0, H - 1] forward, [0, H] backward. Those channel reads
 * are strided, so these loops are scalar.
 */
#include "roi_align.h"
#include "roi_pool.h"

/* out[K, PH, PW, C / (PH PW)] = ps_roi_align of x[N, H, W, C]; scratch as roi_align's. */
VISION_EXPORT(ps_roi_align) void ps_roi_align(
    const float *x, const float *boxes, float *out, float *scratch, int32_t batch, int32_t height,
    int32_t width, int32_t channels, int32_t numBoxes, int32_t maxRowTaps, int32_t maxColTaps,
    int32_t pooledHeight, int32_t pooledWidth, float spatialScale, int32_t samplingRatio) {
  roi_align_run(PS_GATHER, (float *)x, boxes, out, scratch, batch, height, width, channels,
      numBoxes, pooledHeight, pooledWidth, spatialScale, samplingRatio, 1, maxRowTaps, maxColTaps);
}

/* dx[N, H, W, C] = gradient of ps_roi_align for x, from dy[K, PH, PW, C / (PH PW)]. */
VISION_EXPORT(ps_roi_align_grad) void ps_roi_align_grad(
    const float *dy, const float *boxes, float *dx, float *scratch, int32_t batch, int32_t height,
    int32_t width, int32_t channels, int32_t numBoxes, int32_t maxRowTaps, int32_t maxColTaps,
    int32_t pooledHeight, int32_t pooledWidth, float spatialScale, int32_t samplingRatio) {
  zero_words(dx, (int32_t)((uint32_t)batch * (uint32_t)height * (uint32_t)width * (uint32_t)channels));
  roi_align_run(PS_SCATTER, dx, boxes, (float *)dy, scratch, batch, height, width, channels,
      numBoxes, pooledHeight, pooledWidth, spatialScale, samplingRatio, 1, maxRowTaps, maxColTaps);
}

/* Forward (mean into bins) or backward (dy / area into data) of ps_roi_pool. */
INLINE void ps_pool(
    int32_t forward, float *data, const float *boxes, float *bins, int32_t batch, int32_t height,
    int32_t width, int32_t channels, int32_t numBoxes, int32_t pooledHeight, int32_t pooledWidth,
    float spatialScale) {
  const int32_t binCount = pooledHeight * pooledWidth;
  /* AssemblyScript traps on binCount == 0 (i32.div_s); the ops never pass it. */
  const int32_t outChannels = binCount != 0 ? channels / binCount : 0;
  const int32_t clipH = forward ? height - 1 : height, clipW = forward ? width - 1 : width;
  for (int32_t k = 0; k < numBoxes; k++) {
    const float *box = boxes + (size_t)k * 5;
    const PoolBox r = pool_box(box, batch, height, width, spatialScale, pooledHeight, pooledWidth, 0);
    float *image = data +
        (size_t)(r.sampling ? (int32_t)box[0] : 0) * (size_t)height * (size_t)width * (size_t)channels;
    for (int32_t ph = 0; ph < pooledHeight; ph++) {
      const uint64_t rows = r.sampling ? bin_bounds(r.startH, r.binH, ph, clipH) : 0;
      const int32_t y0 = (int32_t)(uint32_t)rows, y1 = (int32_t)(uint32_t)(rows >> 32);
      for (int32_t pw = 0; pw < pooledWidth; pw++) {
        const uint64_t cols = r.sampling ? bin_bounds(r.startW, r.binW, pw, clipW) : 0;
        const int32_t x0 = (int32_t)(uint32_t)cols, x1 = (int32_t)(uint32_t)(cols >> 32);
        const int32_t bin = ph * pooledWidth + pw;
        float *at = bins + ((size_t)k * (size_t)binCount + (size_t)bin) * (size_t)outChannels;
        const int32_t empty = y1 <= y0 || x1 <= x0;
        const float area = (float)(int32_t)((uint32_t)(y1 - y0) * (uint32_t)(x1 - x0));
        for (int32_t c = 0; c < outChannels; c++) {
          const int32_t cb = c * binCount + bin;
          if (forward) {
            float sum = 0;
            for (int32_t h = y0; h < y1 && !empty; h++) {
              for (int32_t w = x0; w < x1; w++) sum += image[(size_t)(h * width + w) * (size_t)channels + cb];
            }
            at[c] = empty ? 0 : sum / area;
            OPAQUE(at);
          } else if (!empty) {
            const float g = at[c] / area;
            for (int32_t h = y0; h < y1; h++) {
              for (int32_t w = x0; w < x1; w++) {
                float *p = image + (size_t)(h * width + w) * (size_t)channels + cb;
                const float v = *p;
                float gv = g;
                ROI_AFTER(gv); /* keeps add(v, g) (roi_align.h) */
                *p = v + gv;
              }
            }
          }
        }
      }
    }
  }
}

/* out[K, PH, PW, C / (PH PW)] = ps_roi_pool of x[N, H, W, C]. */
VISION_EXPORT(ps_roi_pool) void ps_roi_pool(
    const float *x, const float *boxes, float *out, int32_t batch, int32_t height, int32_t width,
    int32_t channels, int32_t numBoxes, int32_t pooledHeight, int32_t pooledWidth,
    float spatialScale) {
  ps_pool(1, (float *)x, boxes, out, batch, height, width, channels, numBoxes, pooledHeight,
      pooledWidth, spatialScale);
}

/* dx[N, H, W, C] = torchvision's gradient of ps_roi_pool, from dy. */
VISION_EXPORT(ps_roi_pool_grad) void ps_roi_pool_grad(
    const float *dy, const float *boxes, float *dx, int32_t batch, int32_t height, int32_t width,
    int32_t channels, int32_t numBoxes, int32_t pooledHeight, int32_t pooledWidth,
    float spatialScale) {
  zero_words(dx, (int32_t)((uint32_t)batch * (uint32_t)height * (uint32_t)width * (uint32_t)channels));
  ps_pool(0, dx, boxes, (float *)dy, batch, height, width, channels, numBoxes, pooledHeight,
      pooledWidth, spatialScale);
}

/*
 * roi_align forward and backward on channelsLast tensors (port of
 * kernels/wasm/assembly/roi_align.ts; the machinery is in roi_align.h).
 * Pointers are byte offsets into the tfjs heap on wasm.
 */
#include "roi_align.h"

/* out[K, PH, PW, C] = roi_align of x[N, H, W, C] at boxes[K, 5]; scratch as in roi_align.h. */
VISION_EXPORT(roi_align) void roi_align(
    const float *x, const float *boxes, float *out, float *scratch, int32_t batch, int32_t height,
    int32_t width, int32_t channels, int32_t numBoxes, int32_t maxRowTaps, int32_t maxColTaps,
    int32_t pooledHeight, int32_t pooledWidth, float spatialScale, int32_t samplingRatio,
    int32_t aligned) {
  roi_align_run(GATHER, (float *)x, boxes, out, scratch, batch, height, width, channels, numBoxes,
      pooledHeight, pooledWidth, spatialScale, samplingRatio, aligned != 0, maxRowTaps, maxColTaps);
}

/* dx[N, H, W, C] = gradient of roi_align for x, from dy[K, PH, PW, C]. */
VISION_EXPORT(roi_align_grad) void roi_align_grad(
    const float *dy, const float *boxes, float *dx, float *scratch, int32_t batch, int32_t height,
    int32_t width, int32_t channels, int32_t numBoxes, int32_t maxRowTaps, int32_t maxColTaps,
    int32_t pooledHeight, int32_t pooledWidth, float spatialScale, int32_t samplingRatio,
    int32_t aligned) {
  zero_words(dx, (int32_t)((uint32_t)batch * (uint32_t)height * (uint32_t)width * (uint32_t)channels));
  roi_align_run(SCATTER, dx, boxes, (float *)dy, scratch, batch, height, width, channels, numBoxes,
      pooledHeight, pooledWidth, spatialScale, samplingRatio, aligned != 0, maxRowTaps, maxColTaps);
}

/*
 * UnsortedSegmentSum (the gradient of gather), which the tfjs wasm backend
 * 4.22 lacks: out[s] = sum of the rows x[i] with ids[i] == s, ids outside
 * [0, numSegments) dropped. Rows of `inner` elements, float32 or int32
 * (isInt != 0), f32x4 / i32x4. The C port of
 * kernels/wasm/assembly/segment_sum.ts (bit-identical results).
 */
#include "vision_ops.h"

typedef uint32_t seg_u32x4 __attribute__((vector_size(16)));

/*
 * Zeroing loops become memset calls (clang's loop idiom, gcc's loop
 * distribution), which the freestanding wasm build cannot link (and
 * vision_ops.h's zero_words gets that before it is inlined): the zeroing is
 * written out in the export itself, which forbids the transformation.
 */
#if defined(__clang__)
#define SEG_NO_MEMSET __attribute__((no_builtin("memset")))
#elif defined(__GNUC__)
#define SEG_NO_MEMSET __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define SEG_NO_MEMSET
#endif

/* x and out hold float32 or int32 words (isInt); int32 sums wrap. */
VISION_EXPORT(unsorted_segment_sum) SEG_NO_MEMSET
void unsorted_segment_sum(const float *x, const int32_t *ids, float *out, int32_t rows,
                          int32_t inner, int32_t numSegments, int32_t isInt) {
  /* zero_words(out, numSegments * inner), inline (see above) */
  const int32_t nz = numSegments * inner;
  const int32_t nz4 = nz & ~3;
  for (int32_t i = 0; i < nz4; i += 4) store4(out + i, splat4(0.0f));
  for (int32_t i = nz4; i < nz; i++) out[i] = 0.0f;
  const int32_t n4 = inner & ~3;
  for (int32_t r = 0; r < rows; r++) {
    const int32_t s = ids[r];
    if (s < 0 || s >= numSegments) continue;
    const float *src = x + (size_t)r * (size_t)inner;
    float *dst = out + (size_t)s * (size_t)inner;
    if (isInt != 0) {
      for (int32_t i = 0; i < n4; i += 4) {
        seg_u32x4 a, b;
        __builtin_memcpy(&a, dst + i, 16);
        __builtin_memcpy(&b, src + i, 16);
        a += b;
        __builtin_memcpy(dst + i, &a, 16);
      }
      for (int32_t i = n4; i < inner; i++) {
        uint32_t a, b;
        __builtin_memcpy(&a, dst + i, 4);
        __builtin_memcpy(&b, src + i, 4);
        a += b;
        __builtin_memcpy(dst + i, &a, 4);
      }
    } else {
      for (int32_t i = 0; i < n4; i += 4) store4(dst + i, load4(dst + i) + load4(src + i));
      for (int32_t i = n4; i < inner; i++) dst[i] = dst[i] + src[i];
    }
  }
}

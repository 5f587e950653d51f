/*
 * Shared by every kernel family of kernels/c/: one C source compiled two ways,
 * to wasm32 (clang -msimd128: tfjs-vision-ops' wasm module, zero-copy on the
 * tfjs wasm heap) and natively (the TensorFlow op library of the 'tensorflow'
 * backend). Rules for every file (checked by tools/build-wasm.mjs on the
 * binary): freestanding C11, no libc or libm (only __builtin_* that are single
 * instructions: floor, ceil, trunc, sqrt, fabs, fmin/fmax are NOT used: their
 * NaN rules differ from AssemblyScript's min/max), no static or global data,
 * no local arrays (the shadow stack is a mutable global), no recursion.
 * Pointers are byte offsets into the tfjs heap on wasm (the same ABI as the
 * AssemblyScript exports they replace); AssemblyScript bool is int32_t here.
 */
#pragma once
#include <stdint.h>
#include <stddef.h>
#include "generated/constants.h"

#ifdef __wasm__
#define VISION_EXPORT(name) __attribute__((export_name(#name)))
#elif defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__) && defined(__GNUC__)
/*
 * Natively on x86-64 glibc Linux each export also gets an AVX2 clone, picked
 * at load by the CPU (an ifunc; VEX-encoded f32x4 code: roi_align and the
 * focal loss 5-10% faster). No FMA contraction (-ffp-contract=off) and no
 * reassociation, so both clones compute the same bits.
 */
#define VISION_EXPORT(name) __attribute__((visibility("default"), target_clones("avx2", "default")))
#else
#define VISION_EXPORT(name) __attribute__((visibility("default")))
#endif
#define INLINE static inline __attribute__((always_inline))

typedef float f32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));
typedef double f64x2 __attribute__((vector_size(16)));
typedef int64_t i64x2 __attribute__((vector_size(16)));

/* Unaligned 16-byte loads and stores (v128.load / v128.store on wasm). */
INLINE f32x4 load4(const float *p) { f32x4 v; __builtin_memcpy(&v, p, 16); return v; }
INLINE void store4(float *p, f32x4 v) { __builtin_memcpy(p, &v, 16); }
INLINE f32x4 splat4(float x) { return (f32x4){x, x, x, x}; }

/*
 * AssemblyScript's min/max (wasm f32.min/max, f64.min/max): NaN if either
 * operand is NaN, and min(-0, +0) = -0, max(-0, +0) = +0. One instruction on
 * wasm; the same results natively.
 */
#ifdef __wasm__
INLINE float minf(float a, float b) { return __builtin_wasm_min_f32(a, b); }
INLINE float maxf(float a, float b) { return __builtin_wasm_max_f32(a, b); }
INLINE double mind(double a, double b) { return __builtin_wasm_min_f64(a, b); }
INLINE double maxd(double a, double b) { return __builtin_wasm_max_f64(a, b); }
#else
#define WASM_MIN_MAX(T, MIN, MAX) \
  INLINE T MIN(T a, T b) { return a != a || b != b ? a + b : a == b ? (__builtin_signbit(a) ? a : b) : a < b ? a : b; } \
  INLINE T MAX(T a, T b) { return a != a || b != b ? a + b : a == b ? (__builtin_signbit(a) ? b : a) : a > b ? a : b; }
WASM_MIN_MAX(float, minf, maxf)
WASM_MIN_MAX(double, mind, maxd)
#undef WASM_MIN_MAX
#endif

/* isFinite<f32> / isNaN<f32> of AssemblyScript. */
INLINE int finitef(float x) { return x - x == x - x; }
INLINE int nanf_(float x) { return x != x; }

/*
 * Hides p from the optimiser: clang turns zeroing loops into memset calls,
 * which do not exist without libc (the wasm link fails).
 */
#define OPAQUE(p) __asm__("" : "+r"(p))

/* Zeroes n floats at p (f32x4 stores, then the tail). */
INLINE void zero_words(float *p, int32_t n) {
  const int32_t n4 = n & ~3;
  for (int32_t i = 0; i < n4; i += 4) {
    OPAQUE(p);
    store4(p + i, splat4(0.0f));
  }
  for (int32_t i = n4; i < n; i++) {
    OPAQUE(p);
    p[i] = 0.0f;
  }
}

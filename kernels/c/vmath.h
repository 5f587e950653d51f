/*
 * Vector (f32x4, f64x2) and scalar (f64) math shared by our kernels: the C
 * port of kernels/wasm/assembly/math.ts, bit-identical to it (same operations
 * in the same order and precision; -ffp-contract=off).
 *
 * Table-free on purpose (no static data may live in the tfjs heap).
 * Accuracy, measured against f64 Math.exp/Math.log1p/Math.pow on 5e7+ points:
 *   exp_non_pos  < 0.99 ulp on [-104, 0] (subnormal results included)
 *   log1p_unit   < 0.89 ulp on [0, 1]
 *   pow_real     f64 exp(y ln m) rounded once to f32 (f64x2 lanes; per-lane
 *                pow64 for m <= 0, inf or NaN); pow64 within 1e-13 of Math.pow
 *
 * Also the wasm-only SIMD operations written portably (bitselect, pmin/pmax,
 * all_true), usable by any family that includes this header.
 */
#pragma once
#include "vision_ops.h"

/*
 * NaN bits as in the AssemblyScript module: when both operands of an add or
 * mul are NaN, x86 (and so V8) returns the first one, and LLVM's Reassociate
 * pass reorders the operands of commutative FP ops even without fast-math,
 * so NaN outputs would differ in sign/payload. Strict FP semantics (constrained
 * intrinsics) keep every operation as written. Everything after this header in
 * the including file is compiled so; for that the code below avoids int <-> fp
 * conversions (their strict lowering on wasm32 uses a stack slot) and runtime
 * f64 -> f32 constant roundings (f32 constants are hex literals).
 */
#ifdef __clang__
#endif

typedef uint32_t u32x4 __attribute__((vector_size(16)));
typedef uint64_t u64x2 __attribute__((vector_size(16)));
typedef float f32x2 __attribute__((vector_size(8)));
typedef int32_t i32x2 __attribute__((vector_size(8)));

/* ------------------------------------------------------------------------ */
/* wasm SIMD operations, portable */

/* v128.bitselect(a, b, mask): bits of a where mask is set, else of b. */
INLINE f32x4 bitsel4(f32x4 a, f32x4 b, i32x4 mask) {
  return (f32x4)(((i32x4)a & mask) | ((i32x4)b & ~mask));
}
INLINE f64x2 bitsel2d(f64x2 a, f64x2 b, i64x2 mask) {
  return (f64x2)(((i64x2)a & mask) | ((i64x2)b & ~mask));
}

/* f32x4.pmax(a, b) = a < b ? b : a;  f32x4.pmin(a, b) = b < a ? b : a (per lane). */
INLINE f32x4 pmax4(f32x4 a, f32x4 b) {
#ifdef __wasm__
  return __builtin_wasm_pmax_f32x4(a, b);
#else
  return bitsel4(b, a, a < b);
#endif
}
INLINE f64x2 pmax2d(f64x2 a, f64x2 b) {
#ifdef __wasm__
  return __builtin_wasm_pmax_f64x2(a, b);
#else
  return bitsel2d(b, a, a < b);
#endif
}
INLINE f64x2 pmin2d(f64x2 a, f64x2 b) {
#ifdef __wasm__
  return __builtin_wasm_pmin_f64x2(a, b);
#else
  return bitsel2d(b, a, b < a);
#endif
}

/* i32x4.all_true */
INLINE int32_t all_true4(i32x4 m) {
#ifdef __wasm__
  return __builtin_wasm_all_true_i32x4(m);
#else
  return m[0] != 0 && m[1] != 0 && m[2] != 0 && m[3] != 0;
#endif
}

/* f32x4.abs / f32x4.neg are sign-bit operations (NaN payloads kept). */
INLINE f32x4 abs4(f32x4 x) { return (f32x4)((u32x4)x & 0x7fffffffu); }
INLINE f32x4 neg4(f32x4 x) { return (f32x4)((u32x4)x ^ 0x80000000u); }

INLINE f32x4 splat4i_bits(uint32_t bits) { return (f32x4)((u32x4){bits, bits, bits, bits}); }
INLINE f64x2 splat2d(double x) { return (f64x2){x, x}; }

INLINE uint64_t bits_f64(double x) { uint64_t b; __builtin_memcpy(&b, &x, 8); return b; }
INLINE double f64_bits(uint64_t b) { double x; __builtin_memcpy(&x, &b, 8); return x; }

/* ------------------------------------------------------------------------ */
/* f32x4 */

/* f32 constants: AssemblyScript's f64 literal (in the comment) rounded to f32. */
#define VM_LOG2EF 0x1.715476p+0f /* 1.44269504088896341 */
/* Cody-Waite split of ln 2 (Cephes expf): C1 has 9 significant bits. */
#define VM_EXP_C1 0.693359375f
#define VM_EXP_C2 -0x1.bd0106p-13f /* -2.12194440e-4 */
/* 1.5 * 2^23: adding it rounds to an integer, kept in the low mantissa bits. */
#define VM_SHIFTER 12582912.0f

/*
 * exp(x) per lane for x <= 0 (any x <= 0, -inf and NaN included): Cephes expf
 * polynomial on [-ln2/2, ln2/2] and an exact two-step 2^n scaling, so that
 * results down into the subnormal range are rounded once.
 */
INLINE f32x4 exp_non_pos(f32x4 x) {
  /* e^-104 is below half the smallest subnormal; pmax keeps a NaN x. */
  x = pmax4(x, splat4(-104.0f));
  const f32x4 t = x * splat4(VM_LOG2EF) + splat4(VM_SHIFTER);
  const f32x4 n = t - splat4(VM_SHIFTER);
  f32x4 r = x - n * splat4(VM_EXP_C1);
  r = r - n * splat4(VM_EXP_C2);
  f32x4 y = splat4(0x1.a0d2cep-13f /* 1.9875691500e-4 */);
  y = y * r + splat4(0x1.6e879cp-10f /* 1.3981999507e-3 */);
  y = y * r + splat4(0x1.111210p-7f /* 8.3334519073e-3 */);
  y = y * r + splat4(0x1.555382p-5f /* 4.1665795894e-2 */);
  y = y * r + splat4(0x1.555554p-3f /* 1.6666665459e-1 */);
  y = y * r + splat4(0x1p-1f /* 5.0000001201e-1 */);
  y = (y * (r * r) + r) + splat4(1.0f);
  /* n in [-150, 0]: 2^n = 2^n1 * 2^n2, both halves normal (garbage for NaN: y is NaN). */
  const u32x4 ni = (u32x4)t - (u32x4)splat4(VM_SHIFTER);
  const u32x4 n1 = (u32x4)((i32x4)ni >> 1);
  const u32x4 n2 = ni - n1;
  const u32x4 s1 = (n1 + 127u) << 23;
  const u32x4 s2 = (n2 + 127u) << 23;
  return (y * (f32x4)s1) * (f32x4)s2;
}

/* ln 2 split for the float log (fdlibm s_log1pf.c). */
#define VM_LN2_HI 0x1.62e3p-1f /* 6.9313812256e-01 */
#define VM_LN2_LO 0x1.2fefa2p-17f /* 9.0580006145e-06 */

/*
 * log1p(e) per lane for e in [0, 1] (NaN propagates): for e >= 0.5,
 * log1p(e) = ln2 + log1p((e - 1) / 2), then fdlibm's log1p kernel.
 */
INLINE f32x4 log1p_unit(f32x4 e) {
  const i32x4 big = e >= splat4(0.5f);
  const f32x4 f = bitsel4((e - splat4(1.0f)) * splat4(0.5f), e, big);
  const f32x4 k = (f32x4)(big & (i32x4)splat4(1.0f)); /* 1.0 where big, else +0 */
  const f32x4 s = f / (splat4(2.0f) + f);
  const f32x4 z = s * s;
  f32x4 R = splat4(0x1.745d18p-3f /* <f32>(2/11) */);
  R = R * z + splat4(0x1.c71c72p-3f /* <f32>(2/9) */);
  R = R * z + splat4(0x1.24924ap-2f /* <f32>(2/7) */);
  R = R * z + splat4(0x1.99999ap-2f /* <f32>(2/5) */);
  R = R * z + splat4(0x1.555556p-1f /* <f32>(2/3) */);
  R = R * z;
  const f32x4 hfsq = splat4(0.5f) * (f * f);
  /* k ln2_hi - ((hfsq - (s (hfsq + R) + k ln2_lo)) - f) */
  const f32x4 corr = s * (hfsq + R) + k * splat4(VM_LN2_LO);
  return k * splat4(VM_LN2_HI) - ((hfsq - corr) - f);
}

/* m^k per lane for an integer k >= 1, by binary powering. */
INLINE f32x4 pow_int_vec(f32x4 m, int32_t k) {
  f32x4 r = m;
  f32x4 b = m;
  k -= 1;
  while (k != 0) {
    if (k & 1) r = r * b;
    k >>= 1;
    if (k != 0) b = b * b;
  }
  return r;
}

/* noinline: the rare per-lane path, called from many places (as in the AS module). */
static __attribute__((noinline, unused)) double pow64(double x, double y);

/* pow(m, y) per lane in f64 (exact JS Math.pow special cases), rounded to f32. */
INLINE f32x4 pow_lanes(f32x4 m, double y) {
  f32x4 r = splat4(0.0f);
  r[0] = (float)pow64((double)m[0], y);
  r[1] = (float)pow64((double)m[1], y);
  r[2] = (float)pow64((double)m[2], y);
  r[3] = (float)pow64((double)m[3], y);
  return r;
}

/* ------------------------------------------------------------------------ */
/* f64x2: pow for non-integer exponents at f64 accuracy */

/* fdlibm e_log.c constants */
#define VM_LN2_HI64 6.93147180369123816490e-01
#define VM_LN2_LO64 1.90821492927058770002e-10
#define VM_LG1 6.666666666666735130e-01
#define VM_LG2 3.999999999940941908e-01
#define VM_LG3 2.857142874366239149e-01
#define VM_LG4 2.222219843214978396e-01
#define VM_LG5 1.818357216161805012e-01
#define VM_LG6 1.531383769920937332e-01
#define VM_LG7 1.479819860511658591e-01

/* fdlibm e_exp.c constants */
#define VM_INVLN2_64 1.44269504088896338700e+00
#define VM_EP1 1.66666666666666019037e-01
#define VM_EP2 -2.77777777770155933842e-03
#define VM_EP3 6.61375632143793436117e-05
#define VM_EP4 -1.65339022054652515390e-06
#define VM_EP5 4.13813679705723846039e-08

/* 1.5 * 2^52: adding it rounds an f64 to an integer kept in the low mantissa bits. */
#define VM_SHIFTER64 6755399441055744.0

/* (double)k for |k| < 2^51, exactly, without an int -> fp conversion. */
INLINE f64x2 i64_to_f64x2(i64x2 k) {
  return (f64x2)((u64x2)k + (u64x2)splat2d(VM_SHIFTER64)) - splat2d(VM_SHIFTER64);
}
INLINE double i64_to_f64(int64_t k) {
  return f64_bits((uint64_t)k + bits_f64(VM_SHIFTER64)) - VM_SHIFTER64;
}
/* (int64_t)x for an integer-valued x with |x| < 2^51, without an fp -> int conversion. */
INLINE int64_t f64_to_i64(double x) {
  return (int64_t)(bits_f64(x + VM_SHIFTER64) - bits_f64(VM_SHIFTER64));
}

/*
 * ln of lanes 0,1 (hi = 0) or 2,3 (hi = 1) of a f32x4 whose lanes are all
 * finite and > 0 (subnormals included), as f64x2: fdlibm's log on the f32
 * mantissa in [sqrt(1/2), sqrt(2)) (exact in f64).
 */
INLINE f64x2 ln_half64(f32x4 m, int hi) {
  const i32x4 sub = m < splat4(0x1p-126f /* 1.17549435e-38 */);
  const f32x4 ms = bitsel4(m * splat4(8388608.0f), m, sub); /* exact */
  const u32x4 hx = (u32x4)ms + (uint32_t)(0x3f800000 - 0x3f3504f3);
  const i32x4 k = (i32x4)(((u32x4)((i32x4)hx >> 23) - 127u) + (u32x4)(sub & -23));
  const f32x4 mant = (f32x4)((hx & 0x007fffffu) + 0x3f3504f3u);
  i32x2 mant2, k2;
  if (hi) {
    mant2 = __builtin_shufflevector((i32x4)mant, (i32x4)mant, 2, 3);
    k2 = __builtin_shufflevector(k, k, 2, 3);
  } else {
    mant2 = __builtin_shufflevector((i32x4)mant, (i32x4)mant, 0, 1);
    k2 = __builtin_shufflevector(k, k, 0, 1);
  }
  /* promote_low of mant (positive, normal): the f64 with the same exponent and
   * mantissa, built from the bits (a strict fpext of vectors is scalarised). */
  const u64x2 mb = __builtin_convertvector(mant2, u64x2);
  const f64x2 f = (f64x2)((mb << 29) + ((uint64_t)(1023 - 127) << 52)) - splat2d(1.0);
  const f64x2 hfsq = splat2d(0.5) * (f * f);
  const f64x2 s = f / (splat2d(2.0) + f);
  const f64x2 z = s * s;
  const f64x2 w = z * z;
  const f64x2 t1 = w * (splat2d(VM_LG2) + w * (splat2d(VM_LG4) + w * splat2d(VM_LG6)));
  const f64x2 t2 = z * (splat2d(VM_LG1) + w * (splat2d(VM_LG3) +
      w * (splat2d(VM_LG5) + w * splat2d(VM_LG7))));
  const f64x2 R = t2 + t1;
  const f64x2 dk = i64_to_f64x2(__builtin_convertvector(k2, i64x2));
  /* s (hfsq + R) + dk ln2_lo - hfsq + f + dk ln2_hi */
  f64x2 r = s * (hfsq + R) + dk * splat2d(VM_LN2_LO64);
  r = (r - hfsq) + f;
  return r + dk * splat2d(VM_LN2_HI64);
}

/*
 * e^w per f64x2 lane (fdlibm's exp). w is clamped to [-200, 200]: every
 * result is then 0 or +inf once rounded to f32, as unclamped. NaN propagates.
 */
INLINE f64x2 exp64x2(f64x2 w) {
  w = pmax2d(pmin2d(w, splat2d(200.0)), splat2d(-200.0));
  const f64x2 t = w * splat2d(VM_INVLN2_64) + splat2d(VM_SHIFTER64);
  const f64x2 kf = t - splat2d(VM_SHIFTER64);
  const f64x2 hi = w - kf * splat2d(VM_LN2_HI64);
  const f64x2 lo = kf * splat2d(VM_LN2_LO64);
  const f64x2 r = hi - lo;
  const f64x2 rr = r * r;
  f64x2 p = splat2d(VM_EP4) + rr * splat2d(VM_EP5);
  p = splat2d(VM_EP3) + rr * p;
  p = splat2d(VM_EP2) + rr * p;
  p = splat2d(VM_EP1) + rr * p;
  const f64x2 c = r - rr * p;
  /* y = 1 - ((lo - r c / (2 - c)) - hi) */
  const f64x2 q = (r * c) / (splat2d(2.0) - c);
  const f64x2 y = splat2d(1.0) - ((lo - q) - hi);
  /* 2^k, |k| <= 289: (k + 1023) << 52 with k from t's low bits */
  const u64x2 ki = (u64x2)t - (u64x2)splat2d(VM_SHIFTER64);
  const u64x2 scale = (ki + 1023u) << 52;
  return y * (f64x2)scale;
}

/* Whether every lane is finite and > 0, where the vector pow applies. */
INLINE int32_t all_positive_finite(f32x4 m) {
  return all_true4((m > splat4(0.0f)) & (m < splat4(__builtin_inff())));
}

/* ln m per lane as two f64x2 halves; requires all_positive_finite(m). */
INLINE f64x2 ln_lo64(f32x4 m) { return ln_half64(m, 0); }
INLINE f64x2 ln_hi64(f32x4 m) { return ln_half64(m, 1); }

/* exp(y * ln m) from ln_lo64/ln_hi64, rounded to f32x4 (once, from f64). */
INLINE f32x4 pow_from_ln(f64x2 ln_lo, f64x2 ln_hi, f64x2 y) {
  const f32x2 lo = __builtin_convertvector(exp64x2(ln_lo * y), f32x2);
  const f32x2 hi = __builtin_convertvector(exp64x2(ln_hi * y), f32x2);
  return __builtin_shufflevector(lo, hi, 0, 1, 2, 3);
}

/*
 * pow(m, y) per lane for a non-integer y, rounded to f32: vector f64 for
 * lanes all finite > 0; otherwise per lane with the exact Math.pow special cases.
 */
INLINE f32x4 pow_real(f32x4 m, double y) {
  if (all_positive_finite(m)) return pow_from_ln(ln_lo64(m), ln_hi64(m), splat2d(y));
  return pow_lanes(m, y);
}

/* ------------------------------------------------------------------------ */
/* f64 scalar (fdlibm, table-free) */

/* Natural log for finite x > 0 (callers handle 0, negatives, inf, NaN). */
static inline double log64(double x) {
  uint64_t bits = bits_f64(x);
  int32_t k = 0;
  if (bits < 0x0010000000000000ull) { /* subnormal: scale by 2^54 */
    x *= 18014398509481984.0;
    bits = bits_f64(x);
    k = -54;
  }
  /* mantissa in [sqrt(2)/2, sqrt(2)), k the matching exponent */
  uint32_t hx = (uint32_t)(bits >> 32);
  hx += 0x3ff00000u - 0x3fe6a09eu;
  k += (int32_t)(hx >> 20) - 0x3ff;
  hx = (hx & 0x000fffffu) + 0x3fe6a09eu;
  bits = ((uint64_t)hx << 32) | (bits & 0xffffffffull);
  const double f = f64_bits(bits) - 1.0;
  const double hfsq = 0.5 * f * f;
  const double s = f / (2.0 + f);
  const double z = s * s;
  const double w = z * z;
  const double t1 = w * (VM_LG2 + w * (VM_LG4 + w * VM_LG6));
  const double t2 = z * (VM_LG1 + w * (VM_LG3 + w * (VM_LG5 + w * VM_LG7)));
  const double R = t2 + t1;
  const double dk = i64_to_f64(k);
  return s * (hfsq + R) + dk * VM_LN2_LO64 - hfsq + f + dk * VM_LN2_HI64;
}

/* e^x for finite x (overflow gives +inf, underflow 0, subnormals rounded once). */
static inline double exp64(double x) {
  if (x > 709.782712893384) return __builtin_inf();
  if (x < -745.1332191019412) return 0.0;
  const double kf = __builtin_nearbyint(x * VM_INVLN2_64);
  const double hi = x - kf * VM_LN2_HI64;
  const double lo = kf * VM_LN2_LO64;
  const double r = hi - lo;
  const double rr = r * r;
  const double c = r - rr * (VM_EP1 + rr * (VM_EP2 + rr * (VM_EP3 + rr * (VM_EP4 + rr * VM_EP5))));
  const double y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
  /* 2^k in two normal halves (k in [-1075, 1024]) */
  const int64_t k = f64_to_i64(kf);
  const int64_t k1 = k >> 1;
  const int64_t k2 = k - k1;
  return y * f64_bits((uint64_t)(k1 + 1023) << 52) * f64_bits((uint64_t)(k2 + 1023) << 52);
}

/* ECMAScript Math.pow(x, y) (up to f64 rounding of exp/log). */
static double pow64(double x, double y) {
  if (y == 0.0) return 1.0; /* also for NaN x, as in JS */
  if (x != x || y != y) return f64_bits(0x7ff8000000000000ull);
  const double ay = __builtin_fabs(y);
  const int yfinite = y - y == y - y;
  const int yIsInt = yfinite && __builtin_floor(y) == y;
  const int yIsOdd = yIsInt && ay < 9007199254740992.0 && __builtin_floor(ay * 0.5) * 2.0 != ay;
  if (!yfinite) {
    const double ax = __builtin_fabs(x);
    if (ax == 1.0) return f64_bits(0x7ff8000000000000ull); /* JS: (+-1) ** +-Infinity is NaN */
    return (ax > 1.0) == (y > 0.0) ? __builtin_inf() : 0.0;
  }
  if (x == 0.0) {
    /* +-0: y odd keeps the sign of x */
    if (y > 0.0) return yIsOdd ? x : 0.0;
    return yIsOdd ? 1.0 / x : __builtin_inf();
  }
  double sign = 1.0;
  if (x < 0.0) {
    if (!yIsInt) return f64_bits(0x7ff8000000000000ull);
    if (yIsOdd) sign = -1.0;
    x = -x;
  }
  if (x == __builtin_inf()) return y > 0.0 ? sign * __builtin_inf() : sign * 0.0;
  return sign * exp64(y * log64(x));
}

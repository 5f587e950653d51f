/**
 * Vector (f32x4, f64x2) and scalar (f64) math shared by our kernels.
 *
 * Everything here is table-free on purpose: the module runs on the tfjs wasm
 * backend's own memory and may not own any static data in it. AssemblyScript's
 * `Math`/`Mathf` use lookup tables (data segments) at -O3, so never call them
 * (tools/build-wasm.mjs fails the build if a data segment appears).
 *
 * Accuracy, measured against f64 `Math.exp`/`Math.log1p`/`Math.pow` on 5e7+ points:
 *   expNonPos  < 0.99 ulp on [-104, 0] (subnormal results included)
 *   log1pUnit  < 0.89 ulp on [0, 1]
 *   powReal    f64 exp(y ln m) rounded once to f32 (f64x2 lanes; per-lane
 *              pow64 for m <= 0, inf or NaN); pow64 within 1e-13 of Math.pow
 */

// ---------------------------------------------------------------------------
// f32x4

// @ts-ignore: decorator
@inline const LOG2EF: f32 = 1.44269504088896341;
// Cody-Waite split of ln 2 (Cephes expf): C1 has 9 significant bits, so n * C1
// is exact for |n| <= 2^15.
// @ts-ignore: decorator
@inline const EXP_C1: f32 = 0.693359375;
// @ts-ignore: decorator
@inline const EXP_C2: f32 = -2.12194440e-4;
// 1.5 * 2^23: adding it rounds to an integer, kept in the low mantissa bits.
// @ts-ignore: decorator
@inline const SHIFTER: f32 = 12582912.0;

/**
 * exp(x) per lane for x <= 0 (any x <= 0, -inf and NaN included): Cephes expf
 * polynomial on [-ln2/2, ln2/2] and an exact two-step 2^n scaling, so that
 * results down into the subnormal range are rounded once.
 */
// @ts-ignore: decorator
@inline export function expNonPos(x: v128): v128 {
  // e^-104 is below half the smallest subnormal: clamping there gives 0.
  // pmax(x, c) = x < c ? c : x keeps a NaN x (and is one instruction, unlike max).
  x = f32x4.pmax(x, f32x4.splat(-104.0));
  // n = round-to-nearest-even(x log2 e) by the 1.5 * 2^23 shifter: t's low
  // mantissa bits hold n as an integer (|n| <= 151).
  const t = f32x4.add(f32x4.mul(x, f32x4.splat(LOG2EF)), f32x4.splat(SHIFTER));
  const n = f32x4.sub(t, f32x4.splat(SHIFTER));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(EXP_C1)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(EXP_C2)));
  let y = f32x4.splat(1.9875691500e-4);
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(1.3981999507e-3));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(8.3334519073e-3));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(4.1665795894e-2));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(1.6666665459e-1));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(5.0000001201e-1));
  y = f32x4.add(f32x4.add(f32x4.mul(y, f32x4.mul(r, r)), r), f32x4.splat(1.0));
  // n in [-150, 0]: 2^n = 2^n1 * 2^n2 with both halves normal; y * 2^n1 is
  // exact, the second product rounds once (also into subnormals).
  const ni = i32x4.sub(t, f32x4.splat(SHIFTER)); // integer n (garbage for NaN: y is NaN)
  const n1 = i32x4.shr_s(ni, 1);
  const n2 = i32x4.sub(ni, n1);
  const s1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(n2, i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(y, s1), s2);
}

// ln 2 split for the float log (fdlibm s_log1pf.c): ln2_hi has trailing zeros.
// @ts-ignore: decorator
@inline const LN2_HI: f32 = 6.9313812256e-01;
// @ts-ignore: decorator
@inline const LN2_LO: f32 = 9.0580006145e-06;

/**
 * log1p(e) per lane for e in [0, 1] (NaN propagates). For e >= 0.5,
 * log1p(e) = ln2 + log1p((e - 1) / 2) with (e - 1) / 2 exact, so the reduced
 * argument f lies in [-0.25, 0.5] and s = f / (2 + f) in [-1/7, 1/5]. Then
 * (fdlibm) log1p(f) = f - (f^2/2 - s (f^2/2 + R)), R = 2 atanh series in s^2:
 * the rounding of s only touches the small correction term.
 */
// @ts-ignore: decorator
@inline export function log1pUnit(e: v128): v128 {
  const big = f32x4.ge(e, f32x4.splat(0.5));
  const f = v128.bitselect(
      f32x4.mul(f32x4.sub(e, f32x4.splat(1.0)), f32x4.splat(0.5)), e, big);
  const k = v128.and(big, f32x4.splat(1.0)); // 1.0 where big, else +0
  const s = f32x4.div(f, f32x4.add(f32x4.splat(2.0), f));
  const z = f32x4.mul(s, s);
  // R = z (2/3 + z (2/5 + z (2/7 + z (2/9 + z 2/11)))): |z| <= 0.04, the
  // truncation is below 1e-10 of the result.
  let R = f32x4.splat(<f32>(2.0 / 11.0));
  R = f32x4.add(f32x4.mul(R, z), f32x4.splat(<f32>(2.0 / 9.0)));
  R = f32x4.add(f32x4.mul(R, z), f32x4.splat(<f32>(2.0 / 7.0)));
  R = f32x4.add(f32x4.mul(R, z), f32x4.splat(<f32>(2.0 / 5.0)));
  R = f32x4.add(f32x4.mul(R, z), f32x4.splat(<f32>(2.0 / 3.0)));
  R = f32x4.mul(R, z);
  const hfsq = f32x4.mul(f32x4.splat(0.5), f32x4.mul(f, f));
  // k ln2_hi - ((hfsq - (s (hfsq + R) + k ln2_lo)) - f)
  const corr = f32x4.add(
      f32x4.mul(s, f32x4.add(hfsq, R)), f32x4.mul(k, f32x4.splat(LN2_LO)));
  return f32x4.sub(
      f32x4.mul(k, f32x4.splat(LN2_HI)), f32x4.sub(f32x4.sub(hfsq, corr), f));
}

/** m^k per lane for an integer k >= 1, by binary powering (about log2 k roundings). */
// @ts-ignore: decorator
@inline export function powIntVec(m: v128, k: i32): v128 {
  let r = m;
  let b = m;
  k -= 1;
  while (k != 0) {
    if (k & 1) r = f32x4.mul(r, b);
    k >>= 1;
    if (k != 0) b = f32x4.mul(b, b);
  }
  return r;
}

/** pow(m, y) per lane in f64 (exact JS `Math.pow` special cases), rounded to f32. */
// @ts-ignore: decorator
@inline export function powLanes(m: v128, y: f64): v128 {
  let r = f32x4.splat(0);
  r = f32x4.replace_lane(r, 0, <f32>pow64(<f64>f32x4.extract_lane(m, 0), y));
  r = f32x4.replace_lane(r, 1, <f32>pow64(<f64>f32x4.extract_lane(m, 1), y));
  r = f32x4.replace_lane(r, 2, <f32>pow64(<f64>f32x4.extract_lane(m, 2), y));
  r = f32x4.replace_lane(r, 3, <f32>pow64(<f64>f32x4.extract_lane(m, 3), y));
  return r;
}

// ---------------------------------------------------------------------------
// f64x2: pow for non-integer exponents at f64 accuracy

/**
 * ln of lanes 0,1 (hi = false) or 2,3 (hi = true) of a f32x4 whose lanes are
 * all finite and > 0 (subnormals included), as f64x2: fdlibm's log on the
 * f32 mantissa in [sqrt(1/2), sqrt(2)) (exact in f64), about 1e-16 relative.
 */
// @ts-ignore: decorator
@inline function lnHalf64(m: v128, hi: bool): v128 {
  const sub = f32x4.lt(m, f32x4.splat(1.17549435e-38));
  const ms = v128.bitselect(f32x4.mul(m, f32x4.splat(8388608.0)), m, sub); // exact
  const hx = i32x4.add(ms, i32x4.splat(0x3f800000 - 0x3f3504f3));
  let k = i32x4.add(
      i32x4.sub(i32x4.shr_s(hx, 23), i32x4.splat(127)), v128.and(sub, i32x4.splat(-23)));
  let mant = i32x4.add(v128.and(hx, i32x4.splat(0x007fffff)), i32x4.splat(0x3f3504f3));
  if (hi) {
    mant = i32x4.shuffle(mant, mant, 2, 3, 0, 1);
    k = i32x4.shuffle(k, k, 2, 3, 0, 1);
  }
  const f = f64x2.sub(f64x2.promote_low_f32x4(mant), f64x2.splat(1.0));
  const hfsq = f64x2.mul(f64x2.splat(0.5), f64x2.mul(f, f));
  const s = f64x2.div(f, f64x2.add(f64x2.splat(2.0), f));
  const z = f64x2.mul(s, s);
  const w = f64x2.mul(z, z);
  const t1 = f64x2.mul(w, f64x2.add(f64x2.splat(LG2),
      f64x2.mul(w, f64x2.add(f64x2.splat(LG4), f64x2.mul(w, f64x2.splat(LG6))))));
  const t2 = f64x2.mul(z, f64x2.add(f64x2.splat(LG1), f64x2.mul(w, f64x2.add(f64x2.splat(LG3),
      f64x2.mul(w, f64x2.add(f64x2.splat(LG5), f64x2.mul(w, f64x2.splat(LG7))))))));
  const R = f64x2.add(t2, t1);
  const dk = f64x2.convert_low_i32x4_s(k);
  // s (hfsq + R) + dk ln2_lo - hfsq + f + dk ln2_hi
  let r = f64x2.add(f64x2.mul(s, f64x2.add(hfsq, R)), f64x2.mul(dk, f64x2.splat(LN2_LO64)));
  r = f64x2.add(f64x2.sub(r, hfsq), f);
  return f64x2.add(r, f64x2.mul(dk, f64x2.splat(LN2_HI64)));
}

// 1.5 * 2^52: adding it rounds an f64 to an integer kept in the low mantissa bits.
// @ts-ignore: decorator
@inline const SHIFTER64: f64 = 6755399441055744.0;

/**
 * e^w per f64x2 lane (fdlibm's exp). w is clamped to [-200, 200]: every
 * result is then 0 or +inf once rounded to f32, as unclamped. NaN propagates.
 */
// @ts-ignore: decorator
@inline function exp64x2(w: v128): v128 {
  w = f64x2.pmax(f64x2.pmin(w, f64x2.splat(200.0)), f64x2.splat(-200.0));
  const t = f64x2.add(f64x2.mul(w, f64x2.splat(INVLN2_64)), f64x2.splat(SHIFTER64));
  const kf = f64x2.sub(t, f64x2.splat(SHIFTER64));
  const hi = f64x2.sub(w, f64x2.mul(kf, f64x2.splat(LN2_HI64)));
  const lo = f64x2.mul(kf, f64x2.splat(LN2_LO64));
  const r = f64x2.sub(hi, lo);
  const rr = f64x2.mul(r, r);
  let p = f64x2.add(f64x2.splat(EP4), f64x2.mul(rr, f64x2.splat(EP5)));
  p = f64x2.add(f64x2.splat(EP3), f64x2.mul(rr, p));
  p = f64x2.add(f64x2.splat(EP2), f64x2.mul(rr, p));
  p = f64x2.add(f64x2.splat(EP1), f64x2.mul(rr, p));
  const c = f64x2.sub(r, f64x2.mul(rr, p));
  // y = 1 - ((lo - r c / (2 - c)) - hi)
  const q = f64x2.div(f64x2.mul(r, c), f64x2.sub(f64x2.splat(2.0), c));
  const y = f64x2.sub(f64x2.splat(1.0), f64x2.sub(f64x2.sub(lo, q), hi));
  // 2^k, |k| <= 289: (k + 1023) << 52 with k from t's low bits
  const ki = i64x2.sub(t, f64x2.splat(SHIFTER64));
  const scale = i64x2.shl(i64x2.add(ki, i64x2.splat(1023)), 52);
  return f64x2.mul(y, scale);
}

/** Whether every lane is finite and > 0, where the vector pow applies. */
// @ts-ignore: decorator
@inline export function allPositiveFinite(m: v128): bool {
  return i32x4.all_true(v128.and(
      f32x4.gt(m, f32x4.splat(0)), f32x4.lt(m, f32x4.splat(Infinity))));
}

/** ln m per lane as two f64x2 halves; requires allPositiveFinite(m). */
// @ts-ignore: decorator
@inline export function lnLo64(m: v128): v128 { return lnHalf64(m, false); }
// @ts-ignore: decorator
@inline export function lnHi64(m: v128): v128 { return lnHalf64(m, true); }

/** exp(y * ln m) from lnLo64/lnHi64, rounded to f32x4 (once, from f64). */
// @ts-ignore: decorator
@inline export function powFromLn(lnLo: v128, lnHi: v128, y: v128): v128 {
  const lo = f32x4.demote_f64x2_zero(exp64x2(f64x2.mul(lnLo, y)));
  const hi = f32x4.demote_f64x2_zero(exp64x2(f64x2.mul(lnHi, y)));
  return f32x4.shuffle(lo, hi, 0, 1, 4, 5);
}

/**
 * pow(m, y) per lane for a non-integer y, rounded to f32: vector f64 for
 * lanes all finite > 0 (the usual case: targets in [0, 1]); otherwise per
 * lane with the exact Math.pow special cases.
 */
// @ts-ignore: decorator
@inline export function powReal(m: v128, y: f64): v128 {
  if (allPositiveFinite(m)) return powFromLn(lnLo64(m), lnHi64(m), f64x2.splat(y));
  return powLanes(m, y);
}

// ---------------------------------------------------------------------------
// f64 scalar (fdlibm, table-free)

/** ECMAScript Math.pow(x, y) (up to f64 rounding of exp/log). */
export function pow64(x: f64, y: f64): f64 {
  if (y == 0) return 1; // also for NaN x, as in JS
  if (isNaN(x) || isNaN(y)) return NaN;
  const ay = abs<f64>(y);
  const yIsInt = isFinite(y) && floor(y) == y;
  const yIsOdd = yIsInt && ay < 9007199254740992.0 && floor(ay * 0.5) * 2.0 != ay;
  if (!isFinite(y)) {
    const ax = abs<f64>(x);
    if (ax == 1) return NaN; // JS: (+-1) ** +-Infinity is NaN
    return (ax > 1) == (y > 0) ? Infinity : 0;
  }
  if (x == 0) {
    // +-0: y odd keeps the sign of x
    if (y > 0) return yIsOdd ? x : 0;
    return yIsOdd ? 1 / x : Infinity;
  }
  let sign: f64 = 1;
  if (x < 0) {
    if (!yIsInt) return NaN;
    if (yIsOdd) sign = -1;
    x = -x;
  }
  if (x == Infinity) return y > 0 ? sign * Infinity : sign * 0;
  return sign * exp64(y * log64(x));
}

// fdlibm e_log.c constants
// @ts-ignore: decorator
@inline const LN2_HI64: f64 = 6.93147180369123816490e-01;
// @ts-ignore: decorator
@inline const LN2_LO64: f64 = 1.90821492927058770002e-10;
// @ts-ignore: decorator
@inline const LG1: f64 = 6.666666666666735130e-01;
// @ts-ignore: decorator
@inline const LG2: f64 = 3.999999999940941908e-01;
// @ts-ignore: decorator
@inline const LG3: f64 = 2.857142874366239149e-01;
// @ts-ignore: decorator
@inline const LG4: f64 = 2.222219843214978396e-01;
// @ts-ignore: decorator
@inline const LG5: f64 = 1.818357216161805012e-01;
// @ts-ignore: decorator
@inline const LG6: f64 = 1.531383769920937332e-01;
// @ts-ignore: decorator
@inline const LG7: f64 = 1.479819860511658591e-01;

/** Natural log for finite x > 0 (callers handle 0, negatives, inf, NaN). */
export function log64(x: f64): f64 {
  let bits = reinterpret<u64>(x);
  let k: i32 = 0;
  if (bits < 0x0010000000000000) { // subnormal: scale by 2^54
    x *= 18014398509481984.0;
    bits = reinterpret<u64>(x);
    k = -54;
  }
  // mantissa in [sqrt(2)/2, sqrt(2)), k the matching exponent
  let hx = <u32>(bits >> 32);
  hx += 0x3ff00000 - 0x3fe6a09e;
  k += <i32>(hx >> 20) - 0x3ff;
  hx = (hx & 0x000fffff) + 0x3fe6a09e;
  bits = (<u64>hx << 32) | (bits & 0xffffffff);
  const f = reinterpret<f64>(bits) - 1.0;
  const hfsq = 0.5 * f * f;
  const s = f / (2.0 + f);
  const z = s * s;
  const w = z * z;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  const R = t2 + t1;
  const dk = <f64>k;
  return s * (hfsq + R) + dk * LN2_LO64 - hfsq + f + dk * LN2_HI64;
}

// fdlibm e_exp.c constants
// @ts-ignore: decorator
@inline const INVLN2_64: f64 = 1.44269504088896338700e+00;
// @ts-ignore: decorator
@inline const EP1: f64 = 1.66666666666666019037e-01;
// @ts-ignore: decorator
@inline const EP2: f64 = -2.77777777770155933842e-03;
// @ts-ignore: decorator
@inline const EP3: f64 = 6.61375632143793436117e-05;
// @ts-ignore: decorator
@inline const EP4: f64 = -1.65339022054652515390e-06;
// @ts-ignore: decorator
@inline const EP5: f64 = 4.13813679705723846039e-08;

/** e^x for finite x (overflow gives +inf, underflow 0, subnormals rounded once). */
export function exp64(x: f64): f64 {
  if (x > 709.782712893384) return Infinity;
  if (x < -745.1332191019412) return 0;
  const kf = nearest<f64>(x * INVLN2_64);
  const hi = x - kf * LN2_HI64;
  const lo = kf * LN2_LO64;
  const r = hi - lo;
  const rr = r * r;
  const c = r - rr * (EP1 + rr * (EP2 + rr * (EP3 + rr * (EP4 + rr * EP5))));
  const y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
  // 2^k in two normal halves (k in [-1075, 1024])
  const k = <i64>kf;
  const k1 = k >> 1;
  const k2 = k - k1;
  return y * reinterpret<f64>(<u64>(k1 + 1023) << 52) * reinterpret<f64>(<u64>(k2 + 1023) << 52);
}

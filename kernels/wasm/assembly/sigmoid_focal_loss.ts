/**
 * Sigmoid focal loss (RetinaNet), forward and backward, f32x4.
 *
 * Same math as kernels/reference/sigmoid_focal_loss.ts, written so that no
 * step cancels catastrophically in f32. With e = exp(-|x|), d = 1 + e:
 *   p = sigmoid(x), q = 1 - p: (1/d, e/d) for x >= 0, swapped for x < 0
 *   ce = max(x,0) - x t + log1p(e) = (x >= 0 ? x (1-t) : -x t) + log1p(e)
 *   m  = 1 - (p t + q (1-t)) = p (1-t) + q t
 *   p - t = p (1-t) - q t,  2p - 1 = p - q
 *   loss = ce m^gamma [* at],  at = alpha t + (1-alpha)(1-t) when alpha >= 0
 * Gradients of sum(dy * loss), dmg = d(m^gamma)/dm (0 when gamma == 0):
 *   dx = dy at ((p - t) m^gamma - ce dmg (2t - 1) p q)
 *   dt = dy (at (-x m^gamma - ce dmg (2p - 1)) + (2 alpha - 1) ce m^gamma)
 *
 * Pointers are byte offsets into the imported memory (the tfjs heap); inputs
 * and outputs never alias. Nothing is allocated, no static data is used.
 */
import {
  allPositiveFinite, expNonPos, lnHi64, lnLo64, log1pUnit, powFromLn, powIntVec, powLanes, powReal,
} from './math';

// How m^gamma is computed; each mode gets its own specialised loop.
// @ts-ignore: decorator
@inline const G_ZERO: i32 = 0;  // m^0 = 1, derivative term 0
// @ts-ignore: decorator
@inline const G_ONE: i32 = 1;   // m, derivative 1
// @ts-ignore: decorator
@inline const G_TWO: i32 = 2;   // m*m, derivative 2m
// @ts-ignore: decorator
@inline const G_INT: i32 = 3;   // integer 3..64: binary powering in f32
// @ts-ignore: decorator
@inline const G_REAL: i32 = 4;  // anything else: f64x2 pow (f64 per lane where m <= 0)

function gammaMode(g: f64): i32 {
  if (g == 0) return G_ZERO;
  if (g == 1) return G_ONE;
  if (g == 2) return G_TWO;
  if (g >= 3 && g <= 64 && floor<f64>(g) == g) return G_INT;
  return G_REAL;
}

// --- tails (n % 4 elements) --------------------------------------------------

// @ts-ignore: decorator
@inline function loadTail(p: usize, rem: i32): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (rem > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (rem > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

// @ts-ignore: decorator
@inline function storeTail(p: usize, v: v128, rem: i32): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (rem > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (rem > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

// --- shared per-element terms ------------------------------------------------

/** m^gamma for the modes where it does not come out of the derivative. */
// @ts-ignore: decorator
@inline function powGamma(m: v128, mode: i32, gi: i32, gamma: f64): v128 {
  if (mode == G_ZERO) return f32x4.splat(1.0);
  if (mode == G_ONE) return m;
  if (mode == G_TWO) return f32x4.mul(m, m);
  if (mode == G_INT) return powIntVec(m, gi);
  return powReal(m, gamma);
}

/** NaN at x = -inf, as torch's binary_cross_entropy_with_logits (inf - inf in its log-sum-exp). */
// @ts-ignore: decorator
@inline function torchCe(x: v128, ce: v128): v128 {
  return v128.bitselect(f32x4.splat(NaN), ce, f32x4.eq(x, f32x4.splat(-Infinity)));
}

// --- forward -------------------------------------------------------------------

// @ts-ignore: decorator
@inline function lossVec(
    x: v128, t: v128, av: v128, bv: v128, weighted: v128, mode: i32, gi: i32, gamma: f64): v128 {
  const one = f32x4.splat(1.0);
  const e = expNonPos(f32x4.neg(f32x4.abs(x)));
  const d = f32x4.add(one, e);
  const pos = f32x4.ge(x, f32x4.splat(0));
  const sa = f32x4.div(one, d); // sigmoid(|x|)
  const sb = f32x4.div(e, d);   // sigmoid(-|x|)
  const p = v128.bitselect(sa, sb, pos);
  const q = v128.bitselect(sb, sa, pos);
  const omt = f32x4.sub(one, t);
  const lin = v128.bitselect(f32x4.mul(x, omt), f32x4.neg(f32x4.mul(x, t)), pos);
  const ce = torchCe(x, f32x4.add(lin, log1pUnit(e)));
  const m = f32x4.add(f32x4.mul(p, omt), f32x4.mul(q, t));
  const loss = f32x4.mul(ce, powGamma(m, mode, gi, gamma));
  const at = f32x4.add(f32x4.mul(av, t), f32x4.mul(bv, omt));
  return v128.bitselect(f32x4.mul(loss, at), loss, weighted);
}

// @ts-ignore: decorator
@inline function forward(
    x: usize, t: usize, out: usize, n: i32, alpha: f64, gamma: f64, mode: i32): void {
  const weighted = i32x4.splat(alpha >= 0 ? -1 : 0);
  const av = f32x4.splat(<f32>alpha);
  const bv = f32x4.splat(<f32>(1.0 - alpha));
  const gi = <i32>gamma;
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, lossVec(v128.load(x + o), v128.load(t + o), av, bv, weighted, mode, gi, gamma));
  }
  const rem = n - n4;
  if (rem != 0) {
    const o = <usize>n4 << 2;
    const v = lossVec(loadTail(x + o, rem), loadTail(t + o, rem), av, bv, weighted, mode, gi, gamma);
    storeTail(out + o, v, rem);
  }
}

/**
 * loss[i] for i < n; x, t, out are byte offsets of float32 arrays.
 * alpha < 0 disables the weighting.
 */
export function sigmoid_focal_loss(
    x: usize, t: usize, out: usize, n: i32, alpha: f64, gamma: f64): void {
  if (n <= 0) return;
  const mode = gammaMode(gamma);
  if (mode == G_TWO) forward(x, t, out, n, alpha, gamma, G_TWO);
  else if (mode == G_ZERO) forward(x, t, out, n, alpha, gamma, G_ZERO);
  else if (mode == G_ONE) forward(x, t, out, n, alpha, gamma, G_ONE);
  else if (mode == G_INT) forward(x, t, out, n, alpha, gamma, G_INT);
  else forward(x, t, out, n, alpha, gamma, G_REAL);
}

// --- backward ------------------------------------------------------------------

// @ts-ignore: decorator
@inline function gradVec(
    g: v128, x: v128, t: v128, av: v128, bv: v128, dav: v128, weighted: v128,
    mode: i32, gi: i32, gamma: f64, dxp: usize, dtp: usize, rem: i32): void {
  const one = f32x4.splat(1.0);
  const e = expNonPos(f32x4.neg(f32x4.abs(x)));
  const d = f32x4.add(one, e);
  const pos = f32x4.ge(x, f32x4.splat(0));
  const sa = f32x4.div(one, d);
  const sb = f32x4.div(e, d);
  const p = v128.bitselect(sa, sb, pos);
  const q = v128.bitselect(sb, sa, pos);
  const omt = f32x4.sub(one, t);
  const lin = v128.bitselect(f32x4.mul(x, omt), f32x4.neg(f32x4.mul(x, t)), pos);
  const ce = torchCe(x, f32x4.add(lin, log1pUnit(e)));
  const m = f32x4.add(f32x4.mul(p, omt), f32x4.mul(q, t));

  // mg = m^gamma, dm = d(m^gamma)/dm. ce is applied last (ce (dm (2t-1) p q),
  // ce (dm (p - q))) and at is distributed over the terms, so that nothing
  // overflows in f32 at |x| near 3.4e38 where the result is finite.
  let mg: v128;
  let dm: v128 = f32x4.splat(0);
  if (mode == G_ZERO) {
    mg = one;
  } else if (mode == G_ONE) {
    mg = m;
    dm = one;
  } else if (mode == G_TWO) {
    mg = f32x4.mul(m, m);
    dm = f32x4.add(m, m);
  } else if (mode == G_INT) {
    const pk1 = powIntVec(m, gi - 1);
    mg = f32x4.mul(pk1, m);
    dm = f32x4.mul(f32x4.splat(<f32>gamma), pk1);
  } else {
    let pm1: v128;
    if (allPositiveFinite(m)) { // one ln for both powers
      const lo = lnLo64(m), hi = lnHi64(m);
      mg = powFromLn(lo, hi, f64x2.splat(gamma));
      pm1 = powFromLn(lo, hi, f64x2.splat(gamma - 1.0));
    } else {
      mg = powLanes(m, gamma);
      pm1 = powLanes(m, gamma - 1.0);
    }
    dm = f32x4.mul(f32x4.splat(<f32>gamma), pm1);
  }

  const at = v128.bitselect(
      f32x4.add(f32x4.mul(av, t), f32x4.mul(bv, omt)), one, weighted);
  const pmt = f32x4.sub(f32x4.mul(p, omt), f32x4.mul(q, t)); // p - t
  let ux = f32x4.mul(pmt, mg);
  let ut = f32x4.mul(at, f32x4.neg(f32x4.mul(x, mg)));
  if (mode != G_ZERO) {
    const tt1 = f32x4.sub(f32x4.add(t, t), one); // 2t - 1
    ux = f32x4.sub(ux, f32x4.mul(ce, f32x4.mul(f32x4.mul(dm, tt1), f32x4.mul(p, q))));
    ut = f32x4.sub(ut, f32x4.mul(ce, f32x4.mul(at, f32x4.mul(dm, f32x4.sub(p, q)))));
  }
  // dat * ce * mg with dat = 2 alpha - 1 (0 when unweighted)
  const wt = f32x4.mul(dav, f32x4.mul(ce, mg));
  const vt = f32x4.mul(g, v128.bitselect(f32x4.add(ut, wt), ut, weighted));
  const vx = f32x4.mul(f32x4.mul(g, at), ux);
  if (rem == 4) { // a literal 4 in the main loop: folded away
    v128.store(dxp, vx);
    v128.store(dtp, vt);
  } else {
    storeTail(dxp, vx, rem);
    storeTail(dtp, vt, rem);
  }
}

// @ts-ignore: decorator
@inline function backward(
    dy: usize, x: usize, t: usize, dx: usize, dt: usize, n: i32, alpha: f64, gamma: f64,
    mode: i32): void {
  const weighted = i32x4.splat(alpha >= 0 ? -1 : 0);
  const av = f32x4.splat(<f32>alpha);
  const bv = f32x4.splat(<f32>(1.0 - alpha));
  const dav = f32x4.splat(<f32>(2.0 * alpha - 1.0));
  const gi = <i32>gamma;
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    gradVec(v128.load(dy + o), v128.load(x + o), v128.load(t + o),
        av, bv, dav, weighted, mode, gi, gamma, dx + o, dt + o, 4);
  }
  const rem = n - n4;
  if (rem != 0) {
    const o = <usize>n4 << 2;
    gradVec(loadTail(dy + o, rem), loadTail(x + o, rem), loadTail(t + o, rem),
        av, bv, dav, weighted, mode, gi, gamma, dx + o, dt + o, rem);
  }
}

/**
 * Gradients of sum(dy * loss) w.r.t. the logits (dx) and the targets (dt),
 * for i < n; all pointers are byte offsets of float32 arrays.
 */
export function sigmoid_focal_loss_grad(
    dy: usize, x: usize, t: usize, dx: usize, dt: usize, n: i32, alpha: f64, gamma: f64): void {
  if (n <= 0) return;
  const mode = gammaMode(gamma);
  if (mode == G_TWO) backward(dy, x, t, dx, dt, n, alpha, gamma, G_TWO);
  else if (mode == G_ZERO) backward(dy, x, t, dx, dt, n, alpha, gamma, G_ZERO);
  else if (mode == G_ONE) backward(dy, x, t, dx, dt, n, alpha, gamma, G_ONE);
  else if (mode == G_INT) backward(dy, x, t, dx, dt, n, alpha, gamma, G_INT);
  else backward(dy, x, t, dx, dt, n, alpha, gamma, G_REAL);
}

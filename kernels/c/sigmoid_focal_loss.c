/*
 * Sigmoid focal loss (RetinaNet), forward and backward, f32x4: the C port of
 * kernels/wasm/assembly/sigmoid_focal_loss.ts (bit-identical results).
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
 * where dy is per element, or one value for all (dy_broadcast).
 *
 * Pointers are byte offsets into the tfjs heap on wasm; inputs and outputs
 * never alias. Nothing is allocated, no static data is used.
 */
#include "vmath.h"

/* How m^gamma is computed; each mode gets its own specialised loop. */
#define G_ZERO 0 /* m^0 = 1, derivative term 0 */
#define G_ONE 1  /* m, derivative 1 */
#define G_TWO 2  /* m*m, derivative 2m */
#define G_INT 3  /* integer 3..64: binary powering in f32 */
#define G_REAL 4 /* anything else: f64x2 pow (f64 per lane where m <= 0) */

static int32_t gamma_mode(double g) {
  if (g == 0.0) return G_ZERO;
  if (g == 1.0) return G_ONE;
  if (g == 2.0) return G_TWO;
  if (g >= 3.0 && g <= 64.0 && __builtin_floor(g) == g) return G_INT;
  return G_REAL;
}

/* --- tails (n % 4 elements) ------------------------------------------------ */

INLINE f32x4 load_tail(const float *p, int32_t rem) {
  f32x4 v = splat4(0.0f);
  v[0] = p[0];
  if (rem > 1) v[1] = p[1];
  if (rem > 2) v[2] = p[2];
  return v;
}

INLINE void store_tail(float *p, f32x4 v, int32_t rem) {
  p[0] = v[0];
  if (rem > 1) p[1] = v[1];
  if (rem > 2) p[2] = v[2];
}

/* --- shared per-element terms ---------------------------------------------- */

/* m^gamma for the modes where it does not come out of the derivative. */
INLINE f32x4 pow_gamma(f32x4 m, int32_t mode, int32_t gi, double gamma) {
  if (mode == G_ZERO) return splat4(1.0f);
  if (mode == G_ONE) return m;
  if (mode == G_TWO) return m * m;
  if (mode == G_INT) return pow_int_vec(m, gi);
  return pow_real(m, gamma);
}

/* NaN at x = -inf, as torch's binary_cross_entropy_with_logits (inf - inf in its log-sum-exp). */
INLINE f32x4 torch_ce(f32x4 x, f32x4 ce) {
  return bitsel4(splat4i_bits(0x7fc00000u), ce, x == splat4(-__builtin_inff()));
}

/* What the loss and its gradient both need of logits x and targets t. */
typedef struct {
  f32x4 p;   /* sigmoid(x) */
  f32x4 q;   /* 1 - p, as sigmoid(-x) */
  f32x4 omt; /* 1 - t */
  f32x4 ce;  /* binary cross-entropy with logits */
  f32x4 m;   /* 1 - p_t */
} Terms;

INLINE Terms terms_of(f32x4 x, f32x4 t) {
  const f32x4 one = splat4(1.0f);
  const f32x4 e = exp_non_pos(neg4(abs4(x)));
  const f32x4 d = one + e;
  const i32x4 pos = x >= splat4(0.0f);
  const f32x4 sa = one / d; /* sigmoid(|x|) */
  const f32x4 sb = e / d;   /* sigmoid(-|x|) */
  const f32x4 p = bitsel4(sa, sb, pos);
  const f32x4 q = bitsel4(sb, sa, pos);
  const f32x4 omt = one - t;
  const f32x4 lin = bitsel4(x * omt, neg4(x * t), pos);
  const f32x4 ce = torch_ce(x, lin + log1p_unit(e));
  return (Terms){p, q, omt, ce, p * omt + q * t};
}

/* --- forward ----------------------------------------------------------------- */

INLINE f32x4 loss_vec(f32x4 x, f32x4 t, f32x4 av, f32x4 bv, i32x4 weighted, int32_t mode,
                      int32_t gi, double gamma) {
  const Terms k = terms_of(x, t);
  const f32x4 loss = k.ce * pow_gamma(k.m, mode, gi, gamma);
  const f32x4 at = av * t + bv * k.omt;
  return bitsel4(loss * at, loss, weighted);
}

INLINE void forward(const float *x, const float *t, float *out, int32_t n, double alpha,
                    double gamma, int32_t mode) {
  const int32_t w = alpha >= 0.0 ? -1 : 0;
  const i32x4 weighted = {w, w, w, w};
  const f32x4 av = splat4((float)alpha);
  const f32x4 bv = splat4((float)(1.0 - alpha));
  /* gamma is an integer in [3, 64] in G_INT mode, the only one that reads gi. */
  const int32_t gi = mode == G_INT ? (int32_t)f64_to_i64(gamma) : 0;
  const int32_t n4 = n & ~3;
  for (int32_t i = 0; i < n4; i += 4) {
    store4(out + i, loss_vec(load4(x + i), load4(t + i), av, bv, weighted, mode, gi, gamma));
  }
  const int32_t rem = n - n4;
  if (rem != 0) {
    const f32x4 v = loss_vec(load_tail(x + n4, rem), load_tail(t + n4, rem), av, bv, weighted,
                             mode, gi, gamma);
    store_tail(out + n4, v, rem);
  }
}

/*
 * loss[i] for i < n; x, t, out are float32 arrays. alpha < 0 disables the
 * weighting.
 */
VISION_EXPORT(sigmoid_focal_loss)
void sigmoid_focal_loss(const float *x, const float *t, float *out, int32_t n, double alpha,
                        double gamma) {
  if (n <= 0) return;
  const int32_t mode = gamma_mode(gamma);
  if (mode == G_TWO) forward(x, t, out, n, alpha, gamma, G_TWO);
  else if (mode == G_ZERO) forward(x, t, out, n, alpha, gamma, G_ZERO);
  else if (mode == G_ONE) forward(x, t, out, n, alpha, gamma, G_ONE);
  else if (mode == G_INT) forward(x, t, out, n, alpha, gamma, G_INT);
  else forward(x, t, out, n, alpha, gamma, G_REAL);
}

/* --- backward ---------------------------------------------------------------- */

INLINE void grad_vec(f32x4 g, f32x4 x, f32x4 t, f32x4 av, f32x4 bv, f32x4 dav, i32x4 weighted,
                     int32_t mode, int32_t gi, double gamma, float *dxp, float *dtp, int32_t rem) {
  const f32x4 one = splat4(1.0f);
  const Terms terms = terms_of(x, t);
  const f32x4 p = terms.p, q = terms.q, omt = terms.omt, ce = terms.ce, m = terms.m;

  /*
   * mg = m^gamma, dm = d(m^gamma)/dm. ce is applied last (ce (dm (2t-1) p q),
   * ce (dm (p - q))) and at is distributed over the terms, so that nothing
   * overflows in f32 at |x| near 3.4e38 where the result is finite.
   */
  f32x4 mg;
  f32x4 dm = splat4(0.0f);
  if (mode == G_ZERO) {
    mg = one;
  } else if (mode == G_ONE) {
    mg = m;
    dm = one;
  } else if (mode == G_TWO) {
    mg = m * m;
    dm = m + m;
  } else if (mode == G_INT) {
    const f32x4 pk1 = pow_int_vec(m, gi - 1);
    mg = pk1 * m;
    dm = splat4((float)gamma) * pk1;
  } else {
    f32x4 pm1;
    if (all_positive_finite(m)) { /* one ln for both powers */
      const f64x2 lo = ln_lo64(m), hi = ln_hi64(m);
      mg = pow_from_ln(lo, hi, splat2d(gamma));
      pm1 = pow_from_ln(lo, hi, splat2d(gamma - 1.0));
    } else {
      mg = pow_lanes(m, gamma);
      pm1 = pow_lanes(m, gamma - 1.0);
    }
    dm = splat4((float)gamma) * pm1;
  }

  const f32x4 at = bitsel4(av * t + bv * omt, one, weighted);
  const f32x4 pmt = p * omt - q * t; /* p - t */
  f32x4 ux = pmt * mg;
  f32x4 ut = at * neg4(x * mg);
  if (mode != G_ZERO) {
    const f32x4 tt1 = (t + t) - one; /* 2t - 1 */
    ux = ux - ce * ((dm * tt1) * (p * q));
    ut = ut - ce * (at * (dm * (p - q)));
  }
  /* dat * ce * mg with dat = 2 alpha - 1 (0 when unweighted) */
  const f32x4 wt = dav * (ce * mg);
  const f32x4 vt = g * bitsel4(ut + wt, ut, weighted);
  const f32x4 vx = (g * at) * ux;
  if (rem == 4) { /* a literal 4 in the main loop: folded away */
    store4(dxp, vx);
    store4(dtp, vt);
  } else {
    store_tail(dxp, vx, rem);
    store_tail(dtp, vt, rem);
  }
}

INLINE void backward(const float *dy, const float *x, const float *t, float *dx, float *dt,
                     int32_t n, int32_t dy_broadcast, double alpha, double gamma, int32_t mode) {
  const int32_t w = alpha >= 0.0 ? -1 : 0;
  const i32x4 weighted = {w, w, w, w};
  const f32x4 av = splat4((float)alpha);
  const f32x4 bv = splat4((float)(1.0 - alpha));
  const f32x4 dav = splat4((float)(2.0 * alpha - 1.0));
  /* gamma is an integer in [3, 64] in G_INT mode, the only one that reads gi. */
  const int32_t gi = mode == G_INT ? (int32_t)f64_to_i64(gamma) : 0;
  const int32_t n4 = n & ~3;
  const int32_t rem = n - n4;
  if (dy_broadcast) { /* one dy for every element: splat it */
    const f32x4 g = splat4(dy[0]);
    for (int32_t i = 0; i < n4; i += 4) {
      grad_vec(g, load4(x + i), load4(t + i), av, bv, dav, weighted, mode, gi, gamma, dx + i,
               dt + i, 4);
    }
    if (rem != 0) {
      grad_vec(g, load_tail(x + n4, rem), load_tail(t + n4, rem), av, bv, dav, weighted, mode,
               gi, gamma, dx + n4, dt + n4, rem);
    }
    return;
  }
  for (int32_t i = 0; i < n4; i += 4) {
    grad_vec(load4(dy + i), load4(x + i), load4(t + i), av, bv, dav, weighted, mode, gi, gamma,
             dx + i, dt + i, 4);
  }
  if (rem != 0) {
    grad_vec(load_tail(dy + n4, rem), load_tail(x + n4, rem), load_tail(t + n4, rem), av, bv,
             dav, weighted, mode, gi, gamma, dx + n4, dt + n4, rem);
  }
}

/*
 * Gradients of sum(dy * loss) w.r.t. the logits (dx) and the targets (dt),
 * for i < n; all float32 arrays. dy_broadcast != 0: dy is ONE value for
 * every element (the gradient of a sum or a mean), else n values.
 */
VISION_EXPORT(sigmoid_focal_loss_grad)
void sigmoid_focal_loss_grad(const float *dy, const float *x, const float *t, float *dx,
                             float *dt, int32_t n, int32_t dy_broadcast, double alpha,
                             double gamma) {
  if (n <= 0) return;
  const int32_t mode = gamma_mode(gamma);
  const int32_t b = dy_broadcast != 0;
  if (mode == G_TWO) backward(dy, x, t, dx, dt, n, b, alpha, gamma, G_TWO);
  else if (mode == G_ZERO) backward(dy, x, t, dx, dt, n, b, alpha, gamma, G_ZERO);
  else if (mode == G_ONE) backward(dy, x, t, dx, dt, n, b, alpha, gamma, G_ONE);
  else if (mode == G_INT) backward(dy, x, t, dx, dt, n, b, alpha, gamma, G_INT);
  else backward(dy, x, t, dx, dt, n, b, alpha, gamma, G_REAL);
}

/**
 * Reference math of sigmoid focal loss on typed arrays, shared by the cpu
 * kernel and the host path of tfjs-node. Per element, with p = sigmoid(x):
 *   ce = max(x,0) - x t + log1p(exp(-|x|)), pt = p t + (1-p)(1-t), m = 1 - pt
 *   loss = ce m^gamma (times alpha t + (1-alpha)(1-t) when alpha >= 0)
 * Written so nothing cancels: q = 1 - p and m = p (1-t) + q t come straight
 * from exp(-|x|), as in the wasm and GPU kernels.
 * Non-finite logits as torchvision (float32, test/hostile_losses_nms.spec.ts):
 * ce is NaN at x = -inf, and with gamma 0 the gradient has no m^gamma term.
 */
type Floats = ArrayLike<number> & {[i: number]: number};

interface Terms { p: number; q: number; ce: number; m: number; }

function terms(x: number, t: number): Terms {
  const e = Math.exp(-Math.abs(x));
  const big = 1 / (1 + e), small = e / (1 + e);
  const [p, q] = x >= 0 ? [big, small] : [small, big];
  const linear = x >= 0 ? x * (1 - t) : -x * t;
  // torch's binary_cross_entropy_with_logits is NaN at x = -inf (its
  // log(exp(-max) + exp(-x - max)) meets inf - inf), and at x = +inf with t = 1 (0 * inf).
  const ce = x === -Infinity ? NaN : linear + Math.log1p(e);
  return {p, q, ce, m: p * (1 - t) + q * t};
}

function powGamma(m: number, gamma: number) {
  return gamma === 2 ? m * m : Math.pow(m, gamma);
}

export function sigmoidFocalLossValues(
    x: ArrayLike<number>, t: ArrayLike<number>, alpha: number, gamma: number, out: Floats) {
  for (let i = 0; i < out.length; i++) {
    const ti = t[i];
    const {ce, m} = terms(x[i], ti);
    let loss = ce * powGamma(m, gamma);
    if (alpha >= 0) loss *= alpha * ti + (1 - alpha) * (1 - ti);
    out[i] = loss;
  }
}

/**
 * Gradients of sum(dy * loss) for logits (dx) and targets (dt). dy has one
 * value per element, or a single value for every element (a broadcast scalar:
 * the gradient of a sum or a mean).
 */
export function sigmoidFocalLossGradValues(
    dy: ArrayLike<number>, x: ArrayLike<number>, t: ArrayLike<number>, alpha: number,
    gamma: number, dx: Floats, dt: Floats) {
  const broadcast = dy.length === 1;
  for (let i = 0; i < dx.length; i++) {
    const xi = x[i], ti = t[i];
    const {p, q, ce, m} = terms(xi, ti);
    const mg = powGamma(m, gamma);
    // d(m^gamma)/dm as torch's pow backward: 0 when gamma == 0.
    const dmg = gamma === 0 ? 0 : gamma * Math.pow(m, gamma - 1);
    const at = alpha >= 0 ? alpha * ti + (1 - alpha) * (1 - ti) : 1;
    const dat = alpha >= 0 ? 2 * alpha - 1 : 0;
    const g = broadcast ? dy[0] : dy[i];
    const pMinusT = p * (1 - ti) - q * ti;
    // gamma 0: no m^gamma term at all (torch's pow backward gives 0 there, even where ce is not finite).
    const dxm = gamma === 0 ? 0 : ce * dmg * (2 * ti - 1) * p * q;
    const dtm = gamma === 0 ? 0 : ce * dmg * (p - q);
    dx[i] = g * at * (pMinusT * mg - dxm);
    dt[i] = g * (at * (-xi * mg - dtm) + dat * ce * mg);
  }
}

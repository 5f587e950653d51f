/**
 * GLSL programs of sigmoid focal loss (forward and gradient) for the webgl
 * backend. Same math as kernels/reference/sigmoid_focal_loss.ts, written for
 * float32 on a GPU:
 *  - p and q = 1 - p both come from e = exp(-|x|), so neither cancels;
 *  - ce = max(x, 0) - x t + log1p(e) as x (1 - t) or -x t, plus log1p(e), so
 *    x - x t never cancels (t close to 1);
 *  - m = 1 - pt is computed as p (1 - t) + q t (no cancellation, never negative
 *    for targets in [0, 1]); p - t as p (1 - t) - q t; 2p - 1 as p - q;
 *  - the gradient's ce * d(m^gamma)/dm is 0 where ce == 0 (then m == 0 too, and
 *    the product's limit is 0) instead of 0 * inf = NaN for gamma < 1;
 *  - log1p(e) (GLSL has none, and GPU log has only absolute accuracy near 1)
 *    is 2 atanh(z), z = e / (2 + e) in [0, 1/3], by its odd series;
 *  - pow follows JavaScript's Math.pow where GLSL's is undefined (base <= 0)
 *    and m^2 is m * m, as the reference does;
 *  - NaN inputs and infinite logits are handled up front, explicitly (GPU
 *    NaN/inf arithmetic is not guaranteed IEEE), with the reference's results.
 * alpha, gamma (and the gradient's output selector) are uniforms, so changing
 * them never recompiles; shapes of rank <= 4 are uniforms too.
 */
import {env} from '@tensorflow/tfjs-core';
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import {FOCAL_FIELDS, FOCAL_GRAD_FIELDS} from '../gpu/uniforms.ts';
import {MAX_SHAPE_UNIFORM_RANK} from './elementwise.ts';
import {glslUniforms} from './uniforms.ts';

function mathSnippet() {
  // +Infinity and an isinf on bits for WebGL2 (GPUs may fold comparisons with inf);
  // WebGL1 shaders get an INFINITY uniform and tfjs's isinf.
  const webgl2 = env().getNumber('WEBGL_VERSION') === 2;
  const inf = webgl2 ? 'uintBitsToFloat(0x7f800000u)' : 'INFINITY';
  const isInf = webgl2 ? '(floatBitsToUint(v) & 0x7fffffffu) == 0x7f800000u' : 'isinf(v)';
  return `
    bool sflIsInf(float v) {
      return ${isInf};
    }

    // log(1 + e) for e in [0, 1]: 2 atanh(z) = 2 (z + z^3/3 + ... + z^15/15) + O(z^17 / 17).
    float sflLog1p(float e) {
      float z = e / (2.0 + e);
      float z2 = z * z;
      float s = 1.0 / 15.0;
      s = 1.0 / 13.0 + z2 * s;
      s = 1.0 / 11.0 + z2 * s;
      s = 1.0 / 9.0 + z2 * s;
      s = 1.0 / 7.0 + z2 * s;
      s = 1.0 / 5.0 + z2 * s;
      s = 1.0 / 3.0 + z2 * s;
      s = 1.0 + z2 * s;
      return 2.0 * z * s;
    }

    // max(x, 0) - x t + log1p(e) for finite x without cancelling x - x t (1 - t is
    // exact for t in [0.5, 1]): x (1 - t) for x >= 0, -x t below.
    float sflCe(float x, float t, float e) {
      return (x >= 0.0 ? x * (1.0 - t) : -x * t) + sflLog1p(e);
    }

    // Loss at an infinite logit, as the reference and torchvision give it: +inf for
    // x = +inf, 0 <= t < 1 and a positive weight, else NaN (torch's BCE is NaN at -inf).
    float sflLossAtInf(float x, float t) {
      float at = alpha >= 0.0 ? alpha * t + (1.0 - alpha) * (1.0 - t) : 1.0;
      return x > 0.0 && t >= 0.0 && t < 1.0 && at > 0.0 ? ${inf} : NAN;
    }

    // Math.pow(b, y) for finite y: GLSL pow is undefined for b < 0 and for b == 0, y <= 0.
    float sflPow(float b, float y) {
      if (y == 0.0) return 1.0;
      if (y == 1.0) return b;
      if (y == 2.0) return b * b;
      if (isnan(b)) return NAN;
      if (b == 0.0) return y > 0.0 ? 0.0 : ${inf};
      if (b < 0.0) {
        if (fract(y) != 0.0) return NAN;
        float r = pow(-b, y);
        return mod(abs(y), 2.0) == 1.0 ? -r : r;
      }
      return pow(b, y);
    }

    struct SflTerms { float p; float q; float ce; float m; };

    SflTerms sflTerms(float x, float t) {
      float e = exp(-abs(x));
      float d = 1.0 + e;
      float p = x >= 0.0 ? 1.0 / d : e / d;
      float q = x >= 0.0 ? e / d : 1.0 / d;
      return SflTerms(p, q, sflCe(x, t, e), p * (1.0 - t) + q * t);
    }
  `;
}

/** Elementwise loss of X (logits) and T (targets), both of the output's shape. */
export class SigmoidFocalLossProgram implements GPGPUProgram {
  variableNames = ['X', 'T'];
  outputShape: number[];
  userCode: string;
  enableShapeUniforms: boolean;
  customUniforms = glslUniforms(FOCAL_FIELDS);

  constructor(shape: number[]) {
    this.outputShape = shape;
    this.enableShapeUniforms = shape.length <= MAX_SHAPE_UNIFORM_RANK;
    this.userCode = `
      ${mathSnippet()}

      float sigmoidFocalLoss(float x, float t) {
        if (isnan(x) || isnan(t)) return NAN;
        if (sflIsInf(x)) return sflLossAtInf(x, t);
        SflTerms s = sflTerms(x, t);
        float loss = s.ce * sflPow(s.m, gamma);
        if (alpha >= 0.0) loss *= alpha * t + (1.0 - alpha) * (1.0 - t);
        return loss;
      }

      void main() {
        setOutput(sigmoidFocalLoss(getXAtOutCoords(), getTAtOutCoords()));
      }
    `;
  }
}

/**
 * Gradient of sum(DY * loss) with respect to the logits (uniform
 * gradOfTargets == 0) or to the targets (gradOfTargets == 1): one compiled
 * shader, run once per output. With `broadcastDy`, DY is a scalar (shape []),
 * one value for every element (a variant compiled once).
 */
export class SigmoidFocalLossGradProgram implements GPGPUProgram {
  variableNames = ['DY', 'X', 'T'];
  outputShape: number[];
  userCode: string;
  enableShapeUniforms: boolean;
  customUniforms = glslUniforms(FOCAL_GRAD_FIELDS);

  constructor(shape: number[], broadcastDy = false) {
    this.outputShape = shape;
    this.enableShapeUniforms = shape.length <= MAX_SHAPE_UNIFORM_RANK;
    this.userCode = `
      ${mathSnippet()}

      float sigmoidFocalLossGrad(float g, float x, float t) {
        // NaN in: NaN out. An infinite logit: NaN but for the logits' gradient at gamma 0,
        // at (p - t) with p = 0 or 1 (the reference and torchvision).
        if (isnan(g) || isnan(x) || isnan(t)) return NAN;
        if (sflIsInf(x)) {
          if (gradOfTargets != 0 || gamma != 0.0) return NAN;
          float ati = alpha >= 0.0 ? alpha * t + (1.0 - alpha) * (1.0 - t) : 1.0;
          return g * ati * (x > 0.0 ? 1.0 - t : -t);
        }
        SflTerms s = sflTerms(x, t);
        float mg = sflPow(s.m, gamma);
        // d(m^gamma)/dm, 0 when gamma == 0 (torch's pow backward).
        float dmg = gamma != 0.0 ? gamma * sflPow(s.m, gamma - 1.0) : 0.0;
        // ce d(m^gamma)/dm: m == 0 only where ce == 0 too (hard target, saturated logit), and
        // ce m^(gamma-1) -> 0 there; without the guard gamma < 1 would give 0 * inf = NaN.
        // ce is applied last and at is distributed, so that nothing overflows near |x| = 3.4e38.
        float at = 1.0;
        float dat = 0.0;
        if (alpha >= 0.0) {
          at = alpha * t + (1.0 - alpha) * (1.0 - t);
          dat = 2.0 * alpha - 1.0;
        }
        if (gradOfTargets == 0) {
          // (p - t) m^g - ce g m^(g-1) (2t - 1) p q
          float cx = s.ce != 0.0 ? s.ce * (dmg * (2.0 * t - 1.0) * (s.p * s.q)) : 0.0;
          return g * at * ((s.p * (1.0 - t) - s.q * t) * mg - cx);
        }
        // at (-x m^g - ce g m^(g-1) (2p - 1)) + (2 alpha - 1) ce m^g
        float ct = s.ce != 0.0 ? s.ce * (at * dmg * (s.p - s.q)) : 0.0;
        return g * (at * (-x * mg) - ct + dat * s.ce * mg);
      }

      void main() {
        setOutput(sigmoidFocalLossGrad(${broadcastDy ? 'getDY()' : 'getDYAtOutCoords()'}, getXAtOutCoords(),
            getTAtOutCoords()));
      }
    `;
  }
}

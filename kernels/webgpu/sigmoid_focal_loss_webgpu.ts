/**
 * WGSL programs of sigmoid focal loss (forward and gradient) for the webgpu
 * backend; same float32 formulation as kernels/webgl/sigmoid_focal_loss_gpu.ts:
 *  - p and q = 1 - p both from e = exp(-|x|); ce = x (1 - t) or -x t, plus log1p(e);
 *    m = p (1 - t) + q t; p - t = p (1 - t) - q t; 2p - 1 = p - q (no cancellation);
 *  - the gradient's ce * d(m^gamma)/dm is 0 where ce == 0 (m == 0 there too)
 *    instead of 0 * inf = NaN for gamma < 1;
 *  - log1p(e) = 2 atanh(e / (2 + e)) by its odd series (WGSL has no log1p and
 *    GPU log has only absolute accuracy near 1);
 *  - pow follows Math.pow where WGSL's is undefined (base < 0; base 0, y <= 0);
 *  - NaN inputs and infinite logits are handled up front, on bits (WGSL may
 *    assume no NaN or inf), with the reference's results.
 * Programs run on flat views of the tensors (shape [size]): one pipeline per
 * program for all shapes and ranks; four elements per invocation (vec4 loads
 * and stores) when the size is divisible by 4. alpha, gamma and the
 * gradient's output selector are uniforms.
 */
import {webgpu_util} from '@tensorflow/tfjs-backend-webgpu';
import type {WebGPUProgram} from '@tensorflow/tfjs-backend-webgpu';
import {FOCAL_FIELDS, FOCAL_GRAD_FIELDS} from '../gpu/uniforms.ts';
import {wgslUniforms} from './uniforms.ts';

const MATH = `
  // log(1 + e) for e in [0, 1]: 2 atanh(z) = 2 (z + z^3/3 + ... + z^15/15) + O(z^17 / 17).
  fn sflLog1p(e : f32) -> f32 {
    let z = e / (2.0 + e);
    let z2 = z * z;
    var s = 1.0 / 15.0;
    s = 1.0 / 13.0 + z2 * s;
    s = 1.0 / 11.0 + z2 * s;
    s = 1.0 / 9.0 + z2 * s;
    s = 1.0 / 7.0 + z2 * s;
    s = 1.0 / 5.0 + z2 * s;
    s = 1.0 / 3.0 + z2 * s;
    s = 1.0 + z2 * s;
    return 2.0 * z * s;
  }

  fn sflIsInf(v : f32) -> bool {
    return (bitcast<u32>(v) & 0x7fffffffu) == 0x7f800000u;
  }

  // Loss at an infinite logit, as the reference and torchvision give it: +inf for
  // x = +inf, 0 <= t < 1 and a positive weight, else NaN (torch's BCE is NaN at -inf).
  fn sflLossAtInf(x : f32, t : f32) -> f32 {
    var at = 1.0;
    if (uniforms.alpha >= 0.0) { at = uniforms.alpha * t + (1.0 - uniforms.alpha) * (1.0 - t); }
    return select(uniforms.NAN, uniforms.INFINITY, x > 0.0 && t >= 0.0 && t < 1.0 && at > 0.0);
  }

  // Math.pow(b, y) for finite y.
  fn sflPow(b : f32, y : f32) -> f32 {
    if (y == 0.0) { return 1.0; }
    if (y == 1.0) { return b; }
    if (y == 2.0) { return b * b; }
    if (isnan(b)) { return uniforms.NAN; }
    if (b == 0.0) { return select(uniforms.INFINITY, 0.0, y > 0.0); }
    if (b < 0.0) {
      if (fract(y) != 0.0) { return uniforms.NAN; }
      let r = pow(-b, y);
      return select(r, -r, abs(y) % 2.0 == 1.0);
    }
    return pow(b, y);
  }

  // max(x, 0) - x t + log1p(e) for finite x without cancelling x - x t (1 - t is
  // exact for t in [0.5, 1]): x (1 - t) for x >= 0, -x t below.
  fn sflCe(x : f32, t : f32, e : f32) -> f32 {
    return select(-x * t, x * (1.0 - t), x >= 0.0) + sflLog1p(e);
  }

  struct SflTerms { p : f32, q : f32, ce : f32, m : f32 };

  fn sflTerms(x : f32, t : f32) -> SflTerms {
    let e = exp(-abs(x));
    let d = 1.0 + e;
    let p = select(e / d, 1.0 / d, x >= 0.0);
    let q = select(1.0 / d, e / d, x >= 0.0);
    return SflTerms(p, q, sflCe(x, t, e), p * (1.0 - t) + q * t);
  }

`;

const LOSS = `
  fn sigmoidFocalLoss(x : f32, t : f32) -> f32 {
    if (isnan(x) || isnan(t)) { return uniforms.NAN; }
    if (sflIsInf(x)) { return sflLossAtInf(x, t); }
    let s = sflTerms(x, t);
    var loss = s.ce * sflPow(s.m, uniforms.gamma);
    if (uniforms.alpha >= 0.0) { loss *= uniforms.alpha * t + (1.0 - uniforms.alpha) * (1.0 - t); }
    return loss;
  }

`;

const GRAD = `
  // Gradient of g * loss for the logits (gradOfTargets == 0) or the targets (1).
  fn sigmoidFocalLossGrad(g : f32, x : f32, t : f32) -> f32 {
    // NaN in: NaN out. An infinite logit: NaN but for the logits' gradient at gamma 0,
    // at (p - t) with p = 0 or 1 (the reference and torchvision).
    if (isnan(g) || isnan(x) || isnan(t)) { return uniforms.NAN; }
    if (sflIsInf(x)) {
      if (uniforms.gradOfTargets != 0 || uniforms.gamma != 0.0) { return uniforms.NAN; }
      var ati = 1.0;
      if (uniforms.alpha >= 0.0) { ati = uniforms.alpha * t + (1.0 - uniforms.alpha) * (1.0 - t); }
      return g * ati * select(-t, 1.0 - t, x > 0.0);
    }
    let s = sflTerms(x, t);
    let mg = sflPow(s.m, uniforms.gamma);
    // d(m^gamma)/dm, 0 when gamma == 0 (torch's pow backward).
    var dmg = 0.0;
    if (uniforms.gamma != 0.0) { dmg = uniforms.gamma * sflPow(s.m, uniforms.gamma - 1.0); }
    // ce d(m^gamma)/dm: m == 0 only where ce == 0 too (hard target, saturated logit), and
    // ce m^(gamma-1) -> 0 there; without the guard gamma < 1 would give 0 * inf = NaN.
    // ce is applied last and at is distributed, so that nothing overflows near |x| = 3.4e38.
    var at = 1.0;
    var dat = 0.0;
    if (uniforms.alpha >= 0.0) {
      at = uniforms.alpha * t + (1.0 - uniforms.alpha) * (1.0 - t);
      dat = 2.0 * uniforms.alpha - 1.0;
    }
    if (uniforms.gradOfTargets == 0) {
      var cx = 0.0;
      if (s.ce != 0.0) { cx = s.ce * (dmg * (2.0 * t - 1.0) * (s.p * s.q)); }
      return g * at * ((s.p * (1.0 - t) - s.q * t) * mg - cx);
    }
    var ct = 0.0;
    if (s.ce != 0.0) { ct = s.ce * (at * dmg * (s.p - s.q)); }
    return g * (at * (-x * mg) - ct + dat * s.ce * mg);
  }
`;

const WORKGROUP_SIZE: [number, number, number] = [128, 1, 1];

abstract class FlatProgram implements WebGPUProgram {
  abstract variableNames: string[];
  abstract uniforms: string;
  abstract shaderKey: string;
  outputShape: number[];
  dispatchLayout: {x: number[]};
  dispatch: [number, number, number];
  workgroupSize = WORKGROUP_SIZE;
  size = true;
  outputComponent: number;
  variableComponents: number[];

  constructor(size: number, numInputs: number) {
    this.outputShape = [size];
    this.outputComponent = size % 4 === 0 ? 4 : 1;
    this.variableComponents = new Array(numInputs).fill(this.outputComponent);
    this.dispatchLayout = webgpu_util.flatDispatchLayout(this.outputShape);
    this.dispatch = webgpu_util.computeDispatch(
        this.dispatchLayout, this.outputShape, this.workgroupSize, [this.outputComponent, 1, 1]);
  }

  abstract getUserCode(): string;

  /** `fn(args)` per component, as the output type. */
  protected apply(fn: string, args: string[]) {
    if (this.outputComponent === 1) return `${fn}(${args.join(', ')})`;
    const lanes = ['x', 'y', 'z', 'w'].map(c => `${fn}(${args.map(a => `${a}.${c}`).join(', ')})`);
    return `vec4<f32>(${lanes.join(', ')})`;
  }
}

/** Loss of X (logits) and T (targets), flat, of equal size. */
export class SigmoidFocalLossProgram extends FlatProgram {
  variableNames = ['X', 'T'];
  uniforms = wgslUniforms(FOCAL_FIELDS);
  shaderKey: string;

  constructor(size: number) {
    super(size, 2);
    this.shaderKey = `tfjsVisionOps_sigmoidFocalLoss_${this.outputComponent}`;
  }

  getUserCode() {
    return `
      ${MATH}
      ${LOSS}
      fn main(index : i32) {
        if (index < uniforms.size) {
          let x = getXByOutputIndex(index);
          let t = getTByOutputIndex(index);
          setOutputAtIndex(index, ${this.apply('sigmoidFocalLoss', ['x', 't'])});
        }
      }
    `;
  }
}

/**
 * dInputs (gradOfTargets = 0) or dTargets (1) of DY, X, T, flat, of equal
 * size; with `broadcastDy`, DY is one value (shape [1]) for every element.
 */
export class SigmoidFocalLossGradProgram extends FlatProgram {
  variableNames = ['DY', 'X', 'T'];
  uniforms = wgslUniforms(FOCAL_GRAD_FIELDS);
  shaderKey: string;
  private readonly broadcastDy: boolean;

  constructor(size: number, broadcastDy = false) {
    super(size, 3);
    this.broadcastDy = broadcastDy;
    // A broadcast DY is read as one f32 (a 4-byte buffer cannot be bound as vec4s).
    if (broadcastDy) this.variableComponents[0] = 1;
    this.shaderKey = `tfjsVisionOps_sigmoidFocalLossGrad_${this.outputComponent}${broadcastDy ? '_dyBroadcast' : ''}`;
  }

  getUserCode() {
    const dy = !this.broadcastDy ? 'getDYByOutputIndex(index)' :
        this.outputComponent === 1 ? 'getDY(0)' : 'vec4<f32>(getDY(0))';
    return `
      ${MATH}
      ${GRAD}
      fn main(index : i32) {
        if (index < uniforms.size) {
          let g = ${dy};
          let x = getXByOutputIndex(index);
          let t = getTByOutputIndex(index);
          setOutputAtIndex(index, ${this.apply('sigmoidFocalLossGrad', ['g', 'x', 't'])});
        }
      }
    `;
  }
}

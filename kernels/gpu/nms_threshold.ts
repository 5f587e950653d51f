/**
 * The IoU threshold as the GPU NMS programs use it. torchvision compares the
 * float32 IoU q = RN(inter / union) with the threshold as a double; for a
 * float32 q, `q > thr` equals `q > T` with T the largest float32 <= thr. GPU
 * division need not be correctly rounded (WGSL and GLSL allow 2.5 ulp), so for
 * a positive normal T the programs decide RN(inter / union) > T exactly in
 * integers: inter / union > M, M = T + ulp(T) / 2 = mM * 2^eM (mM odd, 25
 * bits), or equal to M with T's last bit odd (ties to even round up).
 */
import {NMS_GPU_MIN_SHRINK_THRESHOLD, NMS_SHRINK_SLACK} from '../constants.ts';
export interface GpuThreshold {
  /** T, compared with the GPU quotient when `exact` is 0. */
  t: number;
  exact: number;
  /** M's integer mantissa and exponent, and whether T's last bit is odd. */
  mMant: number;
  mExp: number;
  tOdd: number;
  /** 1 for thresholds < 0: every defined (non-NaN) IoU suppresses. */
  negative: number;
  /**
   * IoU > T needs an overlap above T * width (of either box) along x and
   * T * height along y; `shrink` is T less 1e-4 for float32 rounding (the IoU
   * is within 1e-6 of the exact one where the GPU programs use it: T >= 1e-6,
   * sides >= 1e-30 and areas >= 1e-20, so that nothing underflows), else 0.
   */
  shrink: number;
}

export function gpuThreshold(threshold: number): GpuThreshold {
  const f = new Float32Array([threshold]);
  const bits = new Uint32Array(f.buffer);
  if (f[0] > threshold) {
    // One float32 step towards -infinity.
    if (f[0] > 0) bits[0] -= 1;
    else if (f[0] === 0) bits[0] = 0x80000001;
    else bits[0] += 1;
  }
  const t = f[0], field = (bits[0] >>> 23) & 0xff;
  const exact = t > 0 && field >= 1 && field <= 254 ? 1 : 0;
  const mantissa = (bits[0] & 0x7fffff) | 0x800000;
  return {t, exact, mMant: exact ? 2 * mantissa + 1 : 0, mExp: exact ? field - 151 : 0,
    tOdd: mantissa & 1, negative: threshold < 0 ? 1 : 0, shrink: t >= NMS_GPU_MIN_SHRINK_THRESHOLD ? Math.fround(t * (1 - NMS_SHRINK_SLACK)) : 0};
}

/**
 * Tolerances per backend, in one place. A value passes when
 * |actual - expected| <= atol + rtol * |expected|.
 * cpu, wasm and tensorflow compute in float32 (or double) on the host;
 * webgl and webgpu run on SwiftShader, whose transcendental functions are
 * less exact.
 */
export interface Tolerance { atol: number; rtol: number; }

export const TOLERANCES: Record<string, Tolerance> = {
  cpu: {atol: 1e-5, rtol: 1e-4},
  wasm: {atol: 1e-5, rtol: 1e-4},
  tensorflow: {atol: 1e-5, rtol: 1e-4},
  webgl: {atol: 1e-4, rtol: 1e-3},
  webgpu: {atol: 1e-4, rtol: 1e-3},
};

/** Known values in SEMANTICS.md are printed to 4-6 digits. */
export const KNOWN_VALUE_TOLERANCE: Tolerance = {atol: 1e-4, rtol: 1e-4};

/** Central finite differences in float32 are only good to a few digits. */
export const FINITE_DIFFERENCE_TOLERANCE: Tolerance = {atol: 2e-2, rtol: 2e-2};

/**
 * Values computed through sin/cos on webgl/webgpu (rotated box formats):
 * SwiftShader's shader trig is accurate to about 1e-4 absolute, and box
 * coordinates multiply that error.
 */
export const GPU_TRIG_TOLERANCE: Tolerance = {atol: 5e-3, rtol: 2e-3};
export const GPU_BACKENDS = ['webgl', 'webgpu'];

/**
 * Backends that flush subnormal float32 inputs and results to zero: TensorFlow's
 * CPU kernels run with FTZ/DAZ set, so on tfjs-node a subnormal is 0 (README,
 * Limits). Property specs compare such a backend with cpu on inputs flushed the same way.
 */
export const FLUSHES_SUBNORMALS = ['tensorflow'];

/**
 * Where webgl and webgpu are not held to cpu's values (README, Limits): boxes
 * with a non-finite coordinate or one whose square overflows float32 in the
 * distance-based IoUs (tfjs-webgl divides x/x as 1, so inf/inf is 1, not NaN)
 * and in roiPool (the bin bounds of an infinite box: C++ float-to-int is
 * undefined there in torchvision too). Such cases must still give an op-named
 * Error or a result of cpu's shapes and dtypes, with no stray write or leak.
 */
export const GPU_UNCOMPARED_NONFINITE_BOXES = ['distanceBoxIou', 'completeBoxIou', 'distanceBoxIouLoss',
  'completeBoxIouLoss', 'roiPool'];

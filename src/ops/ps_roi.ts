/** Position-sensitive RoI ops of R-FCN: psRoiAlign and psRoiPool. */
import {Tensor4D} from '@tensorflow/tfjs-core';
import {PsRoiAlign, PsRoiAlignAttrs, PsRoiPool, PsRoiPoolAttrs} from '../kernel_names.ts';
import {checkBoxes, checkFeatureMap, checkOutputSize, checkSamplingRatio, checkSpatialScale, DataFormat, RoiBoxes, RoiOpArgs, runRoiKernel} from './roi_common.ts';
import {fail} from './validate.ts';

/** Options of {@link psRoiAlign}. */
export interface PsRoiAlignArgs extends RoiOpArgs {
  /** Samples per bin and axis; <= 0 (default -1): adaptive, ceil(roi size / output size). */
  samplingRatio?: number;
}

/** Checks x and returns [oh, ow]: x's channels must be a multiple of oh * ow. */
function checkPositionSensitive(
    op: string, x: Tensor4D, dataFormat: DataFormat, outputSize: unknown): [number, number] {
  const [oh, ow] = checkOutputSize(op, outputSize);
  const channels = x.shape[dataFormat === 'channelsFirst' ? 1 : 3];
  if (channels % (oh * ow) !== 0) {
    fail(op, 'x', `must have a channel count divisible by outputSize ${oh}x${ow} = ${oh * ow}, got ${channels}`);
  }
  return [oh, ow];
}

/**
 * Position-sensitive RoI Align (R-FCN): bin (ph, pw) of output channel c
 * averages bilinear samples of input channel (c * oh + ph) * ow + pw; the
 * -0.5 pixel shift always applies. x [N, H, W, Cout * oh * ow] (channelsFirst:
 * [N, Cout * oh * ow, H, W]), boxes [K, 5] or one [L, 4] per image -> [K, oh,
 * ow, Cout] (channelsFirst: [K, Cout, oh, ow]). Defaults: spatialScale 1,
 * samplingRatio -1 (adaptive), dataFormat 'channelsLast'; outputSize is
 * required. torchvision: `ps_roi_align(input, boxes, output_size,
 * spatial_scale=1.0, sampling_ratio=-1)`. A degenerate box with an adaptive
 * grid gives 0 where torchvision gives NaN (0 / 0). Differentiable for x.
 *
 * ```js
 * // x [1, 8, 8, 12]: Cout 3 times 2 x 2 bins
 * psRoiAlign(x, tf.tensor2d([[0, 1, 1, 6, 6]]), {outputSize: 2})  // [1, 2, 2, 3]
 * ```
 */
export function psRoiAlign(
    x: Tensor4D, boxes: RoiBoxes,
    {outputSize, spatialScale = 1, samplingRatio = -1, dataFormat = 'channelsLast'}: PsRoiAlignArgs): Tensor4D {
  const op = 'psRoiAlign';
  checkFeatureMap(op, x, dataFormat);
  checkBoxes(op, boxes, x.shape[0]);
  const [pooledHeight, pooledWidth] = checkPositionSensitive(op, x, dataFormat, outputSize);
  checkSpatialScale(op, spatialScale);
  checkSamplingRatio(op, samplingRatio);
  const attrs: PsRoiAlignAttrs = {pooledHeight, pooledWidth, spatialScale, samplingRatio};
  return runRoiKernel(op, PsRoiAlign, x, boxes, attrs, dataFormat);
}

/**
 * Position-sensitive RoI average pooling (R-FCN): corners rounded to pixels,
 * bin (ph, pw) of output channel c is the mean of input channel
 * (c * oh + ph) * ow + pw over the bin. x [N, H, W, Cout * oh * ow]
 * (channelsFirst: [N, Cout * oh * ow, H, W]), boxes [K, 5] or one [L, 4] per
 * image -> [K, oh, ow, Cout] (channelsFirst: [K, Cout, oh, ow]). Defaults:
 * spatialScale 1, dataFormat 'channelsLast'; outputSize is required.
 * torchvision: `ps_roi_pool(input, boxes, output_size, spatial_scale=1.0)`,
 * including its quirk: the forward pass clips bins to the map minus its last
 * row and column, the backward pass does not (the gradient is torchvision's,
 * not the derivative of the output at those bins).
 *
 * ```js
 * // x [1, 8, 8, 12]: Cout 3 times 2 x 2 bins
 * psRoiPool(x, [tf.tensor2d([[1, 1, 6, 6]])], {outputSize: 2})  // [1, 2, 2, 3]
 * ```
 */
export function psRoiPool(
    x: Tensor4D, boxes: RoiBoxes, {outputSize, spatialScale = 1, dataFormat = 'channelsLast'}: RoiOpArgs): Tensor4D {
  const op = 'psRoiPool';
  checkFeatureMap(op, x, dataFormat);
  checkBoxes(op, boxes, x.shape[0]);
  const [pooledHeight, pooledWidth] = checkPositionSensitive(op, x, dataFormat, outputSize);
  checkSpatialScale(op, spatialScale);
  const attrs: PsRoiPoolAttrs = {pooledHeight, pooledWidth, spatialScale};
  return runRoiKernel(op, PsRoiPool, x, boxes, attrs, dataFormat);
}

/** Position-sensitive RoI ops of R-FCN: psRoiAlign and psRoiPool. */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor2D, Tensor4D, TensorLike} from '@tensorflow/tfjs-core';
import {PsRoiAlign, PsRoiAlignAttrs, PsRoiPool, PsRoiPoolAttrs} from '../kernel_names.ts';
import {checkOutputSize, checkRoiOutput, checkSamplingRatio, checkSpatialScale, DataFormat, roiArgs, RoiBoxes, roiInputs, RoiOpArgs, runRoiKernel} from './roi_common.ts';
import type {RoiPoolOptions} from './roi_pool.ts';
import {fail} from './validate.ts';

/** Options of {@link psRoiAlign}. */
export interface PsRoiAlignArgs extends RoiOpArgs {
  /** Samples per bin and axis; <= 0 (default -1): adaptive, ceil(roi size / output size). */
  samplingRatio?: number;
}

/** Options of {@link psRoiAlign} after a positional outputSize: spatialScale, samplingRatio, dataFormat. */
export type PsRoiAlignOptions = Omit<PsRoiAlignArgs, 'outputSize'>;

/**
 * Checks x and the output size and returns [oh, ow]: x's channels must be a
 * multiple of oh * ow, the output [K, oh, ow, C / (oh ow)] within the limits.
 */
function checkPositionSensitive(
    op: string, x: Tensor4D, boxes: Tensor2D|Tensor2D[], dataFormat: DataFormat,
    outputSize: unknown): [number, number] {
  const [oh, ow] = checkOutputSize(op, outputSize);
  const channels = x.shape[dataFormat === 'channelsFirst' ? 1 : 3];
  if (channels % (oh * ow) !== 0) {
    fail(op, 'x', `must have a channel count divisible by outputSize ${oh}x${ow} = ${oh * ow}, got ${channels}`);
  }
  checkRoiOutput(op, boxes, oh, ow, channels / (oh * ow));
  return [oh, ow];
}

/**
 * Position-sensitive RoI Align (R-FCN): bin (ph, pw) of output channel c
 * averages bilinear samples of input channel (c * oh + ph) * ow + pw; the
 * -0.5 pixel shift always applies. x [N, H, W, Cout * oh * ow] (channelsFirst:
 * [N, Cout * oh * ow, H, W]), boxes [K, 5] or one [L, 4] per image -> [K, oh,
 * ow, Cout] (channelsFirst: [K, Cout, oh, ow]); x and boxes may be tensors or
 * TensorLike (nested arrays, typed arrays). Called as torchvision is,
 * `psRoiAlign(x, boxes, outputSize, options?)`, or with one options object
 * holding outputSize (`psRoiAlign(x, boxes, {outputSize, ...})`). Defaults:
 * spatialScale 1, samplingRatio -1 (adaptive), dataFormat 'channelsLast';
 * outputSize (a number or [height, width]) is required. torchvision:
 * `ps_roi_align(input, boxes, output_size, spatial_scale=1.0,
 * sampling_ratio=-1)`. A degenerate box with an adaptive grid gives 0 where
 * torchvision gives NaN (0 / 0). Differentiable for x.
 *
 * ```js
 * // x [1, 8, 8, 12]: Cout 3 times 2 x 2 bins
 * psRoiAlign(x, tf.tensor2d([[0, 1, 1, 6, 6]]), {outputSize: 2})  // [1, 2, 2, 3]
 * psRoiAlign(x, [[0, 1, 1, 6, 6]], 2)                            // the same, torchvision's form
 * ```
 */
export function psRoiAlign(x: Tensor4D|TensorLike, boxes: RoiBoxes, args: PsRoiAlignArgs): Tensor4D;
/**
 * Position-sensitive RoI Align with torchvision's positional output size:
 * `psRoiAlign(x, boxes, outputSize, {spatialScale, samplingRatio,
 * dataFormat})`, outputSize a number or [height, width]; the same result as
 * `psRoiAlign(x, boxes, {outputSize, ...options})`.
 *
 * ```js
 * psRoiAlign(scores, rois, 7, {spatialScale: 1 / 16, samplingRatio: 2})  // scores [N, H, W, 49 Cout] -> [K, 7, 7, Cout]
 * ```
 */
export function psRoiAlign(
    x: Tensor4D|TensorLike, boxes: RoiBoxes, outputSize: number|[number, number],
    options?: PsRoiAlignOptions): Tensor4D;
export function psRoiAlign(
    x: Tensor4D|TensorLike, boxes: RoiBoxes, outputSizeOrArgs: PsRoiAlignArgs|number|[number, number],
    options?: PsRoiAlignOptions): Tensor4D {
  const op = 'psRoiAlign';
  const {outputSize, spatialScale = 1, samplingRatio = -1, dataFormat = 'channelsLast'} =
      roiArgs<PsRoiAlignArgs>(op, outputSizeOrArgs, options, ['spatialScale', 'samplingRatio', 'dataFormat']);
  return tf.tidy(() => {
    const {map, rois} = roiInputs(op, x, boxes, dataFormat);
    const [pooledHeight, pooledWidth] = checkPositionSensitive(op, map, rois, dataFormat, outputSize);
    checkSpatialScale(op, spatialScale);
    const ratio = checkSamplingRatio(op, samplingRatio);
    const attrs: PsRoiAlignAttrs = {pooledHeight, pooledWidth, spatialScale, samplingRatio: ratio};
    return runRoiKernel(op, PsRoiAlign, map, rois, attrs, dataFormat);
  });
}

/**
 * Position-sensitive RoI average pooling (R-FCN): corners rounded to pixels,
 * bin (ph, pw) of output channel c is the mean of input channel
 * (c * oh + ph) * ow + pw over the bin. x [N, H, W, Cout * oh * ow]
 * (channelsFirst: [N, Cout * oh * ow, H, W]), boxes [K, 5] or one [L, 4] per
 * image -> [K, oh, ow, Cout] (channelsFirst: [K, Cout, oh, ow]); x and boxes
 * may be tensors or TensorLike (nested arrays, typed arrays). Called as
 * torchvision is, `psRoiPool(x, boxes, outputSize, options?)`, or with one
 * options object holding outputSize (`psRoiPool(x, boxes, {outputSize, ...})`).
 * Defaults: spatialScale 1, dataFormat 'channelsLast'; outputSize (a number
 * or [height, width]) is required.
 * torchvision: `ps_roi_pool(input, boxes, output_size, spatial_scale=1.0)`,
 * including its quirk: the forward pass clips bins to the map minus its last
 * row and column, the backward pass does not (the gradient is torchvision's,
 * not the derivative of the output at those bins).
 *
 * ```js
 * // x [1, 8, 8, 12]: Cout 3 times 2 x 2 bins
 * psRoiPool(x, [tf.tensor2d([[1, 1, 6, 6]])], {outputSize: 2})  // [1, 2, 2, 3]
 * psRoiPool(x, [[[1, 1, 6, 6]]], 2)                            // the same, torchvision's form
 * ```
 */
export function psRoiPool(x: Tensor4D|TensorLike, boxes: RoiBoxes, args: RoiOpArgs): Tensor4D;
/**
 * Position-sensitive RoI average pooling with torchvision's positional output
 * size: `psRoiPool(x, boxes, outputSize, {spatialScale, dataFormat})`,
 * outputSize a number or [height, width]; the same result as `psRoiPool(x,
 * boxes, {outputSize, ...options})`.
 *
 * ```js
 * psRoiPool(scores, rois, [3, 3], {spatialScale: 1 / 16})  // scores [N, H, W, 9 Cout] -> [K, 3, 3, Cout]
 * ```
 */
export function psRoiPool(
    x: Tensor4D|TensorLike, boxes: RoiBoxes, outputSize: number|[number, number],
    options?: RoiPoolOptions): Tensor4D;
export function psRoiPool(
    x: Tensor4D|TensorLike, boxes: RoiBoxes, outputSizeOrArgs: RoiOpArgs|number|[number, number],
    options?: RoiPoolOptions): Tensor4D {
  const op = 'psRoiPool';
  const {outputSize, spatialScale = 1, dataFormat = 'channelsLast'} =
      roiArgs<RoiOpArgs>(op, outputSizeOrArgs, options, ['spatialScale', 'dataFormat']);
  return tf.tidy(() => {
    const {map, rois} = roiInputs(op, x, boxes, dataFormat);
    const [pooledHeight, pooledWidth] = checkPositionSensitive(op, map, rois, dataFormat, outputSize);
    checkSpatialScale(op, spatialScale);
    const attrs: PsRoiPoolAttrs = {pooledHeight, pooledWidth, spatialScale};
    return runRoiKernel(op, PsRoiPool, map, rois, attrs, dataFormat);
  });
}

import * as tf from '@tensorflow/tfjs-core';
import {Tensor4D, TensorLike} from '@tensorflow/tfjs-core';
import {RoiPool, RoiPoolAttrs} from '../kernel_names.ts';
import {checkOutputSize, checkRoiOutput, checkSpatialScale, roiArgs, RoiBoxes, roiInputs, RoiOpArgs, runRoiKernel} from './roi_common.ts';

/** Options of {@link roiPool} and {@link psRoiPool} after a positional outputSize: spatialScale, dataFormat. */
export type RoiPoolOptions = Omit<RoiOpArgs, 'outputSize'>;

const OPTIONS = ['spatialScale', 'dataFormat'];

/**
 * RoI max pooling (Fast R-CNN): box corners rounded to pixels, the maximum of
 * each bin (the first one in row-major order on ties; empty bins give 0).
 * x [N, H, W, C] (channelsFirst: [N, C, H, W]), float32; boxes [K, 5] or one
 * [L, 4] per image -> [K, oh, ow, C] (channelsFirst: [K, C, oh, ow]). x and
 * boxes may be tensors or TensorLike (nested arrays, typed arrays). Called as
 * torchvision is, `roiPool(x, boxes, outputSize, options?)`, or with one
 * options object holding outputSize (`roiPool(x, boxes, {outputSize, ...})`).
 * Defaults: spatialScale 1, dataFormat 'channelsLast'; outputSize (a number
 * or [height, width]) is required.
 * torchvision: `roi_pool(input, boxes, output_size, spatial_scale=1.0)`.
 * Differentiable for x (the bin's gradient goes to its maximum); boxes get a
 * zero gradient.
 *
 * ```js
 * const x = tf.range(0, 25).reshape([1, 5, 5, 1]);
 * roiPool(x, tf.tensor2d([[0, 0, 0, 4, 4]]), {outputSize: 2})  // [[[[12], [14]], [[22], [24]]]]
 * roiPool(x, [[0, 0, 0, 4, 4]], 2)                            // the same, torchvision's form
 * ```
 */
export function roiPool(x: Tensor4D|TensorLike, boxes: RoiBoxes, args: RoiOpArgs): Tensor4D;
/**
 * RoI max pooling with torchvision's positional output size: `roiPool(x,
 * boxes, outputSize, {spatialScale, dataFormat})`, outputSize a number or
 * [height, width]; the same result as `roiPool(x, boxes, {outputSize, ...options})`.
 *
 * ```js
 * roiPool(features, rois, [7, 7], {spatialScale: 1 / 16})  // rois [K, 5] -> [K, 7, 7, C]
 * ```
 */
export function roiPool(
    x: Tensor4D|TensorLike, boxes: RoiBoxes, outputSize: number|[number, number],
    options?: RoiPoolOptions): Tensor4D;
export function roiPool(
    x: Tensor4D|TensorLike, boxes: RoiBoxes, outputSizeOrArgs: RoiOpArgs|number|[number, number],
    options?: RoiPoolOptions): Tensor4D {
  const op = 'roiPool';
  const {outputSize, spatialScale = 1, dataFormat = 'channelsLast'} =
      roiArgs<RoiOpArgs>(op, outputSizeOrArgs, options, OPTIONS);
  return tf.tidy(() => {
    const {map, rois} = roiInputs(op, x, boxes, dataFormat);
    const [pooledHeight, pooledWidth] = checkOutputSize(op, outputSize);
    checkSpatialScale(op, spatialScale);
    checkRoiOutput(op, rois, pooledHeight, pooledWidth, map.shape[dataFormat === 'channelsFirst' ? 1 : 3]);
    const attrs: RoiPoolAttrs = {pooledHeight, pooledWidth, spatialScale};
    return runRoiKernel(op, RoiPool, map, rois, attrs, dataFormat);
  });
}

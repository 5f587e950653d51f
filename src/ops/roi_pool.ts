import {Tensor4D} from '@tensorflow/tfjs-core';
import {RoiPool, RoiPoolAttrs} from '../kernel_names.ts';
import {checkBoxes, checkFeatureMap, checkOutputSize, checkSpatialScale, RoiBoxes, RoiOpArgs, runRoiKernel} from './roi_common.ts';

/**
 * RoI max pooling (Fast R-CNN): box corners rounded to pixels, the maximum of
 * each bin (the first one in row-major order on ties; empty bins give 0).
 * x [N, H, W, C] (channelsFirst: [N, C, H, W]), float32; boxes [K, 5] or one
 * [L, 4] per image -> [K, oh, ow, C] (channelsFirst: [K, C, oh, ow]).
 * Defaults: spatialScale 1, dataFormat 'channelsLast'; outputSize is required.
 * torchvision: `roi_pool(input, boxes, output_size, spatial_scale=1.0)`.
 * Differentiable for x (the bin's gradient goes to its maximum); boxes get a
 * zero gradient.
 *
 * ```js
 * const x = tf.range(0, 25).reshape([1, 5, 5, 1]);
 * roiPool(x, tf.tensor2d([[0, 0, 0, 4, 4]]), {outputSize: 2})  // [[[[12], [14]], [[22], [24]]]]
 * ```
 */
export function roiPool(
    x: Tensor4D, boxes: RoiBoxes, {outputSize, spatialScale = 1, dataFormat = 'channelsLast'}: RoiOpArgs): Tensor4D {
  const op = 'roiPool';
  checkFeatureMap(op, x, dataFormat);
  checkBoxes(op, boxes, x.shape[0]);
  const [pooledHeight, pooledWidth] = checkOutputSize(op, outputSize);
  checkSpatialScale(op, spatialScale);
  const attrs: RoiPoolAttrs = {pooledHeight, pooledWidth, spatialScale};
  return runRoiKernel(op, RoiPool, x, boxes, attrs, dataFormat);
}

import {Tensor4D} from '@tensorflow/tfjs-core';
import {RoiAlign, RoiAlignAttrs} from '../kernel_names.ts';
import {checkBoxes, checkFeatureMap, checkOutputSize, checkSamplingRatio, checkSpatialScale, RoiBoxes, RoiOpArgs, runRoiKernel} from './roi_common.ts';
import {fail} from './validate.ts';

/** Options of {@link roiAlign}. */
export interface RoiAlignArgs extends RoiOpArgs {
  /** Samples per bin and axis; <= 0 (default -1): adaptive, ceil(roi size / output size). */
  samplingRatio?: number;
  /** Shift box coordinates by -0.5 pixel (pixel-centre model, Detectron2). Default false. */
  aligned?: boolean;
}

/**
 * RoI Align (Mask R-CNN): average of bilinear samples over each output bin of
 * every box. x [N, H, W, C] (channelsFirst: [N, C, H, W]), float32; boxes
 * [K, 5] (batch index, x1, y1, x2, y2) or one [L, 4] per image -> [K, oh, ow, C]
 * (channelsFirst: [K, C, oh, ow]). Defaults: spatialScale 1, samplingRatio -1
 * (adaptive), aligned false, dataFormat 'channelsLast'; outputSize is required.
 * torchvision: `roi_align(input, boxes, output_size, spatial_scale=1.0,
 * sampling_ratio=-1, aligned=False)`. Differentiable for x (boxes get a zero
 * gradient).
 *
 * ```js
 * const x = tf.range(0, 16).reshape([1, 4, 4, 1]);
 * roiAlign(x, tf.tensor2d([[0, 0, 0, 3, 3]]), {outputSize: 2, samplingRatio: 1})
 * // [[[[3.75], [5.25]], [[9.75], [11.25]]]]
 * ```
 */
export function roiAlign(
    x: Tensor4D, boxes: RoiBoxes,
    {outputSize, spatialScale = 1, samplingRatio = -1, aligned = false,
     dataFormat = 'channelsLast'}: RoiAlignArgs): Tensor4D {
  const op = 'roiAlign';
  checkFeatureMap(op, x, dataFormat);
  checkBoxes(op, boxes, x.shape[0]);
  const [pooledHeight, pooledWidth] = checkOutputSize(op, outputSize);
  checkSpatialScale(op, spatialScale);
  checkSamplingRatio(op, samplingRatio);
  if (typeof aligned !== 'boolean') fail(op, 'aligned', `must be a boolean, got ${aligned}`);
  const attrs: RoiAlignAttrs = {pooledHeight, pooledWidth, spatialScale, samplingRatio, aligned};
  return runRoiKernel(op, RoiAlign, x, boxes, attrs, dataFormat);
}

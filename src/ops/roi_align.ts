import * as tf from '@tensorflow/tfjs-core';
import {Tensor4D, TensorLike} from '@tensorflow/tfjs-core';
import {RoiAlign, RoiAlignAttrs} from '../kernel_names.ts';
import {checkOutputSize, checkRoiOutput, checkSamplingRatio, checkSpatialScale, roiArgs, RoiBoxes, roiInputs, RoiOpArgs, runRoiKernel} from './roi_common.ts';
import {fail} from './validate.ts';

/** Options of {@link roiAlign}. */
export interface RoiAlignArgs extends RoiOpArgs {
  /** Samples per bin and axis; <= 0 (default -1): adaptive, ceil(roi size / output size). */
  samplingRatio?: number;
  /** Shift box coordinates by -0.5 pixel (pixel-centre model, Detectron2). Default false. */
  aligned?: boolean;
}

/** Options of {@link roiAlign} after a positional outputSize: spatialScale, samplingRatio, aligned, dataFormat. */
export type RoiAlignOptions = Omit<RoiAlignArgs, 'outputSize'>;

const OPTIONS = ['spatialScale', 'samplingRatio', 'aligned', 'dataFormat'];

/**
 * RoI Align (Mask R-CNN): average of bilinear samples over each output bin of
 * every box. x [N, H, W, C] (channelsFirst: [N, C, H, W]), float32; boxes
 * [K, 5] (batch index, x1, y1, x2, y2) or one [L, 4] per image -> [K, oh, ow, C]
 * (channelsFirst: [K, C, oh, ow]). x and boxes may be tensors or TensorLike
 * (nested arrays, typed arrays). Called as torchvision is, `roiAlign(x, boxes,
 * outputSize, options?)`, or with one options object holding outputSize
 * (`roiAlign(x, boxes, {outputSize, ...})`). Defaults: spatialScale 1,
 * samplingRatio -1 (adaptive), aligned false, dataFormat 'channelsLast';
 * outputSize (a number or [height, width]) is required.
 * torchvision: `roi_align(input, boxes, output_size, spatial_scale=1.0,
 * sampling_ratio=-1, aligned=False)`. Differentiable for x (boxes get a zero
 * gradient).
 *
 * ```js
 * const x = tf.range(0, 16).reshape([1, 4, 4, 1]);
 * roiAlign(x, tf.tensor2d([[0, 0, 0, 3, 3]]), {outputSize: 2, samplingRatio: 1})
 * // [[[[3.75], [5.25]], [[9.75], [11.25]]]]
 * roiAlign(x, [[0, 0, 0, 3, 3]], 2, {samplingRatio: 1})  // the same, torchvision's form
 * ```
 */
export function roiAlign(x: Tensor4D|TensorLike, boxes: RoiBoxes, args: RoiAlignArgs): Tensor4D;
/**
 * RoI Align with torchvision's positional output size: `roiAlign(x, boxes,
 * outputSize, {spatialScale, samplingRatio, aligned, dataFormat})`, outputSize
 * a number or [height, width]; the same result as `roiAlign(x, boxes,
 * {outputSize, ...options})`.
 *
 * ```js
 * roiAlign(features, rois, 7, {spatialScale: 1 / 16, samplingRatio: 2})  // rois [K, 5] -> [K, 7, 7, C]
 * ```
 */
export function roiAlign(
    x: Tensor4D|TensorLike, boxes: RoiBoxes, outputSize: number|[number, number],
    options?: RoiAlignOptions): Tensor4D;
export function roiAlign(
    x: Tensor4D|TensorLike, boxes: RoiBoxes, outputSizeOrArgs: RoiAlignArgs|number|[number, number],
    options?: RoiAlignOptions): Tensor4D {
  const op = 'roiAlign';
  const {outputSize, spatialScale = 1, samplingRatio = -1, aligned = false, dataFormat = 'channelsLast'} =
      roiArgs<RoiAlignArgs>(op, outputSizeOrArgs, options, OPTIONS);
  return tf.tidy(() => {
    const {map, rois} = roiInputs(op, x, boxes, dataFormat);
    const attrs = roiAlignAttrs(op, outputSize, spatialScale, samplingRatio, aligned);
    checkRoiOutput(op, rois, attrs.pooledHeight, attrs.pooledWidth, map.shape[dataFormat === 'channelsFirst' ? 1 : 3]);
    return runRoiKernel(op, RoiAlign, map, rois, attrs, dataFormat);
  });
}

/** The RoiAlign kernel's attributes from the op's arguments, checked. */
export function roiAlignAttrs(
    op: string, outputSize: number|[number, number], spatialScale: number, samplingRatio: number,
    aligned: boolean): RoiAlignAttrs {
  const [pooledHeight, pooledWidth] = checkOutputSize(op, outputSize);
  checkSpatialScale(op, spatialScale);
  const ratio = checkSamplingRatio(op, samplingRatio);
  if (typeof aligned !== 'boolean') fail(op, 'aligned', `must be a boolean, got ${aligned}`);
  return {pooledHeight, pooledWidth, spatialScale, samplingRatio: ratio, aligned};
}

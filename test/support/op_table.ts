/** How each torchvision op name of the fixtures maps onto this package's API. */
import {Tensor} from '@tensorflow/tfjs-core';
import * as vision from '../../src/index';

type Args = Record<string, any>;
export const OPS: Record<string, (args: Args, ...inputs: Tensor[]) => Tensor | Promise<Tensor>> = {
  box_area: (a, boxes) => vision.boxArea(boxes, {fmt: a.fmt}),
  box_convert: (a, boxes) => vision.boxConvert(boxes, a.in_fmt, a.out_fmt),
  box_iou: (a, b1, b2) => vision.boxIou(b1, b2, {fmt: a.fmt}),
  generalized_box_iou: (_, b1, b2) => vision.generalizedBoxIou(b1, b2),
  distance_box_iou: (_, b1, b2) => vision.distanceBoxIou(b1, b2),
  complete_box_iou: (_, b1, b2) => vision.completeBoxIou(b1, b2),
  clip_boxes_to_image: (a, boxes) => vision.clipBoxesToImage(boxes, a.size),
  remove_small_boxes: (a, boxes) => vision.removeSmallBoxesAsync(boxes as any, a.min_size),
  masks_to_boxes: (_, masks) => vision.masksToBoxes(masks),
  generalized_box_iou_loss: (a, b1, b2) => vision.generalizedBoxIouLoss(b1, b2, {reduction: a.reduction}),
  distance_box_iou_loss: (a, b1, b2) => vision.distanceBoxIouLoss(b1, b2, {reduction: a.reduction}),
  complete_box_iou_loss: (a, b1, b2) => vision.completeBoxIouLoss(b1, b2, {reduction: a.reduction}),
  sigmoid_focal_loss: (a, x, t) =>
      vision.sigmoidFocalLoss(x, t, {alpha: a.alpha, gamma: a.gamma, reduction: a.reduction}),
  nms: (a, boxes, scores) => vision.nms(boxes as any, scores as any, a.iou_threshold),
  batched_nms: (a, boxes, scores, idxs) =>
      vision.batchedNms(boxes as any, scores as any, idxs as any, a.iou_threshold),
  // RoI fixtures are NCHW; specs pass data_format 'channelsLast' with transposed tensors.
  roi_align: (a, x, boxes) => vision.roiAlign(x as any, boxes as any, {outputSize: a.output_size,
    spatialScale: a.spatial_scale, samplingRatio: a.sampling_ratio, aligned: a.aligned,
    dataFormat: a.data_format ?? 'channelsFirst'}),
  roi_pool: (a, x, boxes) => vision.roiPool(x as any, boxes as any, {outputSize: a.output_size,
    spatialScale: a.spatial_scale, dataFormat: a.data_format ?? 'channelsFirst'}),
  ps_roi_align: (a, x, boxes) => vision.psRoiAlign(x as any, boxes as any, {outputSize: a.output_size,
    spatialScale: a.spatial_scale, samplingRatio: a.sampling_ratio, dataFormat: a.data_format ?? 'channelsFirst'}),
  ps_roi_pool: (a, x, boxes) => vision.psRoiPool(x as any, boxes as any, {outputSize: a.output_size,
    spatialScale: a.spatial_scale, dataFormat: a.data_format ?? 'channelsFirst'}),
  // NCHW and OIHW like the fixtures unless data_format / weight_format say otherwise; mask and bias
  // follow weight when a.mask / a.bias.
  deform_conv2d: (a, x, offset, weight, ...rest) => {
    const mask = a.mask ? rest.shift() : null, bias = a.bias ? rest.shift() : null;
    return vision.deformConv2d(x as any, offset as any, weight as any, {mask: mask as any, bias: bias as any,
      stride: a.stride, padding: a.padding, dilation: a.dilation, dataFormat: a.data_format ?? 'channelsFirst',
      weightFormat: a.weight_format ?? 'OIHW'});
  },
};

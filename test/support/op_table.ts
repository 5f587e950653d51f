/** How each torchvision op name of the fixtures maps onto this package's API. */
import {Tensor} from '@tensorflow/tfjs-core';
import * as vision from '../../src/index';

type Args = Record<string, any>;
export const OPS: Record<string, (args: Args, ...inputs: Tensor[]) => Tensor> = {
  box_area: (a, boxes) => vision.boxArea(boxes, {fmt: a.fmt}),
  box_convert: (a, boxes) => vision.boxConvert(boxes, a.in_fmt, a.out_fmt),
  box_iou: (a, b1, b2) => vision.boxIou(b1, b2, {fmt: a.fmt}),
  generalized_box_iou: (_, b1, b2) => vision.generalizedBoxIou(b1, b2),
  distance_box_iou: (_, b1, b2) => vision.distanceBoxIou(b1, b2),
  complete_box_iou: (_, b1, b2) => vision.completeBoxIou(b1, b2),
  clip_boxes_to_image: (a, boxes) => vision.clipBoxesToImage(boxes, a.size),
  remove_small_boxes: (a, boxes) => vision.removeSmallBoxes(boxes as any, a.min_size),
  masks_to_boxes: (_, masks) => vision.masksToBoxes(masks),
  generalized_box_iou_loss: (a, b1, b2) => vision.generalizedBoxIouLoss(b1, b2, {reduction: a.reduction}),
  distance_box_iou_loss: (a, b1, b2) => vision.distanceBoxIouLoss(b1, b2, {reduction: a.reduction}),
  complete_box_iou_loss: (a, b1, b2) => vision.completeBoxIouLoss(b1, b2, {reduction: a.reduction}),
  sigmoid_focal_loss: (a, x, t) =>
      vision.sigmoidFocalLoss(x, t, {alpha: a.alpha, gamma: a.gamma, reduction: a.reduction}),
};

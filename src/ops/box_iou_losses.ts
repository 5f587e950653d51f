/**
 * IoU losses of torchvision.ops over paired boxes [..., 4] (xyxy):
 * generalized_box_iou_loss, distance_box_iou_loss, complete_box_iou_loss.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor, TensorLike} from '@tensorflow/tfjs-core';
import {aspectPenalty, divKeepingNaN} from './box_iou.ts';
import {connectedZeros, maximum, minimum, stopGradient} from './grad_utils.ts';
import {assertDtype, assertFiniteNumber, assertLastDim, assertMinRank, assertOneOf, assertSameShape, assertTensor, checkOptions, toTensor} from './validate.ts';

/**
 * How a loss is reduced: 'none' keeps the elementwise loss, 'mean' and 'sum'
 * give a scalar ('mean' of an empty loss is 0).
 */
export type Reduction = 'none' | 'mean' | 'sum';
/** Every {@link Reduction}, for validation. */
export const REDUCTIONS: readonly Reduction[] = ['none', 'mean', 'sum'];
/** Options of the IoU losses. */
export interface IouLossArgs {
  /** Default 'none': one loss per box pair, shape [...]. */
  reduction?: Reduction;
  /** Added to denominators against division by zero. Default 1e-7. */
  eps?: number;
}

/**
 * Applies `reduction` to an elementwise loss ('none' returns it as is). 'mean'
 * of an empty loss is 0 (torchvision 0.29), not NaN. An empty loss (any
 * reduction) is a zero of the reduced shape connected to `inputs`, as
 * torchvision's `0.0 * loss.sum()`: its gradient is a zero (empty) tensor of
 * each input's shape, so a training step on a batch with nothing matched
 * runs (tfjs-webgl cannot reduce a size-0 tensor, and a constant has no
 * gradient path).
 */
export function reduce(loss: Tensor, reduction: Reduction, inputs: Tensor[]): Tensor {
  if (loss.size === 0) return connectedZeros(reduction === 'none' ? loss.shape : [], inputs);
  if (reduction === 'none') return loss;
  return reduction === 'sum' ? tf.sum(loss) : tf.mean(loss);
}

const OPTIONS = ['reduction', 'eps'];

/**
 * Converts (TensorLike: call inside tf.tidy) and checks the boxes and options
 * of an IoU loss; returns the boxes and the options with their defaults.
 */
function lossArgs(op: string, boxes1In: unknown, boxes2In: unknown, options: unknown) {
  const {reduction = 'none', eps = 1e-7} = checkOptions<IouLossArgs>(op, 'options', options, OPTIONS);
  const boxes1 = toTensor(op, 'boxes1', boxes1In);
  const boxes2 = toTensor(op, 'boxes2', boxes2In);
  checkArgs(op, boxes1, boxes2, reduction, eps);
  return {boxes1, boxes2, reduction, eps};
}

function checkArgs(op: string, boxes1: Tensor, boxes2: Tensor, reduction: Reduction, eps: number) {
  for (const [arg, b] of [['boxes1', boxes1], ['boxes2', boxes2]] as const) {
    assertTensor(op, arg, b);
    assertMinRank(op, arg, b, 1);
    assertLastDim(op, arg, b, 4);
    assertDtype(op, arg, b, ['float32', 'int32']);
  }
  assertSameShape(op, 'boxes2', boxes2, boxes1, 'boxes1');
  assertOneOf(op, 'reduction', reduction, REDUCTIONS);
  assertFiniteNumber(op, 'eps', eps);
}

interface Paired {
  iou: Tensor; union: Tensor;
  /** Enclosing box width and height. */
  encW: Tensor; encH: Tensor;
  a: Tensor[]; b: Tensor[];
}

function paired(boxes1: Tensor, boxes2: Tensor, eps: number): Paired {
  const a = tf.unstack(tf.cast(boxes1, 'float32'), boxes1.rank - 1);
  const b = tf.unstack(tf.cast(boxes2, 'float32'), boxes2.rank - 1);
  const iw = tf.sub(minimum(a[2], b[2]), maximum(a[0], b[0]));
  const ih = tf.sub(minimum(a[3], b[3]), maximum(a[1], b[1]));
  // Intersection counts only where both extents are positive; relu's zero
  // gradient at 0 matches torchvision's strict mask.
  const inter = tf.mul(tf.relu(iw), tf.relu(ih));
  const area = (c: Tensor[]) => tf.mul(tf.sub(c[2], c[0]), tf.sub(c[3], c[1]));
  const union = tf.sub(tf.add(area(a), area(b)), inter);
  const iou = divKeepingNaN(inter, tf.add(union, eps));
  const encW = tf.sub(maximum(a[2], b[2]), minimum(a[0], b[0]));
  const encH = tf.sub(maximum(a[3], b[3]), minimum(a[1], b[1]));
  return {iou, union, encW, encH, a, b};
}

function diouLoss(p: Paired, eps: number): Tensor {
  const diag = tf.add(tf.add(tf.square(p.encW), tf.square(p.encH)), eps);
  const centre = (c: Tensor[], i: number) => tf.div(tf.add(c[i + 2], c[i]), 2);
  const rho2 = tf.add(
      tf.square(tf.sub(centre(p.a, 0), centre(p.b, 0))),
      tf.square(tf.sub(centre(p.a, 1), centre(p.b, 1))));
  return tf.add(tf.sub(1, p.iou), divKeepingNaN(rho2, diag));
}

/**
 * 1 - GIoU of paired boxes boxes1 and boxes2 [..., 4] (xyxy, same shape;
 * tensors or TensorLike) -> [...], or a scalar when reduced. Options
 * {reduction, eps} (a non-object options argument is an Error); defaults:
 * reduction 'none', eps 1e-7.
 * torchvision: `generalized_box_iou_loss(boxes1, boxes2, reduction='none', eps=1e-7)`.
 *
 * ```js
 * generalizedBoxIouLoss(pred, target, {reduction: 'mean'}) // pred, target [N, 4] -> scalar
 * generalizedBoxIouLoss([[0, 0, 1, 1]], [[0, 0, 1, 1]])     // [0]: plain arrays work too
 * ```
 */
export function generalizedBoxIouLoss(
    boxes1: Tensor|TensorLike, boxes2: Tensor|TensorLike, options: IouLossArgs = {}): Tensor {
  return tf.tidy(() => {
    const {boxes1: b1, boxes2: b2, reduction, eps} = lossArgs('generalizedBoxIouLoss', boxes1, boxes2, options);
    const p = paired(b1, b2, eps);
    const enclosing = tf.mul(p.encW, p.encH);
    const penalty = divKeepingNaN(tf.sub(enclosing, p.union), tf.add(enclosing, eps));
    return reduce(tf.add(tf.sub(1, p.iou), penalty), reduction, [b1, b2]);
  });
}

/**
 * 1 - DIoU of paired boxes boxes1 and boxes2 [..., 4] (xyxy, same shape;
 * tensors or TensorLike) -> [...], or a scalar when reduced: 1 - iou + rho^2
 * / (c^2 + eps). Options {reduction, eps} (a non-object options argument is
 * an Error); defaults: reduction 'none', eps 1e-7.
 * torchvision: `distance_box_iou_loss(boxes1, boxes2, reduction='none', eps=1e-7)`.
 *
 * ```js
 * distanceBoxIouLoss(tf.tensor2d([[0, 0, 2, 2]]), tf.tensor2d([[1, 0, 3, 2]])) // [1 - 1/3 + 1/13] = [0.7436]
 * distanceBoxIouLoss([[0, 0, 2, 2]], [[1, 0, 3, 2]], {reduction: 'sum'})        // 0.7436
 * ```
 */
export function distanceBoxIouLoss(
    boxes1: Tensor|TensorLike, boxes2: Tensor|TensorLike, options: IouLossArgs = {}): Tensor {
  return tf.tidy(() => {
    const {boxes1: b1, boxes2: b2, reduction, eps} = lossArgs('distanceBoxIouLoss', boxes1, boxes2, options);
    return reduce(diouLoss(paired(b1, b2, eps), eps), reduction, [b1, b2]);
  });
}

/**
 * 1 - CIoU of paired boxes boxes1 and boxes2 [..., 4] (xyxy, same shape;
 * tensors or TensorLike) -> [...], or a scalar when reduced: DIoU loss +
 * alpha * v, alpha held constant (no gradient). Options {reduction, eps} (a
 * non-object options argument is an Error); defaults: reduction 'none', eps 1e-7.
 * torchvision: `complete_box_iou_loss(boxes1, boxes2, reduction='none', eps=1e-7)`.
 *
 * ```js
 * completeBoxIouLoss(pred, target, {reduction: 'sum'}) // pred, target [N, 4] -> scalar
 * completeBoxIouLoss([[0, 0, 2, 2]], [[1, 0, 3, 2]])    // [0.7436] (same aspect: v = 0)
 * ```
 */
export function completeBoxIouLoss(
    boxes1: Tensor|TensorLike, boxes2: Tensor|TensorLike, options: IouLossArgs = {}): Tensor {
  return tf.tidy(() => {
    const {boxes1: b1, boxes2: b2, reduction, eps} = lossArgs('completeBoxIouLoss', boxes1, boxes2, options);
    const p = paired(b1, b2, eps);
    const v = aspectPenalty(p.b, p.a);
    const alpha = stopGradient(tf.div(v, tf.add(tf.add(tf.sub(1, p.iou), v), eps)));
    return reduce(tf.add(diouLoss(p, eps), tf.mul(alpha, v)), reduction, [b1, b2]);
  });
}

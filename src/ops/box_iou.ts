/**
 * Pairwise IoU family of torchvision.ops (boxes.py): boxes1 [..., N, 4] against
 * boxes2 [..., M, 4] -> [..., N, M]. Compositions of tf ops, so gradients come
 * from tf autodiff; the helpers in grad_utils make them equal to PyTorch's.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor, TensorLike} from '@tensorflow/tfjs-core';
import {AXIS_ALIGNED, BoxFormat, checkBoxes, convertAxisAligned, coords} from './box_format.ts';
import {clampMin0, connectedZeros, maximum, minimum, stopGradient} from './grad_utils.ts';
import {assertFiniteNumber, assertMinRank, assertOneOf, checkOptions, fail, toTensor} from './validate.ts';

const DIOU_EPS = 1e-7;

/**
 * Converts (TensorLike: call inside tf.tidy) and checks a pair of box sets
 * [..., N, 4] and [..., M, 4] with equal leading dims.
 */
function checkPair(op: string, boxes1In: unknown, boxes2In: unknown): [Tensor, Tensor] {
  const boxes1 = toTensor(op, 'boxes1', boxes1In);
  const boxes2 = toTensor(op, 'boxes2', boxes2In);
  for (const [arg, b] of [['boxes1', boxes1], ['boxes2', boxes2]] as const) {
    checkBoxes(op, arg, b);
    assertMinRank(op, arg, b, 2);
  }
  const lead1 = boxes1.shape.slice(0, -2);
  const lead2 = boxes2.shape.slice(0, -2);
  if (lead1.length !== lead2.length || lead1.some((d, i) => d !== lead2[i])) {
    fail(op, 'boxes2', `must have the leading (batch) dimensions of 'boxes1' ` +
        `[${lead1}], got shape [${boxes2.shape}]`);
  }
  return [boxes1, boxes2];
}

/**
 * The [..., N, M] result of a pairwise op where N, M or a leading dim is 0
 * (the composite path's unstack/stack gradients fail on empty tensors).
 */
function emptyPairwise(b1: Tensor, b2: Tensor): Tensor {
  return connectedZeros([...b1.shape.slice(0, -1), b2.shape[b2.rank - 2]], [b1, b2]);
}

interface Pairwise {
  inter: Tensor; union: Tensor;
  /** Enclosing box width and height. */
  encW: Tensor; encH: Tensor;
  /** Box coordinates broadcast to [..., N, M]: a = boxes1, b = boxes2. */
  a: Tensor[]; b: Tensor[];
}

function pairwise(boxes1: Tensor, boxes2: Tensor, withEnclosing: boolean): Pairwise {
  const f1 = tf.cast(boxes1, 'float32');
  const f2 = tf.cast(boxes2, 'float32');
  const a = coords(tf.expandDims(f1, -2));  // each [..., N, 1]
  const b = coords(tf.expandDims(f2, -3));  // each [..., 1, M]
  const area1 = tf.mul(tf.sub(a[2], a[0]), tf.sub(a[3], a[1]));
  const area2 = tf.mul(tf.sub(b[2], b[0]), tf.sub(b[3], b[1]));
  const w = clampMin0(tf.sub(minimum(a[2], b[2]), maximum(a[0], b[0])));
  const h = clampMin0(tf.sub(minimum(a[3], b[3]), maximum(a[1], b[1])));
  const inter = tf.mul(w, h);
  const union = tf.sub(tf.add(area1, area2), inter);
  let encW = inter, encH = inter;
  if (withEnclosing) {
    encW = clampMin0(tf.sub(maximum(a[2], b[2]), minimum(a[0], b[0])));
    encH = clampMin0(tf.sub(maximum(a[3], b[3]), minimum(a[1], b[1])));
  }
  return {inter, union, encW, encH, a, b};
}

/**
 * Pairwise IoU of boxes1 [..., N, 4] and boxes2 [..., M, 4] (tensors or
 * TensorLike) -> [..., N, M], boxes in `fmt` (options {fmt}, default 'xyxy';
 * a non-object options argument is an Error). 0/0 gives NaN as in torchvision.
 * torchvision: `box_iou(boxes1, boxes2, fmt)`.
 *
 * ```js
 * boxIou(tf.tensor2d([[0, 0, 2, 2]]), tf.tensor2d([[1, 0, 3, 2]])) // [[1/3]]
 * boxIou([[0, 0, 2, 2]], [[1, 0, 2, 2]], {fmt: 'xywh'})            // [[1/3]]: box_iou(b1, b2, fmt='xywh')
 * ```
 */
export function boxIou(boxes1: Tensor|TensorLike, boxes2: Tensor|TensorLike, options: {fmt?: BoxFormat} = {}): Tensor {
  const {fmt = 'xyxy'} = checkOptions<{fmt?: BoxFormat}>('boxIou', 'options', options, ['fmt']);
  return tf.tidy(() => {
    const [b1, b2] = checkPair('boxIou', boxes1, boxes2);
    if (b1.size === 0 || b2.size === 0) return emptyPairwise(b1, b2);
    assertOneOf('boxIou', 'fmt', fmt, AXIS_ALIGNED);
    const toXyxy = (b: Tensor) => fmt === 'xyxy' ? b : convertAxisAligned(tf.cast(b, 'float32'), fmt, 'xyxy');
    const {inter, union} = pairwise(toXyxy(b1), toXyxy(b2), false);
    return divKeepingNaN(inter, union);
  });
}

/**
 * a / b with 0/0 = NaN on every backend: tfjs-webgl's division returns 1 when
 * a == b, so 0 * (1/b) (NaN exactly when b == 0, else 0) is added.
 */
export function divKeepingNaN(a: Tensor, b: Tensor): Tensor {
  return tf.add(tf.div(a, b), tf.mul(0, tf.reciprocal(b)));
}

/**
 * Pairwise generalized IoU of boxes1 [..., N, 4] and boxes2 [..., M, 4] (xyxy,
 * equal leading dims; tensors or TensorLike) -> [..., N, M]: iou - (C -
 * union) / C, C the enclosing box area.
 * torchvision: `generalized_box_iou(boxes1, boxes2)`.
 *
 * ```js
 * generalizedBoxIou(tf.tensor2d([[0, 0, 1, 1]]), tf.tensor2d([[2, 0, 3, 1]])) // [[-1/3]]
 * generalizedBoxIou([[0, 0, 1, 1]], [[2, 0, 3, 1]])                           // the same
 * ```
 */
export function generalizedBoxIou(boxes1: Tensor|TensorLike, boxes2: Tensor|TensorLike): Tensor {
  return tf.tidy(() => {
    const [b1, b2] = checkPair('generalizedBoxIou', boxes1, boxes2);
    if (b1.size === 0 || b2.size === 0) return emptyPairwise(b1, b2);
    const {inter, union, encW, encH} = pairwise(b1, b2, true);
    const enclosing = tf.mul(encW, encH);
    return tf.sub(divKeepingNaN(inter, union), divKeepingNaN(tf.sub(enclosing, union), enclosing));
  });
}

function diouAndIou(p: Pairwise, eps: number): [Tensor, Tensor] {
  const iou = divKeepingNaN(p.inter, p.union);
  const diag = tf.add(tf.add(tf.square(p.encW), tf.square(p.encH)), eps);
  const centre = (c: Tensor[], i: number) => tf.div(tf.add(c[i], c[i + 2]), 2);
  const dx = tf.sub(centre(p.a, 0), centre(p.b, 0));
  const dy = tf.sub(centre(p.a, 1), centre(p.b, 1));
  const rho2 = tf.add(tf.square(dx), tf.square(dy));
  return [tf.sub(iou, divKeepingNaN(rho2, diag)), iou];
}

/**
 * Pairwise distance IoU of boxes1 [..., N, 4] and boxes2 [..., M, 4] (xyxy;
 * tensors or TensorLike) -> [..., N, M]: iou - rho^2 / (c^2 + eps), rho the
 * distance of the centres, c the diagonal of the enclosing box; options
 * {eps}, `eps` defaults to 1e-7 (a non-object options argument is an Error).
 * torchvision: `distance_box_iou(boxes1, boxes2, eps=1e-7)`.
 *
 * ```js
 * distanceBoxIou(tf.tensor2d([[0, 0, 2, 2]]), tf.tensor2d([[1, 0, 3, 2]])) // [[1/3 - 1/13]] = [[0.2564]]
 * distanceBoxIou([[0, 0, 2, 2]], [[1, 0, 3, 2]], {eps: 1e-7})              // distance_box_iou(b1, b2, eps=1e-7)
 * ```
 */
export function distanceBoxIou(boxes1: Tensor|TensorLike, boxes2: Tensor|TensorLike, options: {eps?: number} = {}): Tensor {
  const {eps = DIOU_EPS} = checkOptions<{eps?: number}>('distanceBoxIou', 'options', options, ['eps']);
  return tf.tidy(() => {
    const [b1, b2] = checkPair('distanceBoxIou', boxes1, boxes2);
    if (b1.size === 0 || b2.size === 0) return emptyPairwise(b1, b2);
    assertFiniteNumber('distanceBoxIou', 'eps', eps);
    return diouAndIou(pairwise(b1, b2, true), eps)[0];
  });
}

/**
 * 4/pi^2 (atan(wa/ha) - atan(wb/hb))^2, the aspect-ratio term v of CIoU, from
 * the unstacked xyxy coordinates of two broadcastable box sets (shared by
 * `completeBoxIou` and `completeBoxIouLoss`).
 */
export function aspectPenalty(a: Tensor[], b: Tensor[]): Tensor {
  const ratio = (c: Tensor[]) => tf.atan(divKeepingNaN(tf.sub(c[2], c[0]), tf.sub(c[3], c[1])));
  return tf.mul(4 / (Math.PI * Math.PI), tf.square(tf.sub(ratio(a), ratio(b))));
}

/**
 * Pairwise complete IoU of boxes1 [..., N, 4] and boxes2 [..., M, 4] (xyxy;
 * tensors or TensorLike) -> [..., N, M]: diou - alpha * v, v the aspect-ratio
 * term, alpha = v / (1 - iou + v + eps) treated as a constant (no gradient)
 * as in torchvision; options {eps}, `eps` defaults to 1e-7 (a non-object
 * options argument is an Error).
 * torchvision: `complete_box_iou(boxes1, boxes2, eps=1e-7)`.
 *
 * ```js
 * completeBoxIou(tf.tensor2d([[0, 0, 2, 2]]), tf.tensor2d([[1, 0, 3, 2]])) // [[0.2564]] (same aspect: v = 0)
 * completeBoxIou([[0, 0, 2, 2]], [[1, 0, 3, 2]], {eps: 1e-7})              // complete_box_iou(b1, b2, eps=1e-7)
 * ```
 */
export function completeBoxIou(boxes1: Tensor|TensorLike, boxes2: Tensor|TensorLike, options: {eps?: number} = {}): Tensor {
  const {eps = DIOU_EPS} = checkOptions<{eps?: number}>('completeBoxIou', 'options', options, ['eps']);
  return tf.tidy(() => {
    const [b1, b2] = checkPair('completeBoxIou', boxes1, boxes2);
    if (b1.size === 0 || b2.size === 0) return emptyPairwise(b1, b2);
    assertFiniteNumber('completeBoxIou', 'eps', eps);
    const p = pairwise(b1, b2, true);
    const [diou, iou] = diouAndIou(p, eps);
    const v = aspectPenalty(p.a, p.b);
    const alpha = stopGradient(tf.div(v, tf.add(tf.add(tf.sub(1, iou), v), eps)));
    return tf.sub(diou, tf.mul(alpha, v));
  });
}

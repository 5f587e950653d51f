/**
 * Box utilities of torchvision.ops (boxes.py), on boxes of shape [..., N, 4].
 * All are compositions of tf ops, so gradients come from tf autodiff; the
 * helpers in grad_utils make them equal to PyTorch's.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor, Tensor1D, Tensor2D, TensorLike} from '@tensorflow/tfjs-core';
import {clampMin0, connectedZeros, maximum, minimum, stopGradient} from './grad_utils.ts';
import {assertDtype, assertFiniteNumber, assertLastDim, assertMinRank, assertOneOf, assertRank, assertTensor, checkOptions, fail, toTensor} from './validate.ts';

/**
 * Axis-aligned box formats, last axis of size 4: 'xyxy' (x1, y1, x2, y2),
 * 'xywh' (x1, y1, width, height), 'cxcywh' (centre x, centre y, width, height).
 */
export type BoxFormat = 'xyxy' | 'xywh' | 'cxcywh';
/**
 * Rotated box formats, angle r in degrees counter-clockwise: 'xywhr' and
 * 'cxcywhr' (last axis 5), 'xyxyxyxy' (the four corners, last axis 8).
 */
export type RotatedBoxFormat = 'xywhr' | 'cxcywhr' | 'xyxyxyxy';
const AXIS_ALIGNED: readonly BoxFormat[] = ['xyxy', 'xywh', 'cxcywh'];
const ROTATED: readonly RotatedBoxFormat[] = ['xywhr', 'cxcywhr', 'xyxyxyxy'];
const FORMAT_SIZE: Record<BoxFormat|RotatedBoxFormat, number> =
    {xyxy: 4, xywh: 4, cxcywh: 4, xywhr: 5, cxcywhr: 5, xyxyxyxy: 8};
const NUMERIC = ['float32', 'int32'];
const DIOU_EPS = 1e-7;

function checkBoxes(op: string, arg: string, boxes: Tensor, size = 4) {
  assertTensor(op, arg, boxes);
  assertMinRank(op, arg, boxes, 1);
  assertLastDim(op, arg, boxes, size);
  assertDtype(op, arg, boxes, NUMERIC);
}

/** Splits the last axis into its coordinates. */
function coords(boxes: Tensor): Tensor[] {
  return tf.unstack(boxes, boxes.rank - 1);
}

function stackCoords(parts: Tensor[]): Tensor {
  return tf.stack(parts, parts[0].rank);
}

/**
 * Area of boxes [..., 4] (a tensor or TensorLike) -> [...]: (x2-x1)*(y2-y1)
 * for 'xyxy', w*h for the others; options {fmt}, `fmt` defaults to 'xyxy'
 * (a non-object options argument is an Error). No clamping.
 * torchvision: `box_area(boxes, fmt)`.
 *
 * ```js
 * boxArea(tf.tensor2d([[0, 0, 2, 3]])) // [6]
 * boxArea([[0, 0, 2, 3]], {fmt: 'xyxy'}) // [6]: torchvision's box_area(boxes, fmt='xyxy')
 * ```
 */
export function boxArea(boxes: Tensor|TensorLike, options: {fmt?: BoxFormat} = {}): Tensor {
  const op = 'boxArea';
  const {fmt = 'xyxy'} = checkOptions<{fmt?: BoxFormat}>(op, 'options', options, ['fmt']);
  return tf.tidy(() => {
    const t = toTensor(op, 'boxes', boxes);
    checkBoxes(op, 'boxes', t);
    assertOneOf(op, 'fmt', fmt, AXIS_ALIGNED);
    const [a, b, c, d] = coords(t);
    return fmt === 'xyxy' ? tf.mul(tf.sub(c, a), tf.sub(d, b)) : tf.mul(c, d);
  });
}

function degToRad(r: Tensor) {
  return tf.div(tf.mul(r, Math.PI), 180);
}

function convertAxisAligned(boxes: Tensor, inFmt: BoxFormat, outFmt: BoxFormat): Tensor {
  let [a, b, c, d] = coords(boxes);
  if (inFmt === 'xywh') {
    [c, d] = [tf.add(a, c), tf.add(b, d)];
  } else if (inFmt === 'cxcywh') {
    const [hw, hh] = [tf.mul(0.5, c), tf.mul(0.5, d)];
    [a, b, c, d] = [tf.sub(a, hw), tf.sub(b, hh), tf.add(a, hw), tf.add(b, hh)];
  }
  if (outFmt === 'xywh') {
    return stackCoords([a, b, tf.sub(c, a), tf.sub(d, b)]);
  }
  if (outFmt === 'cxcywh') {
    return stackCoords([tf.div(tf.add(a, c), 2), tf.div(tf.add(b, d), 2), tf.sub(c, a), tf.sub(d, b)]);
  }
  return stackCoords([a, b, c, d]);
}

/** Rotated formats go through xywhr, as torchvision does. */
function toXywhr(boxes: Tensor, fmt: RotatedBoxFormat): Tensor {
  if (fmt === 'xywhr') return boxes;
  if (fmt === 'cxcywhr') {
    const [cx, cy, w, h, r] = coords(boxes);
    const rad = degToRad(r);
    const [cos, sin] = [tf.cos(rad), tf.sin(rad)];
    const x1 = tf.sub(tf.sub(cx, tf.mul(tf.div(w, 2), cos)), tf.mul(tf.div(h, 2), sin));
    const y1 = tf.add(tf.sub(cy, tf.mul(tf.div(h, 2), cos)), tf.mul(tf.div(w, 2), sin));
    return stackCoords([x1, y1, w, h, r]);
  }
  const [x1, y1, x2, y2, x3, y3] = coords(boxes);
  const r = tf.div(tf.mul(tf.atan2(tf.sub(y1, y2), tf.sub(x2, x1)), 180), Math.PI);
  const w = tf.sqrt(tf.add(tf.square(tf.sub(x2, x1)), tf.square(tf.sub(y1, y2))));
  const h = tf.sqrt(tf.add(tf.square(tf.sub(x3, x2)), tf.square(tf.sub(y3, y2))));
  return stackCoords([x1, y1, w, h, r]);
}

function fromXywhr(boxes: Tensor, fmt: RotatedBoxFormat): Tensor {
  if (fmt === 'xywhr') return boxes;
  const [x1, y1, w, h, r] = coords(boxes);
  const rad = degToRad(r);
  const [cos, sin] = [tf.cos(rad), tf.sin(rad)];
  if (fmt === 'cxcywhr') {
    const cx = tf.add(tf.add(x1, tf.mul(tf.div(w, 2), cos)), tf.mul(tf.div(h, 2), sin));
    const cy = tf.add(tf.sub(y1, tf.mul(tf.div(w, 2), sin)), tf.mul(tf.div(h, 2), cos));
    return stackCoords([cx, cy, w, h, r]);
  }
  const x2 = tf.add(x1, tf.mul(w, cos));
  const y2 = tf.sub(y1, tf.mul(w, sin));
  const x3 = tf.add(x2, tf.mul(h, sin));
  const y3 = tf.add(y2, tf.mul(h, cos));
  const x4 = tf.add(x1, tf.mul(h, sin));
  const y4 = tf.add(y1, tf.mul(h, cos));
  return stackCoords([x1, y1, x2, y2, x3, y3, x4, y4]);
}

/**
 * Converts boxes between formats. Axis-aligned: 'xyxy', 'xywh', 'cxcywh'
 * (shape [..., 4]). Rotated, angle in degrees counter-clockwise: 'xywhr',
 * 'cxcywhr' ([..., 5]) and 'xyxyxyxy' ([..., 8]); rotated and axis-aligned
 * formats do not mix. int32 boxes stay int32 except where torchvision
 * divides (cxcywh output), and rotated results are rounded as in torchvision.
 * torchvision: `box_convert(boxes, in_fmt, out_fmt)`.
 *
 * ```js
 * boxConvert(tf.tensor2d([[10, 20, 30, 40]]), 'xyxy', 'cxcywh') // [[20, 30, 20, 20]]
 * boxConvert([[10, 20, 30, 40]], 'xyxy', 'xywh')             // [[10, 20, 20, 20]]: a plain array works too
 * ```
 */
export function boxConvert(
    boxes: Tensor|TensorLike, inFmt: BoxFormat|RotatedBoxFormat, outFmt: BoxFormat|RotatedBoxFormat): Tensor {
  const op = 'boxConvert';
  const all = [...AXIS_ALIGNED, ...ROTATED];
  assertOneOf(op, 'inFmt', inFmt, all);
  assertOneOf(op, 'outFmt', outFmt, all);
  const inRotated = (ROTATED as readonly string[]).includes(inFmt);
  if (inRotated !== (ROTATED as readonly string[]).includes(outFmt)) {
    fail(op, 'outFmt', `'${outFmt}' cannot be converted from '${inFmt}': ` +
        'rotated and axis-aligned formats do not mix');
  }
  return tf.tidy(() => {
    const t = toTensor(op, 'boxes', boxes);
    checkBoxes(op, 'boxes', t, FORMAT_SIZE[inFmt]);
    if (inFmt === outFmt) return tf.clone(t);
    const floats = tf.cast(t, 'float32');
    if (!inRotated) {
      const out = convertAxisAligned(floats, inFmt as BoxFormat, outFmt as BoxFormat);
      const divides = outFmt === 'cxcywh';
      return t.dtype === 'int32' && !divides ? tf.cast(out, 'int32') : out;
    }
    const out = fromXywhr(toXywhr(floats, inFmt as RotatedBoxFormat), outFmt as RotatedBoxFormat);
    return t.dtype === 'int32' ? tf.cast(tf.round(out), 'int32') : out;
  });
}

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

/**
 * torch.clamp(x, 0, max) on every backend: NaN stays NaN and the gradient
 * passes on [0, max] (inclusive), as torch's. As maximum then minimum, which
 * propagate NaN everywhere: tfjs-backend-wasm 4.22's ClipByValue turns NaN
 * into 0, and webgl's on SwiftShader can leave values unclipped.
 */
function clampKeepNaN(x: Tensor, max: number): Tensor {
  if (x.dtype !== 'float32') return tf.clipByValue(x, 0, max);
  return tf.minimum(tf.maximum(x, 0), max);
}

/**
 * Clips boxes [..., 4] (xyxy; a tensor or TensorLike) to an image of
 * size [height, width]: x into [0, width], y into [0, height]; same shape out.
 * NaN coordinates stay NaN (torch.clamp's rule), on every backend.
 * torchvision: `clip_boxes_to_image(boxes, size)`.
 *
 * ```js
 * clipBoxesToImage(tf.tensor2d([[-5, 10, 50, 120]]), [100, 40]) // [[0, 10, 40, 100]]
 * clipBoxesToImage([[-5, 10, 50, 120]], [100, 40])              // the same
 * ```
 */
export function clipBoxesToImage(boxes: Tensor|TensorLike, size: [number, number]): Tensor {
  const op = 'clipBoxesToImage';
  if (!Array.isArray(size) || size.length !== 2 || !size.every(s => Number.isFinite(s) && s >= 0)) {
    fail(op, 'size', `must be [height, width] of non-negative numbers, got ${JSON.stringify(size)}`);
  }
  const [height, width] = size;
  return tf.tidy(() => {
    const t = toTensor(op, 'boxes', boxes);
    checkBoxes(op, 'boxes', t);
    const [x1, y1, x2, y2] = coords(t);
    const cx = (x: Tensor) => clampKeepNaN(x, width);
    const cy = (y: Tensor) => clampKeepNaN(y, height);
    return stackCoords([cx(x1), cy(y1), cx(x2), cy(y2)]);
  });
}

function smallBoxMask(boxes: Tensor, minSize: number): Tensor {
  const [x1, y1, x2, y2] = coords(boxes);
  return tf.logicalAnd(
      tf.greaterEqual(tf.sub(x2, x1), minSize), tf.greaterEqual(tf.sub(y2, y1), minSize));
}

function checkSmallBoxes(op: string, boxes: Tensor, minSize: number) {
  checkBoxes(op, 'boxes', boxes);
  assertRank(op, 'boxes', boxes, [2]);
  assertFiniteNumber(op, 'minSize', minSize);
}

/**
 * Indices (int32 [K]) of boxes [N, 4] (xyxy; a tensor or TensorLike) whose
 * width and height are both >= minSize. Reads back the N-element keep mask (use `removeSmallBoxesAsync`
 * on GPU backends to avoid blocking; webgpu supports only that).
 * torchvision: `remove_small_boxes(boxes, min_size)`.
 *
 * ```js
 * removeSmallBoxes(tf.tensor2d([[0, 0, 10, 10], [0, 0, 2, 10], [5, 5, 9, 8]]), 3) // [0, 2]
 * removeSmallBoxes([[0, 0, 10, 10], [0, 0, 2, 10]], 3)                           // [0]
 * ```
 */
export function removeSmallBoxes(boxes: Tensor2D|TensorLike, minSize: number): Tensor1D {
  const op1 = 'removeSmallBoxes';
  const mask = tf.tidy(() => {
    const t = toTensor(op1, 'boxes', boxes);
    checkSmallBoxes(op1, t, minSize);
    if (tf.getBackend() === 'webgpu') {
      throw new Error('removeSmallBoxes: synchronous readback is not supported on webgpu; ' +
          'use removeSmallBoxesAsync');
    }
    return smallBoxMask(t, minSize);
  });
  const keep = mask.dataSync();
  mask.dispose();
  return keepIndices(keep);
}

/**
 * `removeSmallBoxes` without a blocking read of the keep mask: resolves to the
 * int32 [K] indices; boxes [N, 4] a tensor or TensorLike.
 * torchvision: `remove_small_boxes(boxes, min_size)`.
 *
 * ```js
 * const keep = await removeSmallBoxesAsync(boxes, 1e-2);
 * ```
 */
export async function removeSmallBoxesAsync(boxes: Tensor2D|TensorLike, minSize: number): Promise<Tensor1D> {
  const mask = tf.tidy(() => {
    const t = toTensor('removeSmallBoxesAsync', 'boxes', boxes);
    checkSmallBoxes('removeSmallBoxesAsync', t, minSize);
    return smallBoxMask(t, minSize);
  });
  // Kept: a caller's tf.tidy around this call must not dispose it while the read is pending.
  tf.keep(mask);
  try {
    return keepIndices(await mask.data());
  } finally {
    mask.dispose();
  }
}

function keepIndices(keep: ArrayLike<number>): Tensor1D {
  const idx: number[] = [];
  for (let i = 0; i < keep.length; i++) {
    if (keep[i]) idx.push(i);
  }
  return tf.tensor1d(idx, 'int32');
}

/**
 * Bounding boxes [N, 4] (xyxy, float32) of masks [N, H, W] (bool, int32 or
 * float32; a tensor or TensorLike): x1 = first non-zero column, y1 = first non-zero row, x2/y2 = last
 * ones. An all-zero mask gives [0, 0, 0, 0] (torchvision 0.29).
 * torchvision: `masks_to_boxes(masks)`.
 *
 * ```js
 * masksToBoxes(tf.tensor3d([[[0, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1]]])) // [[1, 1, 3, 2]]
 * masksToBoxes([[[false, true], [false, false]]])                        // [[1, 0, 1, 0]]
 * ```
 */
export function masksToBoxes(masks: Tensor|TensorLike): Tensor2D {
  const op = 'masksToBoxes';
  return tf.tidy(() => {
    const m = toTensor(op, 'masks', masks);
    assertRank(op, 'masks', m, [3]);
    assertDtype(op, 'masks', m, ['bool', 'int32', 'float32']);
    const [n, h, w] = m.shape;
    if (n === 0 || h === 0 || w === 0) return tf.zeros([n, 4]) as Tensor2D;
    const nonZero = tf.notEqual(tf.cast(m, 'float32'), 0);
    const extent = (axis: number, size: number) => {
      const any = tf.cast(tf.any(nonZero, axis), 'float32');  // [N, size]
      const idx = tf.range(0, size, 1, 'float32');
      const first = tf.min(tf.add(tf.mul(any, idx), tf.mul(tf.sub(1, any), size)), 1);
      const last = tf.max(tf.sub(tf.mul(any, tf.add(idx, 1)), 1), 1);
      return [first, last];
    };
    const [x1, x2] = extent(1, w);
    const [y1, y2] = extent(2, h);
    const found = tf.greaterEqual(x2, 0);
    const zero = tf.zerosLike(x1);
    return tf.stack([x1, y1, x2, y2].map(c => tf.where(found, c, zero)), 1) as Tensor2D;
  });
}

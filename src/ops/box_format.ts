/**
 * Box formats of torchvision.ops (boxes.py), boxes of shape [..., 4] (or 5, 8
 * rotated): `boxConvert`, `boxArea` and the coordinate helpers the other box
 * ops share.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor, TensorLike} from '@tensorflow/tfjs-core';
import {assertDtype, assertLastDim, assertMinRank, assertOneOf, assertTensor, checkOptions, fail, toTensor} from './validate.ts';

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
export const AXIS_ALIGNED: readonly BoxFormat[] = ['xyxy', 'xywh', 'cxcywh'];
const ROTATED: readonly RotatedBoxFormat[] = ['xywhr', 'cxcywhr', 'xyxyxyxy'];
const FORMAT_SIZE: Record<BoxFormat|RotatedBoxFormat, number> =
    {xyxy: 4, xywh: 4, cxcywh: 4, xywhr: 5, cxcywhr: 5, xyxyxyxy: 8};
const NUMERIC = ['float32', 'int32'];

export function checkBoxes(op: string, arg: string, boxes: Tensor, size = 4) {
  assertTensor(op, arg, boxes);
  assertMinRank(op, arg, boxes, 1);
  assertLastDim(op, arg, boxes, size);
  assertDtype(op, arg, boxes, NUMERIC);
}

/** Splits the last axis into its coordinates. */
export function coords(boxes: Tensor): Tensor[] {
  return tf.unstack(boxes, boxes.rank - 1);
}

/**
 * tf.stack(parts, axis) (default: a new last axis), also for parts of 0
 * elements: there tfjs-backend-cpu's concat returns its (empty) values as a
 * plain array, which a later slice or split of the result cannot read
 * ("vals.subarray is not a function"). An empty result is built with mul
 * and addN instead (typed arrays; every part stays in the gradient's graph).
 */
export function stackCoords(parts: Tensor[], axis = parts[0].rank): Tensor {
  if (parts[0].size > 0 || parts[0].dtype === 'bool') return tf.stack(parts, axis);
  const slotShape = Array.from({length: parts[0].rank + 1}, (_, a) => (a === axis ? parts.length : 1));
  return tf.addN(parts.map((p, i) => tf.mul(tf.expandDims(p, axis),
      tf.tensor(parts.map((_, j) => (j === i ? 1 : 0)), slotShape, p.dtype))));
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

export function convertAxisAligned(boxes: Tensor, inFmt: BoxFormat, outFmt: BoxFormat): Tensor {
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

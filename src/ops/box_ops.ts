/**
 * Box utilities of torchvision.ops (boxes.py), on boxes of shape [..., N, 4]:
 * clipping, filtering small boxes and boxes of masks here; formats in
 * box_format.ts and the pairwise IoU family in box_iou.ts, re-exported.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor, Tensor1D, Tensor2D, TensorLike} from '@tensorflow/tfjs-core';
import {checkBoxes, coords, stackCoords} from './box_format.ts';
import {assertDtype, assertFiniteNumber, assertRank, fail, toTensor} from './validate.ts';

export {boxArea, boxConvert} from './box_format.ts';
export type {BoxFormat, RotatedBoxFormat} from './box_format.ts';
export {boxIou, completeBoxIou, distanceBoxIou, generalizedBoxIou} from './box_iou.ts';

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

import * as tf from '@tensorflow/tfjs-core';
import {NamedAttrMap, NamedTensorMap, Tensor, Tensor1D, Tensor2D, TensorLike} from '@tensorflow/tfjs-core';
import {Nms, NmsAttrs} from '../kernel_names.ts';
import {runVisionKernel, runVisionKernelAsync} from './run_kernel.ts';
import {assertDtype, assertFiniteNumber, assertLastDim, assertRank, assertTensor, fail, toTensor} from './validate.ts';

/**
 * Converts the inputs (TensorLike become tensors the caller must dispose:
 * `owned`) and checks them.
 */
function nmsInputs(op: string, boxesIn: unknown, scoresIn: unknown, idxsIn: unknown, iouThreshold: number,
    withIdxs: boolean) {
  const owned: Tensor[] = [];
  const convert = (arg: string, value: unknown, dtype: 'float32'|'int32') => {
    const t = toTensor(op, arg, value, dtype);
    if (t !== value) owned.push(t);
    return t;
  };
  try {
    const boxes = convert('boxes', boxesIn, 'float32');
    const scores = convert('scores', scoresIn, 'float32');
    if (boxesIn == null) fail(op, 'boxes', `is required, got ${boxesIn}`);
    if (scoresIn == null) fail(op, 'scores', `is required, got ${scoresIn}`);
    if (withIdxs && idxsIn == null) {
      fail(op, 'idxs', `is required (int32 [N] category per box; use ${op.replace('batchedNms', 'nms')} ` +
          `without categories), got ${idxsIn}`);
    }
    const idxs = withIdxs ? convert('idxs', idxsIn, 'int32') : null;
    checkArgs(op, boxes, scores, idxs, iouThreshold);
    return {boxes, scores, idxs, owned};
  } catch (e) {
    tf.dispose(owned);
    throw e;
  }
}

function checkArgs(op: string, boxes: Tensor, scores: Tensor, idxs: Tensor|null, iouThreshold: number) {
  assertTensor(op, 'boxes', boxes);
  assertRank(op, 'boxes', boxes, [2]);
  assertLastDim(op, 'boxes', boxes, 4);
  assertDtype(op, 'boxes', boxes, ['float32']);
  const n = boxes.shape[0];
  const checkPerBox = (arg: string, t: Tensor, dtype: string) => {
    assertTensor(op, arg, t);
    assertRank(op, arg, t, [1]);
    assertDtype(op, arg, t, [dtype]);
    if (t.shape[0] !== n) fail(op, arg, `must have one entry per box (${n}), got shape [${t.shape}]`);
  };
  checkPerBox('scores', scores, 'float32');
  if (idxs != null) checkPerBox('idxs', idxs, 'int32');
  assertFiniteNumber(op, 'iouThreshold', iouThreshold);
}

function inputsOf(boxes: Tensor, scores: Tensor, idxs: Tensor|null): NamedTensorMap {
  return idxs == null ? {boxes, scores} : {boxes, scores, idxs};
}

function attrsOf(iouThreshold: number): NamedAttrMap {
  const attrs: NmsAttrs = {iouThreshold};
  return attrs as unknown as NamedAttrMap;
}

/**
 * Non-maximum suppression: indices (int32 [K]) of the boxes [N, 4] (xyxy,
 * float32) that are kept, in decreasing order of scores [N] (float32); boxes
 * and scores may be tensors or TensorLike (plain arrays become float32).
 * iouThreshold is required (no default). A box is dropped when a
 * kept box of higher score (ties: lower index; NaN scores count highest) has
 * IoU > iouThreshold with it (strict; float32 IoU exactly as torchvision, so a
 * NaN IoU, e.g. of two zero-area boxes, never suppresses).
 * On webgl this reads back the suppression band and the score order
 * (`nmsAsync` awaits them), on webgpu N int32 at the end; webgpu supports
 * only `nmsAsync` (sync `nms` is an Error naming it).
 * torchvision: `nms(boxes, scores, iou_threshold)`.
 *
 * ```js
 * nms(tf.tensor2d([[0, 0, 2, 2], [0, 0, 2, 1], [5, 5, 6, 6]]), tf.tensor1d([0.9, 0.8, 0.7]), 0.4)
 * // [0, 2]: IoU(0, 1) = 0.5 > 0.4
 * nms([[0, 0, 2, 2], [0, 0, 2, 1], [5, 5, 6, 6]], [0.9, 0.8, 0.7], 0.4)  // the same from plain arrays
 * ```
 */
export function nms(boxes: Tensor2D|TensorLike, scores: Tensor1D|TensorLike, iouThreshold: number): Tensor1D {
  return runSync('nms', boxes, scores, null, iouThreshold, false);
}

function runSync(op: string, boxesIn: unknown, scoresIn: unknown, idxsIn: unknown, iouThreshold: number,
    withIdxs: boolean): Tensor1D {
  const {boxes, scores, idxs, owned} = nmsInputs(op, boxesIn, scoresIn, idxsIn, iouThreshold, withIdxs);
  try {
    return runVisionKernel<Tensor1D>(op, Nms, inputsOf(boxes, scores, idxs), attrsOf(iouThreshold));
  } finally {
    tf.dispose(owned);
  }
}

async function runAsyncOwned(op: string, boxesIn: unknown, scoresIn: unknown, idxsIn: unknown,
    iouThreshold: number, withIdxs: boolean): Promise<Tensor1D> {
  const {boxes, scores, idxs, owned} = nmsInputs(op, boxesIn, scoresIn, idxsIn, iouThreshold, withIdxs);
  // Called inside tf.tidy (`tidy(() => { p = nmsAsync(...); })`), whatever is
  // created before the first await belongs to the tidy, which disposes it
  // when it returns: the converted inputs are kept (and disposed here).
  owned.forEach(t => tf.keep(t));
  try {
    return await runVisionKernelAsync<Tensor1D>(op, Nms, inputsOf(boxes, scores, idxs), attrsOf(iouThreshold));
  } finally {
    tf.dispose(owned);
  }
}

/**
 * `nms` that never blocks on a GPU readback (the only form on webgpu):
 * resolves to the same int32 [K] indices; boxes [N, 4] and scores [N] may be
 * tensors or TensorLike.
 * torchvision: `nms(boxes, scores, iou_threshold)`.
 *
 * ```js
 * const keep = await nmsAsync(boxes, scores, 0.5);  // boxes [N, 4], scores [N]
 * ```
 */
export async function nmsAsync(
    boxes: Tensor2D|TensorLike, scores: Tensor1D|TensorLike, iouThreshold: number): Promise<Tensor1D> {
  return runAsyncOwned('nmsAsync', boxes, scores, null, iouThreshold, false);
}

/**
 * NMS per category: boxes [N, 4] (xyxy, float32) only suppress boxes with the
 * same idxs [N] (int32) value; each may be a tensor or TensorLike (plain
 * arrays of idxs become int32). Indices (int32 [K]) in decreasing order of
 * scores [N] (float32), over all categories. Equal to both of torchvision's
 * strategies (per-class loop and coordinate offsets), computed on the
 * original coordinates. Synchronous: not on webgpu (use `batchedNmsAsync`).
 * torchvision: `batched_nms(boxes, scores, idxs, iou_threshold)`.
 *
 * ```js
 * const boxes = tf.tensor2d([[0, 0, 2, 2], [0, 0, 2, 1], [5, 5, 6, 6]]);
 * batchedNms(boxes, tf.tensor1d([0.9, 0.8, 0.7]), tf.tensor1d([0, 1, 0], 'int32'), 0.4)
 * // [0, 1, 2]: box 1 is of another category than box 0
 * batchedNms([[0, 0, 2, 2], [0, 0, 2, 1], [5, 5, 6, 6]], [0.9, 0.8, 0.7], [0, 1, 0], 0.4)  // the same
 * ```
 */
export function batchedNms(
    boxes: Tensor2D|TensorLike, scores: Tensor1D|TensorLike, idxs: Tensor1D|TensorLike,
    iouThreshold: number): Tensor1D {
  return runSync('batchedNms', boxes, scores, idxs, iouThreshold, true);
}

/**
 * `batchedNms` that never blocks on a GPU readback (the only form on webgpu):
 * resolves to the same int32 [K] indices; inputs may be tensors or TensorLike.
 * torchvision: `batched_nms(boxes, scores, idxs, iou_threshold)`.
 *
 * ```js
 * const keep = await batchedNmsAsync(boxes, scores, classIds, 0.5);  // classIds int32 [N]
 * ```
 */
export async function batchedNmsAsync(
    boxes: Tensor2D|TensorLike, scores: Tensor1D|TensorLike, idxs: Tensor1D|TensorLike,
    iouThreshold: number): Promise<Tensor1D> {
  return runAsyncOwned('batchedNmsAsync', boxes, scores, idxs, iouThreshold, true);
}

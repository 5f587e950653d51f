/** Row selections that also hold for tensors with no rows (the detectors' filtering steps). */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor, Tensor1D} from '@tensorflow/tfjs-core';

/**
 * tf.gather(x, indices) along axis 0, also when x has no rows:
 * tfjs-backend-wasm 4.22 gathers a [0, 4] tensor with no indices into the
 * shape [1, 1, 0, 4] (so a filtering step after one that kept nothing, e.g.
 * on an image of NaN, would hand NMS a rank-4 tensor). No indices give
 * [0, ...x.shape.slice(1)] of x's dtype; a new tensor either way.
 */
export function gatherRows<T extends Tensor>(x: T, indices: Tensor1D): T {
  if (indices.size === 0) return tf.zeros([0, ...x.shape.slice(1)], x.dtype) as T;
  return tf.gather(x, indices) as T;
}

/**
 * tf.slice(x, begin, size), also when the result or x has no elements:
 * tfjs-backend-webgpu 4.22 gives an empty slice plain-array values, which a
 * later slice on its cpu path cannot read ("vals.subarray is not a
 * function"). An empty result is a new zeros tensor of the sliced shape.
 */
export function sliceOrEmpty<T extends Tensor>(x: T, begin: number[], size: number[]): T {
  const shape = size.map((s, a) => (s === -1 ? x.shape[a] - begin[a] : s));
  if (shape.some(d => d === 0)) return tf.zeros(shape, x.dtype) as T;
  return tf.slice(x, begin, size) as T;
}

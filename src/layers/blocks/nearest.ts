/** F.interpolate(mode='nearest', size=...) of torch, as gathers (exact on every backend, with gradients). */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor} from '@tensorflow/tfjs-core';

/**
 * Source index of each output cell, torch's nearest_idx: copy when the sizes
 * match, i >> 1 when doubling, else min(floor(i * scale), in - 1) with the
 * float32 scale in / out.
 */
export function nearestIndices(inSize: number, outSize: number): Int32Array {
  const idx = new Int32Array(outSize);
  const scale = Math.fround(inSize / outSize);
  for (let i = 0; i < outSize; i++) {
    if (outSize === inSize) idx[i] = i;
    else if (outSize === 2 * inSize) idx[i] = i >> 1;
    else idx[i] = Math.min(Math.floor(Math.fround(i * scale)), inSize - 1);
  }
  return idx;
}

/** x [N, H, W, C] -> [N, size[0], size[1], C]. */
export function upsampleNearest(x: Tensor, size: [number, number]): Tensor {
  let y = x;
  for (const axis of [1, 2]) {
    const [from, to] = [y.shape[axis], size[axis - 1]];
    if (from !== to) y = tf.gather(y, tf.tensor1d(nearestIndices(from, to), 'int32'), axis);
  }
  return y;
}

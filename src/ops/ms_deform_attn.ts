import * as tf from '@tensorflow/tfjs-core';
import {NamedAttrMap, Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, TensorLike, util} from '@tensorflow/tfjs-core';
import {MsDeformAttn} from '../kernel_names.ts';
import {checkAtMost, checkElementCount, MAX_ATTN_INDEX, MAX_ATTN_LEVEL_CELLS, MAX_ATTN_SAMPLES} from './limits.ts';
import {runVisionKernel} from './run_kernel.ts';
import {assertDtype, assertRank, assertTensor, describe, fail, toTensor} from './validate.ts';

/** Level sizes: [[H, W], ...] (checked against value) or an int32 [L, 2] tensor (not read back). */
export type SpatialShapes = Array<[number, number]>|Tensor2D;
/** Each level's first position in value: [0, H0 W0, ...] (checked) or an int32 [L] tensor (not read back). */
export type LevelStartIndex = number[]|Tensor1D;

function checkFloat(op: string, arg: string, t: Tensor, rank: number) {
  assertRank(op, arg, t, [rank]);
  assertDtype(op, arg, t, ['float32']);
}

function isIntArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every(n => typeof n === 'number' && Number.isInteger(n));
}

/** The level tables as int32 tensors; arrays are checked against value's S and the L of the locations. */
function levelTables(
    op: string, spatialShapes: unknown, levelStartIndex: unknown, levels: number, spatialSize: number):
    [Tensor2D, Tensor1D] {
  let shapes: Tensor2D;
  let sizes: number[]|null = null;
  if (spatialShapes instanceof Tensor) {
    shapes = spatialShapes as Tensor2D;
    assertDtype(op, 'spatialShapes', shapes, ['int32']);
  } else {
    if (!Array.isArray(spatialShapes) || !spatialShapes.every(s => isIntArray(s) && s.length === 2 && s[0] >= 1 &&
        s[1] >= 1)) {
      fail(op, 'spatialShapes', `must be [[H, W], ...] of integers >= 1 or an int32 [L, 2] tensor, ` +
          `got ${describe(spatialShapes)}`);
    }
    for (const [h, w] of spatialShapes as number[][]) {
      checkAtMost(op, 'spatialShapes', [(h + 1) * (w + 1)], MAX_ATTN_LEVEL_CELLS, ' cells (H + 1)(W + 1) per level');
    }
    sizes = (spatialShapes as number[][]).map(([h, w]) => h * w);
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== spatialSize) {
      fail(op, 'spatialShapes', `has levels of ${total} positions in all (sum of H × W), but value has ` +
          `S = ${spatialSize}`);
    }
    shapes = tf.tensor2d(spatialShapes as number[][], [spatialShapes.length, 2], 'int32');
  }
  if (shapes.rank !== 2 || shapes.shape[1] !== 2 || shapes.shape[0] !== levels) {
    fail(op, 'spatialShapes', `must have shape [${levels}, 2] (the L of samplingLocations), got [${shapes.shape}]`);
  }
  if (levelStartIndex instanceof Tensor) {
    assertDtype(op, 'levelStartIndex', levelStartIndex, ['int32']);
    if (levelStartIndex.rank !== 1 || levelStartIndex.shape[0] !== levels) {
      fail(op, 'levelStartIndex', `must have shape [${levels}], got [${levelStartIndex.shape}]`);
    }
    return [shapes, levelStartIndex as Tensor1D];
  }
  if (!isIntArray(levelStartIndex)) {
    fail(op, 'levelStartIndex', `must be an array of integers or an int32 [L] tensor, got ${describe(levelStartIndex)}`);
  }
  if (levelStartIndex.length !== levels) {
    fail(op, 'levelStartIndex', `must have ${levels} entries (one per level), got ${levelStartIndex.length}`);
  }
  if (sizes != null) {
    let start = 0;
    sizes.forEach((size, l) => {
      if (levelStartIndex[l] !== start) {
        fail(op, 'levelStartIndex', `must be [${sizes!.map((_, i) => sizes!.slice(0, i).reduce((a, b) => a + b, 0))}]` +
            ` (each level's first position), got [${levelStartIndex}]`);
      }
      start += size;
    });
  } else if (!levelStartIndex.every(s => s >= 0 && s <= spatialSize)) {
    fail(op, 'levelStartIndex', `must hold positions in [0, ${spatialSize}], got [${levelStartIndex}]`);
  }
  return [shapes, tf.tensor1d(levelStartIndex, 'int32')];
}

/**
 * Multi-scale deformable attention, the core of Deformable DETR, DINO,
 * RT-DETR and Mask2Former (`MSDeformAttnFunction` /
 * `ms_deform_attn_core_pytorch`). For each batch b, query q and head m, the
 * result is sum over levels l and points p of attentionWeights[b, q, m, l, p]
 * times value[b, :, m, :] of level l sampled bilinearly at
 * samplingLocations[b, q, m, l, p] = (x, y) in [0, 1] (F.grid_sample with
 * zero padding, align_corners=False: pixel (x W - 0.5, y H - 0.5); corners
 * outside the level read 0; a non-finite location gives NaN).
 * Differentiable for value, samplingLocations and attentionWeights.
 *
 * Shapes: value [B, S, M, C] with S = sum of H W over the levels (level l's
 * positions are value[:, levelStartIndex[l] + y W + x]); spatialShapes [L, 2]
 * as [[H, W], ...] or an int32 tensor; levelStartIndex [L] (the running sum
 * of H W) as numbers or an int32 tensor; samplingLocations
 * [B, Q, M, L, P, 2]; attentionWeights [B, Q, M, L, P] -> [B, Q, M C].
 * Level tables given as arrays are checked against value; tensors are not
 * read back (no GPU sync): the kernels then read only inside value.
 *
 * ```js
 * // two levels of 4x4 and 2x2, one head of 8 channels, 3 queries, 2 points
 * msDeformAttn(value, [[4, 4], [2, 2]], [0, 16], locations, weights)  // value [1, 20, 1, 8] -> [1, 3, 8]
 * ```
 */
export function msDeformAttn(
    value: Tensor4D|TensorLike, spatialShapes: SpatialShapes, levelStartIndex: LevelStartIndex,
    samplingLocations: Tensor|TensorLike, attentionWeights: Tensor|TensorLike): Tensor3D {
  const op = 'msDeformAttn';
  return tf.tidy(() => {
    const v = toTensor<Tensor4D>(op, 'value', value);
    const locations = toTensor(op, 'samplingLocations', samplingLocations);
    const weights = toTensor(op, 'attentionWeights', attentionWeights);
    assertTensor(op, 'value', v);
    checkFloat(op, 'value', v, 4);
    checkFloat(op, 'samplingLocations', locations, 6);
    checkFloat(op, 'attentionWeights', weights, 5);
    const [batch, spatialSize, heads, channels] = v.shape;
    const [lb, queries, lm, levels, points, xy] = locations.shape;
    if (lb !== batch || lm !== heads || xy !== 2) {
      fail(op, 'samplingLocations', `must have shape [${batch}, Q, ${heads}, L, P, 2] (value's B and M), ` +
          `got [${locations.shape}]`);
    }
    if (!util.arraysEqual(weights.shape, locations.shape.slice(0, 5))) {
      fail(op, 'attentionWeights', `must have shape [${locations.shape.slice(0, 5)}] (samplingLocations' ` +
          `[B, Q, M, L, P]), got [${weights.shape}]`);
    }
    checkAtMost(op, 'samplingLocations', [levels], MAX_ATTN_SAMPLES, ' levels');
    checkAtMost(op, 'samplingLocations', [levels * points], MAX_ATTN_SAMPLES, ' samples (L × P) per query and head');
    checkAtMost(op, 'samplingLocations', [batch * queries * heads], MAX_ATTN_INDEX, ' query rows (B × Q × M)');
    checkAtMost(op, 'samplingLocations', [queries * points], MAX_ATTN_INDEX, ' samples per level and head (Q × P)');
    checkElementCount(op, 'samplingLocations', 'an output [B, Q, M, C]', [batch, queries, heads, channels]);
    const [shapes, starts] = levelTables(op, spatialShapes, levelStartIndex, levels, spatialSize);
    const out = runVisionKernel<Tensor4D>(op, MsDeformAttn, {
      value: v, spatialShapes: shapes, levelStartIndex: starts, samplingLocations: locations,
      attentionWeights: weights,
    }, {} as NamedAttrMap);
    return tf.reshape(out, [batch, queries, heads * channels]);
  });
}

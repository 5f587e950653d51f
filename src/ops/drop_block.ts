import * as tf from '@tensorflow/tfjs-core';
import {Tensor, TensorLike} from '@tensorflow/tfjs-core';
import {DATA_FORMATS, DataFormat, permute} from './roi_common.ts';
import {assertDtype, assertFiniteNumber, assertOneOf, assertRank, assertTensor, checkOptions, fail, toTensor} from './validate.ts';

/** Options of {@link dropBlock2d} and {@link dropBlock3d}. */
export interface DropBlockArgs {
  /** Identity when false. Default true (torchvision's functional default). */
  training?: boolean;
  /** Added to the mask sum before normalising. Default 1e-6. */
  eps?: number;
  /** Default 'channelsLast' ([N, H, W, C] / [N, D, H, W, C]); 'channelsFirst' is torchvision's layout. */
  dataFormat?: DataFormat;
  /** Seed of the Bernoulli draw; the same seed gives the same blocks in either data format. Default: unseeded. */
  seed?: number;
}

/**
 * Checks p (in [0, 1]) and blockSize (a positive integer), the part that does
 * not depend on the input; throws an Error naming `op` and the argument.
 */
export function checkDropBlockArgs(op: string, p: unknown, blockSize: unknown) {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) fail(op, 'p', `must be a number in [0, 1], got ${p}`);
  if (typeof blockSize !== 'number' || !Number.isInteger(blockSize) || blockSize < 1) {
    fail(op, 'blockSize', `must be a positive integer, got ${blockSize}`);
  }
}

/** Spatial sizes of x in torchvision's order (D, H, W or H, W). */
function spatialShape(x: Tensor, dataFormat: DataFormat): number[] {
  return dataFormat === 'channelsFirst' ? x.shape.slice(2) : x.shape.slice(1, -1);
}

/**
 * The effective block size min(blockSize, ...spatial) (odd, as torchvision
 * 0.29 requires; an even one is an Error) and the Bernoulli rate gamma of the
 * block centres, for spatial sizes `spatial` (D, H, W or H, W).
 */
export function dropBlockGamma(op: string, p: number, blockSize: number, spatial: number[]) {
  const bs = Math.min(blockSize, ...spatial);
  if (bs % 2 === 0) {
    fail(op, 'blockSize', `must be odd after clamping to the input size (min(${blockSize}, ` +
        `${spatial.join(', ')}) = ${bs})`);
  }
  const area = spatial.reduce((a, s) => a * s, 1);
  const centres = spatial.reduce((a, s) => a * (s - bs + 1), 1);
  return {blockSize: bs, gamma: (p * area) / (bs ** spatial.length * centres)};
}

/**
 * DropBlock with the block centres given: `noise` is 0/1, [N, C, ...(S - bs + 1)]
 * in torchvision's layout whatever dataFormat is; x and the result are in
 * `dataFormat`. Exposed so that tests can replay torchvision's Bernoulli draw.
 */
export function dropBlockWithNoise(
    x: Tensor, noise: Tensor, blockSize: number, eps: number, dataFormat: DataFormat): Tensor {
  return tf.tidy(() => {
    const [n, c, ...centres] = noise.shape as number[];
    const half = Math.floor(blockSize / 2);
    const spatial = centres.map(s => s + blockSize - 1);
    // One channel per (n, c) map: max-pooling a 0/1 map marks every cell of a block.
    // (Padded before the channel axis is added: webgl cannot pad rank 5.)
    const maps = tf.pad(tf.reshape(noise, [n * c, ...centres]),
        [[0, 0], ...centres.map((): [number, number] => [half, half])]);
    const cells = tf.reshape(maps, [...maps.shape, 1]);
    const pooled = centres.length === 2 ?
        tf.maxPool(cells as tf.Tensor4D, blockSize, 1, 'same') :
        tf.maxPool3d(cells as tf.Tensor5D, blockSize, 1, 'same');
    let mask = tf.sub(1, tf.reshape(pooled, [n, c, ...spatial]));
    const scale = tf.div(mask.size, tf.add(eps, tf.sum(mask)));
    // permute: tfjs-backend-wasm 4.22 cannot transpose an empty tensor (a batch of 0).
    if (dataFormat === 'channelsLast') mask = permute(mask, [0, ...spatial.map((_, i) => i + 2), 1]);
    return tf.mul(tf.mul(x, mask), scale);
  });
}

function dropBlock(op: string, rank: number, xIn: unknown, p: number, blockSize: number, args: unknown): Tensor {
  const {training = true, eps = 1e-6, dataFormat = 'channelsLast', seed} =
      checkOptions<DropBlockArgs>(op, 'options', args, ['training', 'eps', 'dataFormat', 'seed']);
  return tf.tidy(() => dropBlockChecked(op, rank, toTensor(op, 'x', xIn), p, blockSize, training, eps, dataFormat, seed));
}

function dropBlockChecked(
    op: string, rank: number, x: Tensor, p: number, blockSize: number, training: boolean, eps: number,
    dataFormat: DataFormat, seed: number|undefined): Tensor {
  assertTensor(op, 'x', x);
  assertRank(op, 'x', x, [rank]);
  assertDtype(op, 'x', x, ['float32']);
  checkDropBlockArgs(op, p, blockSize);
  assertOneOf(op, 'dataFormat', dataFormat, DATA_FORMATS);
  assertFiniteNumber(op, 'eps', eps);
  if (seed != null) assertFiniteNumber(op, 'seed', seed);
  if (!training || p === 0) return tf.clone(x);
  const spatial = spatialShape(x, dataFormat);
  const {blockSize: bs, gamma} = dropBlockGamma(op, p, blockSize, spatial);
  // Nothing to drop in an empty input (a batch of 0, or 0 channels): the input, unchanged.
  if (x.size === 0) return tf.clone(x);
  return tf.tidy(() => {
    const shape0 = x.shape as number[];
    const [n, c] = [shape0[0], dataFormat === 'channelsFirst' ? shape0[1] : shape0[rank - 1]];
    const shape = [n, c, ...spatial.map(s => s - bs + 1)];
    const noise = tf.cast(tf.less(tf.randomUniform(shape, 0, 1, 'float32', seed), gamma), 'float32');
    return dropBlockWithNoise(x, noise, bs, eps, dataFormat);
  });
}

/**
 * DropBlock (Ghiasi et al. 2018) on float32 [N, H, W, C] maps (channelsFirst:
 * [N, C, H, W]; a tensor or TensorLike) -> same shape: block centres drawn with rate gamma =
 * p H W / (bs^2 (H - bs + 1)(W - bs + 1)), each zeroes a bs x bs block, and the
 * output is rescaled by mask.size / (eps + mask.sum()). bs = min(blockSize, H,
 * W) must be odd. Identity (a copy) when not training or p == 0, and for an
 * empty input (a batch of 0: an empty copy, in training too). Options
 * {training, eps, dataFormat, seed} (a non-object options argument is an
 * Error); defaults: training true, eps 1e-6, dataFormat 'channelsLast', seed
 * unseeded.
 * torchvision: `drop_block2d(input, p, block_size, inplace=False, eps=1e-6, training=True)`.
 *
 * ```js
 * dropBlock2d(x, 0.1, 3, {seed: 1})  // x [N, H, W, C] -> [N, H, W, C]
 * // torchvision's drop_block2d(input, 0.1, 3, eps=1e-6, training=False) on NCHW:
 * dropBlock2d(input, 0.1, 3, {eps: 1e-6, training: false, dataFormat: 'channelsFirst'})
 * ```
 */
export function dropBlock2d(x: Tensor|TensorLike, p: number, blockSize: number, args: DropBlockArgs = {}): Tensor {
  return dropBlock('dropBlock2d', 4, x, p, blockSize, args);
}

/**
 * DropBlock on float32 [N, D, H, W, C] volumes (channelsFirst: [N, C, D, H, W];
 * a tensor or TensorLike) -> same shape, as {@link dropBlock2d} with bs x bs
 * x bs blocks and gamma = p D H W / (bs^3 (D - bs + 1)(H - bs + 1)(W - bs +
 * 1)). An empty input (a batch of 0) comes back as an empty copy. Options
 * {training, eps, dataFormat, seed} (a non-object options argument is an
 * Error); defaults: training true, eps 1e-6, dataFormat
 * 'channelsLast', seed unseeded.
 * torchvision: `drop_block3d(input, p, block_size, inplace=False, eps=1e-6, training=True)`.
 *
 * ```js
 * dropBlock3d(x, 0.1, 3, {training: false})  // a copy of x [N, D, H, W, C]
 * ```
 */
export function dropBlock3d(x: Tensor|TensorLike, p: number, blockSize: number, args: DropBlockArgs = {}): Tensor {
  return dropBlock('dropBlock3d', 5, x, p, blockSize, args);
}

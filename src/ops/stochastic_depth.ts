import * as tf from '@tensorflow/tfjs-core';
import {Tensor, TensorLike} from '@tensorflow/tfjs-core';
import {assertDtype, assertFiniteNumber, assertMinRank, assertOneOf, checkOptions, fail, toTensor} from './validate.ts';

/** 'row': one draw per batch row; 'batch': one draw for the whole input. */
export type StochasticDepthMode = 'row'|'batch';
/** Every {@link StochasticDepthMode}, for validation. */
export const STOCHASTIC_DEPTH_MODES: readonly StochasticDepthMode[] = ['row', 'batch'];

/** Options of {@link stochasticDepth}. */
export interface StochasticDepthArgs {
  /** Identity when false. Default true (torchvision's functional default). */
  training?: boolean;
  /** Seed of the Bernoulli draw. Default: unseeded. */
  seed?: number;
}

/** Checks p (in [0, 1]) and mode ('row' or 'batch'); throws an Error naming `op` and the argument. */
export function checkStochasticDepthArgs(op: string, p: unknown, mode: unknown) {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) fail(op, 'p', `must be a number in [0, 1], got ${p}`);
  assertOneOf(op, 'mode', mode, STOCHASTIC_DEPTH_MODES);
}

/** x * noise / (1 - p) (no division when p == 1), noise 0/1 broadcast against x. */
export function stochasticDepthWithNoise(x: Tensor, noise: Tensor, p: number): Tensor {
  return tf.tidy(() => tf.mul(x, p < 1 ? tf.div(noise, 1 - p) : noise));
}

/**
 * Stochastic depth (Huang et al. 2016) on a float32 x [N, ...] (a tensor or
 * TensorLike) -> same shape:
 * zeroes whole rows of the batch ('row': noise [N, 1, ...]) or the whole input
 * ('batch': noise [1, ...]) with probability p and scales the survivors by
 * 1 / (1 - p). Identity (a copy) when not training or p == 0. Options
 * {training, seed} (a non-object options argument is an Error); defaults:
 * training true, seed unseeded.
 * torchvision: `stochastic_depth(input, p, mode, training=True)`.
 *
 * ```js
 * stochasticDepth(x, 0.2, 'row', {seed: 0})  // each row of x zeroed with probability 0.2, the rest * 1.25
 * stochasticDepth(x, 0.2, 'row', {training: false})  // torchvision's stochastic_depth(x, 0.2, 'row', training=False)
 * ```
 */
export function stochasticDepth(
    x: Tensor|TensorLike, p: number, mode: StochasticDepthMode, options: StochasticDepthArgs = {}): Tensor {
  const op = 'stochasticDepth';
  const {training = true, seed} = checkOptions<StochasticDepthArgs>(op, 'options', options, ['training', 'seed']);
  return tf.tidy(() => {
    const t = toTensor(op, 'x', x);
    assertMinRank(op, 'x', t, 1);
    assertDtype(op, 'x', t, ['float32']);
    checkStochasticDepthArgs(op, p, mode);
    if (seed != null) assertFiniteNumber(op, 'seed', seed);
    if (!training || p === 0) return tf.clone(t);
    return sample(t, p, mode, seed);
  });
}

function sample(x: Tensor, p: number, mode: StochasticDepthMode, seed: number|undefined): Tensor {
  return tf.tidy(() => {
    const shape = x.shape.map((d, i) => i === 0 && mode === 'row' ? d : 1);
    const noise = tf.cast(tf.less(tf.randomUniform(shape, 0, 1, 'float32', seed), 1 - p), 'float32');
    return stochasticDepthWithNoise(x, noise, p);
  });
}

/**
 * Elementwise helpers whose gradients follow PyTorch's rules rather than tfjs's,
 * so composite ops reproduce torchvision's gradients exactly.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor} from '@tensorflow/tfjs-core';

/**
 * torch.maximum / torch.minimum: on ties each side gets half the gradient
 * (tfjs gives it all to one side). Written with kernels that have gradients
 * (no customGrad, whose saved inputs the wasm backend copies inside the
 * engine's leak-checked scope): pick a side with a select, then add a term
 * that is 0 in value but moves half the gradient across on ties. The clip keeps
 * 0 * (b - a) finite for infinite coordinates.
 */
function tieSplitting(aFirst: (a: Tensor, b: Tensor) => Tensor, plain: (a: Tensor, b: Tensor) => Tensor) {
  return (a: Tensor, b: Tensor): Tensor => tf.tidy(() => {
    // tf.where cannot broadcast to a size-0 shape (tfjs's broadcastTo clones instead).
    if (a.size === 0 || b.size === 0) return plain(a, b);
    const aWins = aFirst(a, b);
    const tie = tf.mul(tf.cast(tf.greaterEqual(a, b), 'float32'), tf.cast(tf.greaterEqual(b, a), 'float32'));
    const halfGap = tf.clipByValue(tf.mul(tf.sub(b, a), 0.5), -3e38, 3e38);
    return tf.add(tf.where(aWins, a, b), tf.mul(tie, halfGap));
  });
}

export const maximum = tieSplitting((a, b) => tf.greaterEqual(a, b), tf.maximum);
export const minimum = tieSplitting((a, b) => tf.greaterEqual(b, a), tf.minimum);

/** torch.no_grad for one value: forward identity, zero gradient. */
export const stopGradient = tf.customGrad(((x: Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: Tensor) => Tensor;

/** torch.clamp(min=0): the gradient passes where x >= 0 (inclusive), unlike relu. */
export function clampMin0(x: Tensor): Tensor {
  return tf.maximum(x, 0);
}

/**
 * Zeros of `shape` connected to each input with a float32 zero gradient of its
 * shape: the result of an op on empty input (torchvision's `0.0 * x.sum()`),
 * where the composite path has no gradient (a constant) or fails (tfjs's
 * reductions, unstack/stack and webgl cannot handle size-0 tensors).
 */
export function connectedZeros(shape: number[], inputs: Tensor[]): Tensor {
  const f = tf.customGrad((...args: unknown[]) => {
    const xs = args.slice(0, inputs.length) as Tensor[];
    return {value: tf.zeros(shape), gradFunc: () => xs.map(x => tf.zeros(x.shape, 'float32'))};
  });
  return f(...inputs);
}

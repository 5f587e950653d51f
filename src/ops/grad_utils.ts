/**
 * Elementwise helpers whose gradients follow PyTorch's rules rather than tfjs's,
 * so composite ops reproduce torchvision's gradients exactly.
 */
import * as tf from '@tensorflow/tfjs-core';
import {backend_util, Tensor} from '@tensorflow/tfjs-core';

/** Sums a broadcast gradient back to the shape of the input it came from. */
function sumTo(grad: Tensor, shape: number[]): Tensor {
  const axes = backend_util.getReductionAxes(shape, grad.shape);
  const summed = axes.length > 0 ? tf.sum(grad, axes) : grad;
  return tf.reshape(summed, shape);
}

function tieSplitting(pick: (a: Tensor, b: Tensor) => Tensor, wins: (a: Tensor, b: Tensor) => Tensor) {
  return tf.customGrad(((a: Tensor, b: Tensor, save: tf.GradSaveFunc) => {
    save([a, b]);
    return {
      value: pick(a, b),
      // torch.maximum/minimum give each side half the gradient on ties.
      gradFunc: (dy: Tensor, [sa, sb]: Tensor[]) => {
        const tie = tf.mul(tf.cast(tf.equal(sa, sb), 'float32'), 0.5);
        const aShare = tf.add(tf.cast(wins(sa, sb), 'float32'), tie);
        const bShare = tf.sub(1, aShare);
        return [sumTo(tf.mul(dy, aShare), sa.shape), sumTo(tf.mul(dy, bShare), sb.shape)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (a: Tensor, b: Tensor) => Tensor;
}

/** torch.maximum: elementwise max, ties split the gradient in half. */
export const maximum = tieSplitting(tf.maximum, tf.greater);
/** torch.minimum: elementwise min, ties split the gradient in half. */
export const minimum = tieSplitting(tf.minimum, tf.less);

/** torch.no_grad for one value: forward identity, zero gradient. */
export const stopGradient = tf.customGrad(((x: Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: Tensor) => Tensor;

/** torch.clamp(min=0): the gradient passes where x >= 0 (inclusive), unlike relu. */
export function clampMin0(x: Tensor): Tensor {
  return tf.maximum(x, 0);
}

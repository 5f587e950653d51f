/**
 * Weights of the detection modules as trainable tf.Variables, and back to
 * torchvision's layouts for a state_dict the modules (and torch's
 * load_state_dict) load again.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor, Variable} from '@tensorflow/tfjs-core';

/** A trainable variable holding t's data (t is consumed). */
export function asVariable<T extends Tensor>(t: T): Variable {
  const v = tf.variable(t, true);
  t.dispose();
  return v;
}

/**
 * A tfjs-layout weight in torch's layout: 'conv' HWIO -> OIHW, 'depthwise'
 * [k, k, C, 1] -> [C, 1, k, k], 'linear' [in, out] -> [out, in], 'same' a copy.
 */
export function toTorchLayout(t: Tensor, layout: 'conv'|'depthwise'|'linear'|'same'): Tensor {
  if (layout === 'conv') return tf.transpose(t, [3, 2, 0, 1]);
  if (layout === 'depthwise') return tf.transpose(t, [2, 3, 0, 1]);
  if (layout === 'linear') return tf.transpose(t);
  return tf.clone(t);
}

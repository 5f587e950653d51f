/** torch.nn activation modules by name (the config form of torchvision's activation_layer). */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor} from '@tensorflow/tfjs-core';
import {fail} from '../../ops/validate.ts';

/**
 * Activations by name, torch's definitions: ReLU, ReLU6, Sigmoid, Tanh, SiLU,
 * Hardswish, Hardsigmoid, GELU (exact, erf).
 */
export type ActivationName = 'relu'|'relu6'|'sigmoid'|'tanh'|'silu'|'hardswish'|'hardsigmoid'|'gelu';
export const ACTIVATIONS: readonly ActivationName[] =
    ['relu', 'relu6', 'sigmoid', 'tanh', 'silu', 'hardswish', 'hardsigmoid', 'gelu'];

export function checkActivation(layer: string, arg: string, value: unknown): ActivationName|null {
  if (value === null) return null;
  if (!ACTIVATIONS.includes(value as ActivationName)) {
    fail(layer, arg, `must be null or one of ${ACTIVATIONS.map(a => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as ActivationName;
}

/** torch's definitions: Hardswish x relu6(x + 3) / 6, Hardsigmoid relu6(x + 3) / 6, GELU with erf. */
export function activate(name: ActivationName|null, x: Tensor): Tensor {
  switch (name) {
    case null: return x;
    case 'relu': return tf.relu(x);
    case 'relu6': return tf.relu6(x);
    case 'sigmoid': return tf.sigmoid(x);
    case 'tanh': return tf.tanh(x);
    case 'silu': return tf.mul(x, tf.sigmoid(x));
    case 'hardsigmoid': return tf.div(tf.relu6(tf.add(x, 3)), 6);
    case 'hardswish': return tf.div(tf.mul(x, tf.relu6(tf.add(x, 3))), 6);
    case 'gelu': return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
  }
}

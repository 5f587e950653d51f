/**
 * Weights of the detection modules, taken from a torchvision state_dict by
 * key (tf.Tensors or parseSafetensors' HostTensors) and kept in tfjs layout:
 * conv OIHW -> HWIO, Linear [out, in] -> [in, out].
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor} from '@tensorflow/tfjs-core';
import {HostTensor} from '../io/safetensors.ts';
import {StateDict} from '../io/torchvision_weights.ts';

export type {StateDict};

export type WeightLayout = 'conv'|'linear'|'same';

/** The float32 tensor of `key`, in tfjs layout, checked against torch's shape. */
export function takeWeight(op: string, stateDict: StateDict, key: string, torchShape: number[],
    layout: WeightLayout): Tensor {
  const value = Object.prototype.hasOwnProperty.call(stateDict, key) ? stateDict[key] : undefined;
  if (value == null) throw new Error(`${op}: the state_dict has no '${key}'`);
  const shape = value instanceof Tensor ? value.shape : (value as HostTensor).shape;
  if (!tf.util.arraysEqual(shape, torchShape)) {
    throw new Error(`${op}: '${key}' has shape [${shape}], expected [${torchShape}]`);
  }
  return tf.tidy(() => {
    const t = value instanceof Tensor ? tf.cast(value, 'float32') :
        tf.tensor((value as HostTensor).values, shape, 'float32');
    if (layout === 'conv') return tf.transpose(t, [2, 3, 1, 0]);
    if (layout === 'linear') return tf.transpose(t);
    return tf.clone(t);
  });
}

/** A prefix with its trailing '.' ('' stays ''). */
export function withDot(prefix: string): string {
  return prefix === '' || prefix.endsWith('.') ? prefix : `${prefix}.`;
}

/** torch.nn.Linear on [K, in] with weights in [in, out] layout. */
export function linear(x: Tensor, kernel: Tensor, bias: Tensor): Tensor {
  return tf.add(tf.matMul(x, kernel), bias);
}

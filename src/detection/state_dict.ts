/**
 * Weights of the detection modules, taken from a torchvision state_dict by
 * key (tf.Tensors or parseSafetensors' HostTensors) and kept in tfjs layout:
 * conv OIHW -> HWIO, Linear [out, in] -> [in, out].
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor} from '@tensorflow/tfjs-core';
import {StateDict, torchWeight} from '../io/torchvision_weights.ts';

export type {StateDict};

export type WeightLayout = 'conv'|'linear'|'same';

/**
 * The float32 tensor of `key`, in tfjs layout ('conv': OIHW -> HWIO,
 * 'linear': transposed, 'same': a copy), checked against torch's shape: a
 * new tensor the caller owns. The checks and errors of torchWeight (the
 * key, a float32 tf.Tensor not disposed or a whole HostTensor, the shape).
 */
export function takeWeight(op: string, stateDict: StateDict, key: string, torchShape: number[],
    layout: WeightLayout): Tensor {
  return torchWeight(op, stateDict, key, torchShape, layout);
}

/** A prefix with its trailing '.' ('' stays ''). */
export function withDot(prefix: string): string {
  return prefix === '' || prefix.endsWith('.') ? prefix : `${prefix}.`;
}

/** torch.nn.Linear on [K, in] with weights in [in, out] layout. */
export function linear(x: Tensor, kernel: Tensor, bias: Tensor): Tensor {
  return tf.add(tf.matMul(x, kernel), bias);
}

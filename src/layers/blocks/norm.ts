/**
 * torch's BatchNorm{1,2,3}d, torchvision's FrozenBatchNorm2d and torch's
 * LayerNorm as weights of a TorchLayer, on channelsLast tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor} from '@tensorflow/tfjs-core';
import {LayerVariable} from '@tensorflow/tfjs-layers';
import {fail} from '../../ops/validate.ts';
import {channelVector, TorchLayer} from '../torch_layer.ts';
import {ones, zeros} from './init.ts';

/**
 * Norm layers of the conv blocks: 'batchNorm' (torch's BatchNorm2d / 3d: batch
 * statistics when training) or 'frozenBatchNorm' (torchvision's FrozenBatchNorm2d).
 */
export type NormName = 'batchNorm'|'frozenBatchNorm';
export const NORMS: readonly NormName[] = ['batchNorm', 'frozenBatchNorm'];

export function checkNorm<T extends string>(layer: string, arg: string, value: unknown, allowed: readonly T[]): T|null {
  if (value === null) return null;
  if (!allowed.includes(value as T)) {
    fail(layer, arg, `must be null or one of ${allowed.map(a => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** x * scale + (bias - mean * scale), scale = weight * rsqrt(var + eps): torchvision's FrozenBatchNorm2d and torch's BN inference. */
function affine(x: Tensor, weight: Tensor, bias: Tensor, mean: Tensor, variance: Tensor, eps: number): Tensor {
  const scale = tf.mul(weight, tf.rsqrt(tf.add(variance, eps)));
  const shift = tf.sub(bias, tf.mul(mean, scale));
  return tf.add(tf.mul(x, channelVector(scale, x.rank)), channelVector(shift, x.rank));
}

export class TorchBatchNorm {
  weight!: LayerVariable;
  bias!: LayerVariable;
  runningMean!: LayerVariable;
  runningVar!: LayerVariable;

  /**
   * frozen: torchvision's FrozenBatchNorm2d (every weight a non-trainable
   * buffer, never batch statistics). momentum is torch's (new = (1 - m) old + m batch).
   */
  constructor(readonly prefix: string, readonly channels: number, readonly eps: number,
              readonly momentum: number, readonly frozen: boolean) {}

  build(layer: TorchLayer) {
    const p = this.prefix;
    const trainable = !this.frozen;
    this.weight = layer.addTorchWeight(`${p}weight`, [this.channels], 'same', ones(), trainable);
    this.bias = layer.addTorchWeight(`${p}bias`, [this.channels], 'same', zeros(), trainable);
    this.runningMean = layer.addTorchWeight(`${p}running_mean`, [this.channels], 'same', zeros(), false);
    this.runningVar = layer.addTorchWeight(`${p}running_var`, [this.channels], 'same', ones(), false);
  }

  /** x: [N, ..., C]. Training: batch statistics, and the running ones updated as torch does. */
  apply(x: Tensor, training: boolean, layerName: string): Tensor {
    const [w, b] = [this.weight.read(), this.bias.read()];
    if (this.frozen || !training) {
      return affine(x, w, b, this.runningMean.read(), this.runningVar.read(), this.eps);
    }
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const count = x.size / this.channels;
    if (count <= 1) {
      fail(layerName, 'inputs', `needs more than 1 value per channel when training, got shape [${x.shape}]`);
    }
    const {mean, variance} = tf.moments(x, axes);
    this.update(mean, tf.mul(variance, count / (count - 1)));
    return affine(x, w, b, mean, variance, this.eps);
  }

  private update(mean: Tensor, unbiasedVar: Tensor) {
    const m = this.momentum;
    const blend = (v: LayerVariable, batch: Tensor) => v.write(tf.tidy(() =>
        tf.add(tf.mul(batch, m), tf.mul(v.read(), 1 - m))));
    blend(this.runningMean, mean);
    blend(this.runningVar, unbiasedVar);
  }
}

export class TorchLayerNorm {
  weight!: LayerVariable;
  bias!: LayerVariable;

  constructor(readonly prefix: string, readonly channels: number, readonly eps: number) {}

  build(layer: TorchLayer) {
    this.weight = layer.addTorchWeight(`${this.prefix}weight`, [this.channels], 'same', ones());
    this.bias = layer.addTorchWeight(`${this.prefix}bias`, [this.channels], 'same', zeros());
  }

  /** Normalises over the last axis. */
  apply(x: Tensor): Tensor {
    const {mean, variance} = tf.moments(x, -1, true);
    const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.eps)));
    return tf.add(tf.mul(normed, channelVector(this.weight.read(), x.rank)), channelVector(this.bias.read(), x.rank));
  }
}

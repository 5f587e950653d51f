/** torch.nn.Conv2d / Conv3d as weights of a TorchLayer, on channelsLast tensors. */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor} from '@tensorflow/tfjs-core';
import {LayerVariable} from '@tensorflow/tfjs-layers';
import {connectedZeros} from '../../ops/grad_utils.ts';
import {fail} from '../../ops/validate.ts';
import {channelVector, TorchLayer} from '../torch_layer.ts';
import {fanInBias, kaimingUniform, zeros} from './init.ts';

export interface ConvSpec {
  inChannels: number;
  outChannels: number;
  /** One entry per spatial dimension (2 or 3). */
  kernelSize: number[];
  stride: number[];
  /** [before, after] per spatial dimension. */
  padding: Array<[number, number]>;
  dilation: number[];
  groups: number;
  bias: boolean;
}

/** A number or one per spatial dimension, each a positive integer (>= 0 when allowZero). */
export function checkTuple(
    layer: string, arg: string, value: unknown, dims: number, allowZero = false): number[] {
  const list = typeof value === 'number' ? new Array(dims).fill(value) : value;
  const min = allowZero ? 0 : 1;
  if (!Array.isArray(list) || list.length !== dims ||
      !list.every(v => typeof v === 'number' && Number.isInteger(v) && v >= min)) {
    fail(layer, arg, `must be an integer >= ${min} or ${dims} of them, got ${JSON.stringify(value)}`);
  }
  return list;
}

/**
 * torch's padding argument: a number, one per dimension, 'valid' (0) or
 * 'same' (stride 1 only; an odd total puts the extra cell after, as torch).
 */
export function resolvePadding(
    layer: string, padding: unknown, kernelSize: number[], stride: number[],
    dilation: number[]): Array<[number, number]> {
  if (padding === 'valid') return kernelSize.map(() => [0, 0]);
  if (padding === 'same') {
    if (stride.some(s => s !== 1)) fail(layer, 'padding', `'same' needs stride 1, got stride [${stride}]`);
    return kernelSize.map((k, i) => {
      const total = dilation[i] * (k - 1);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    });
  }
  return checkTuple(layer, 'padding', padding, kernelSize.length, true).map(p => [p, p]);
}

export function checkGroups(layer: string, groups: unknown, inChannels: number, outChannels: number): number {
  if (typeof groups !== 'number' || !Number.isInteger(groups) || groups < 1) {
    fail(layer, 'groups', `must be a positive integer, got ${JSON.stringify(groups)}`);
  }
  if (inChannels % groups !== 0 || outChannels % groups !== 0) {
    fail(layer, 'groups', `(${groups}) must divide inChannels (${inChannels}) and outChannels (${outChannels})`);
  }
  return groups;
}

/**
 * Spreads a [...k, I, O] kernel to dilation d with zeros (tfjs has no conv
 * gradient for dilation > 1). Works on 4D views: webgl cannot pad rank 5.
 */
function dilateKernel(w: Tensor, dilation: number[]): Tensor {
  let out = w;
  dilation.forEach((d, axis) => {
    if (d === 1) return;
    const shape = out.shape;
    const [pre, k, post] = [shape.slice(0, axis).reduce((a, b) => a * b, 1), shape[axis],
      shape.slice(axis + 1).reduce((a, b) => a * b, 1)];
    const spread = tf.reshape(tf.pad(tf.reshape(out, [pre, k, 1, post]), [[0, 0], [0, 0], [0, d - 1], [0, 0]]),
        [pre, k * d, post]);
    const kept = tf.slice(spread, [0, 0, 0], [pre, (k - 1) * d + 1, post]);
    out = tf.reshape(kept, [...shape.slice(0, axis), (k - 1) * d + 1, ...shape.slice(axis + 1)]);
  });
  return out;
}

/**
 * Zero padding of the spatial axes of [N, ...spatial, C], on a 4D view (the
 * last spatial axis merged with the channels: webgl cannot pad rank 5).
 */
export function padSpatial(x: Tensor, padding: Array<[number, number]>): Tensor {
  if (padding.every(([a, b]) => a === 0 && b === 0)) return x;
  const shape = x.shape;
  const c = shape[shape.length - 1];
  const merged = tf.reshape(x, [...shape.slice(0, -2), shape[shape.length - 2] * c]);
  const last = padding[padding.length - 1];
  const padded = tf.pad(merged, [[0, 0], ...padding.slice(0, -1), [last[0] * c, last[1] * c]]);
  return tf.reshape(padded, [shape[0], ...padding.map(([a, b], i) => shape[i + 1] + a + b), c]);
}

export function convOutputSize(size: number|null, k: number, s: number, p: [number, number], d: number) {
  return size == null ? null : Math.floor((size + p[0] + p[1] - d * (k - 1) - 1) / s) + 1;
}

export class TorchConv {
  weight!: LayerVariable;
  bias: LayerVariable|null = null;
  private layerName = 'TorchConv';

  constructor(readonly spec: ConvSpec, readonly prefix: string) {}

  /** init 'torch': torch's default; 'fpn': kaiming_uniform(a=1) and bias 0 (torchvision's FPN). */
  build(layer: TorchLayer, init: 'torch'|'fpn' = 'torch') {
    const {inChannels, outChannels, kernelSize, groups} = this.spec;
    this.layerName = layer.getClassName();
    const fanIn = (inChannels / groups) * kernelSize.reduce((a, b) => a * b, 1);
    this.weight = layer.addTorchWeight(`${this.prefix}weight`, [...kernelSize, inChannels / groups, outChannels],
        'conv', kaimingUniform(init === 'fpn' ? 1 : Math.sqrt(5)));
    if (this.spec.bias) {
      this.bias = layer.addTorchWeight(`${this.prefix}bias`, [outChannels], 'same',
          init === 'fpn' ? zeros() : fanInBias(fanIn));
    }
  }

  outputShape(spatial: Array<number|null>): Array<number|null> {
    const {kernelSize, stride, padding, dilation} = this.spec;
    return spatial.map((s, i) => convOutputSize(s, kernelSize[i], stride[i], padding[i], dilation[i]));
  }

  /** x: [N, ...spatial, C] -> [N, ...spatial', outChannels]. */
  apply(x: Tensor): Tensor {
    const {kernelSize, stride, padding, dilation, groups} = this.spec;
    // torch: "Kernel size can't be greater than actual input size" (tfjs-node would pad silently).
    const spatial = x.shape.slice(1, -1);
    if (spatial.some((s, i) => s + padding[i][0] + padding[i][1] < dilation[i] * (kernelSize[i] - 1) + 1)) {
      fail(this.layerName, 'x', `spatial size [${spatial}] padded by [${padding.map(p => p.join('+'))}] is ` +
          `smaller than the (dilated) kernel [${kernelSize.map((k, i) => dilation[i] * (k - 1) + 1)}]`);
    }
    // An empty batch: tfjs-node's conv gives another shape there, so the [0, ...] result is made here.
    if (x.shape[0] === 0) return connectedZeros([0, ...this.outputShape(spatial) as number[], this.spec.outChannels], [x]);
    const padded = padSpatial(x, padding);
    const w = dilateKernel(this.weight.read(), dilation);
    const conv = (input: Tensor, filter: Tensor) => stride.length === 2 ?
        tf.conv2d(input as tf.Tensor4D, filter as tf.Tensor4D, stride as [number, number], 'valid') :
        tf.conv3d(input as tf.Tensor5D, filter as tf.Tensor5D, stride as [number, number, number], 'valid');
    let y: Tensor;
    if (groups === 1) {
      y = conv(padded, w);
    } else {
      const xs = tf.split(padded, groups, padded.rank - 1);
      const ws = tf.split(w, groups, w.rank - 1);
      y = tf.concat(xs.map((xi, g) => conv(xi, ws[g])), padded.rank - 1);
    }
    return this.bias != null ? tf.add(y, channelVector(this.bias.read(), y.rank)) : y;
  }
}

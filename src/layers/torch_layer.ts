/**
 * Base of the torchvision layers that own weights. Each weight is created
 * under its torchvision state_dict key (e.g. 'inner_blocks.0.0.weight'), so
 * that model.save / tf.loadLayersModel see stable names ('<layer>/<key>': the
 * layer's name scopes them) and torchvision weights import by key.
 * Sub-modules (blocks/) are plain objects owning weights of this layer, not
 * sub-layers: fit, save, load and countParams see every weight without any
 * tracking.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor} from '@tensorflow/tfjs-core';
import {initializers, layers, LayerVariable, Shape} from '@tensorflow/tfjs-layers';
import {DATA_FORMATS, DataFormat} from '../ops/roi_common.ts';
import {assertOneOf, describe, fail, isPlainObject} from '../ops/validate.ts';
import {checkElementCount} from '../ops/limits.ts';

export type LayerArgs = NonNullable<ConstructorParameters<typeof layers.Layer>[0]>;
export type Initializer = ReturnType<typeof initializers.zeros>;
// tfjs-layers' Kwargs
/**
 * Keyword arguments of a layer's call, as tfjs-layers passes them (e.g.
 * `{training: true}` from fit).
 * @inline
 */
export type Kwargs = {[key: string]: any};  // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * How a torch tensor maps onto the tfjs weight: 'conv' [O, I, ...k] -> [...k, I, O],
 * 'linear' [out, in] -> [in, out], 'same' unchanged.
 */
export type TorchLayout = 'conv'|'linear'|'same';

/** A weight of a {@link TorchLayer} and the torchvision state_dict entry it stands for. */
export interface TorchWeight {
  /** The torchvision state_dict key relative to the module this layer stands for. */
  key: string;
  /** How the torch tensor's layout maps onto the variable's. */
  layout: TorchLayout;
  /** The tfjs-layers weight. */
  variable: LayerVariable;
}

/**
 * Base class of this package's layers that own weights (FeaturePyramidNetwork,
 * Conv2d/3dNormActivation, FrozenBatchNorm2d, MLP, SqueezeExcitation,
 * DeformConv2d): each weight is created under its torchvision state_dict key
 * and listed in `torchWeights`, whose variables {@link loadTorchvisionWeights} fills.
 * No torchvision counterpart: it mirrors the naming of `torch.nn.Module.state_dict()`.
 *
 * ```js
 * const fpn = new FeaturePyramidNetwork({inChannelsList: [64, 128], outChannels: 64});
 * fpn.apply([c3, c4]);                     // builds the weights
 * fpn.torchWeights.map(w => w.key)         // ['inner_blocks.0.0.weight', 'inner_blocks.0.0.bias', ...]
 * ```
 */
export abstract class TorchLayer extends layers.Layer {
  /** Every weight of this layer under its torchvision name (filled by build()). */
  readonly torchWeights: TorchWeight[] = [];

  /**
   * Creates a weight named by its torchvision key; keys of Sequential modules
   * ('0.weight') become 'module.0.weight', since tfjs-layers reads saved
   * weights whose name ends in '/<digit>' as Keras 3's format.
   */
  addTorchWeight(
      key: string, shape: number[], layout: TorchLayout, initializer: Initializer,
      trainable = true): LayerVariable {
    const name = /^\d/.test(key) ? `module.${key}` : key;
    // Before anything is allocated: channel counts like 2^31 would make a weight of gigabytes.
    checkElementCount(this.getClassName(), key, `a weight [${shape}]`, shape);
    const variable = this.addWeight(name, shape, 'float32', initializer, undefined, trainable);
    this.torchWeights.push({key, layout, variable});
    return variable;
  }
}

/** kwargs.training as tfjs-layers passes it (fit: true; predict and plain calls: false). */
export function isTraining(kwargs: Kwargs|undefined): boolean {
  return kwargs?.training === true;
}

export function checkDataFormat(layer: string, dataFormat: unknown): DataFormat {
  const format = dataFormat ?? 'channelsLast';
  assertOneOf(layer, 'dataFormat', format, DATA_FORMATS);
  return format as DataFormat;
}

export function checkPositiveInt(layer: string, arg: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    fail(layer, arg, `must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function checkProbability(layer: string, arg: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    fail(layer, arg, `must be in [0, 1], got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * The input shape check of a layer's build: rank `rank`, and `channels` on the
 * channel axis of `dataFormat` where that dimension is known.
 */
export function checkInputChannels(layer: string, shape: Shape, rank: number, channels: number, dataFormat: DataFormat) {
  const c = shape[dataFormat === 'channelsFirst' ? 1 : shape.length - 1];
  if (shape.length !== rank || (c != null && c !== channels)) {
    fail(layer, 'inputs', `must be ${rank}D with ${channels} channels (${dataFormat}), got shape [${shape}]`);
  }
}

/**
 * A per-channel vector [C] as [1, ..., 1, C] of the given rank, for
 * broadcasting against channelsLast tensors (tfjs-backend-webgpu 4.22 gives
 * zeros for rank-5 op rank-1 broadcasts).
 */
export function channelVector(v: Tensor, rank: number): Tensor {
  return tf.reshape(v, [...new Array(Math.max(rank - 1, 0)).fill(1), v.size]);
}

/** [N, C, ...S] -> [N, ...S, C]. */
export function toChannelsLast(x: Tensor): Tensor {
  return tf.transpose(x, [0, ...Array.from({length: x.rank - 2}, (_, i) => i + 2), 1]);
}

/** [N, ...S, C] -> [N, C, ...S]. */
export function toChannelsFirst(x: Tensor): Tensor {
  return tf.transpose(x, [0, x.rank - 1, ...Array.from({length: x.rank - 2}, (_, i) => i + 1)]);
}

/**
 * The arguments of a layer constructor called either way: one plain object
 * (the tfjs form, and what deserialization passes), or torchvision's
 * positional arguments, named in order by `positional`, optionally followed
 * by one plain object holding the other options. Any other form is an Error
 * naming the layer.
 */
export function layerArgs<T>(layer: string, values: readonly unknown[], positional: readonly string[]): T {
  const [first, ...rest] = values;
  const forms = `an options object {${positional.join(', ')}, ...}` + (positional.length === 0 ? '' :
      ` or torchvision's positional arguments (${positional.join(', ')}[, options])`);
  if (isPlainObject(first)) {
    const extra = rest.findIndex(v => v !== undefined);
    if (extra >= 0) {
      fail(layer, 'arguments', `take nothing after the options object, got ${describe(rest[extra])} as argument ${extra + 2}`);
    }
    return first as T;
  }
  if (first == null || positional.length === 0) fail(layer, 'arguments', `must be ${forms}, got ${describe(first)}`);
  const args: Record<string, unknown> = {};
  let i = 0;
  for (; i < values.length && !isPlainObject(values[i]); i++) {
    if (values[i] === undefined) continue;
    if (i >= positional.length) {
      fail(layer, 'arguments', `take at most ${positional.length} positional arguments (${positional.join(', ')}) ` +
          `before an options object, got ${describe(values[i])} as argument ${i + 1}`);
    }
    args[positional[i]] = values[i];
  }
  if (i === values.length) return args as T;
  const options = values[i] as Record<string, unknown>;
  const after = values.slice(i + 1).findIndex(v => v !== undefined);
  if (after >= 0) fail(layer, 'arguments', `take nothing after the options object (argument ${i + 1})`);
  for (const key of Object.keys(options)) {
    if (key in args) fail(layer, key, 'is given twice: as a positional argument and in the options object');
  }
  return {...options, ...args} as T;
}

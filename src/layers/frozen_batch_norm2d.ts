import * as tf from '@tensorflow/tfjs-core';
import {serialization, Tensor} from '@tensorflow/tfjs-core';
import {Shape} from '@tensorflow/tfjs-layers';
import {DataFormat} from '../ops/roi_common.ts';
import {assertFiniteNumber} from '../ops/validate.ts';
import {TorchBatchNorm} from './blocks/norm.ts';
import {checkDataFormat, checkInputChannels, checkPositiveInt, LayerArgs, layerArgs, toChannelsFirst, toChannelsLast, TorchLayer} from './torch_layer.ts';

/** Arguments of the {@link FrozenBatchNorm2d} layer. */
export interface FrozenBatchNorm2dArgs extends LayerArgs {
  /** Channels C of the input. */
  numFeatures: number;
  /** Default 1e-5. */
  eps?: number;
  /** Default 'channelsLast': [N, H, W, C]; 'channelsFirst': [N, C, H, W]. */
  dataFormat?: DataFormat;
}

/**
 * Batch norm with fixed statistics and affine parameters, all four
 * non-trainable: y = x * s + (bias - running_mean * s), s = weight *
 * rsqrt(running_var + eps). [N, H, W, C] (channelsFirst: [N, C, H, W]) -> same
 * shape. Defaults: eps 1e-5, dataFormat 'channelsLast'. Weights: weight, bias,
 * running_mean, running_var (initially 1, 0, 0, 1).
 * torchvision: `torchvision.ops.FrozenBatchNorm2d(num_features, eps=1e-5)`.
 *
 * ```js
 * new FrozenBatchNorm2d({numFeatures: 64}).apply(x)  // x [N, H, W, 64] -> [N, H, W, 64]
 * new FrozenBatchNorm2d(64, 1e-5)  // torchvision's FrozenBatchNorm2d(64, eps=1e-5)
 * ```
 */
export class FrozenBatchNorm2d extends TorchLayer {
  static className = 'FrozenBatchNorm2d';
  readonly numFeatures: number;
  readonly eps: number;
  readonly dataFormat: DataFormat;
  private readonly norm: TorchBatchNorm;

  /** One arguments object (also what deserialization passes). */
  constructor(args: FrozenBatchNorm2dArgs);
  /** torchvision's positional arguments (numFeatures), then optionally an object of the other options. */
  constructor(numFeatures: FrozenBatchNorm2dArgs['numFeatures'], options?: Omit<FrozenBatchNorm2dArgs, 'numFeatures'|'eps'>);
  /** torchvision's positional arguments (numFeatures, eps), then optionally an object of the other options. */
  constructor(numFeatures: FrozenBatchNorm2dArgs['numFeatures'], eps: FrozenBatchNorm2dArgs['eps'], options?: Omit<FrozenBatchNorm2dArgs, 'numFeatures'|'eps'>);
  constructor(...values: unknown[]) {
    const args = layerArgs<FrozenBatchNorm2dArgs>(FrozenBatchNorm2d.className, values, ['numFeatures', 'eps']);
    super(args);
    const name = FrozenBatchNorm2d.className;
    this.numFeatures = checkPositiveInt(name, 'numFeatures', args.numFeatures);
    this.eps = args.eps ?? 1e-5;
    assertFiniteNumber(name, 'eps', this.eps);
    this.dataFormat = checkDataFormat(name, args.dataFormat);
    this.norm = new TorchBatchNorm('', this.numFeatures, this.eps, 0, true);
  }

  build(inputShape: Shape|Shape[]) {
    checkInputChannels(FrozenBatchNorm2d.className, inputShape as Shape, 4, this.numFeatures, this.dataFormat);
    this.norm.build(this);
    this.built = true;
  }

  computeOutputShape(inputShape: Shape|Shape[]): Shape|Shape[] {
    return inputShape;
  }

  call(inputs: Tensor|Tensor[]): Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (this.dataFormat === 'channelsLast') return this.norm.apply(x, false, FrozenBatchNorm2d.className);
      return toChannelsFirst(this.norm.apply(toChannelsLast(x), false, FrozenBatchNorm2d.className));
    });
  }

  /** The layer's arguments, for serialization (model.save / tf.loadLayersModel). */
  getConfig(): serialization.ConfigDict {
    return {...super.getConfig(), numFeatures: this.numFeatures, eps: this.eps, dataFormat: this.dataFormat};
  }
}
serialization.registerClass(FrozenBatchNorm2d);

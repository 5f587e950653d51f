import * as tf from '@tensorflow/tfjs-core';
import {serialization, Tensor} from '@tensorflow/tfjs-core';
import {Shape} from '@tensorflow/tfjs-layers';
import {DataFormat} from '../ops/roi_common.ts';
import {activate, ActivationName, checkActivation} from './blocks/activation.ts';
import {TorchConv} from './blocks/conv.ts';
import {checkDataFormat, checkInputChannels, checkPositiveInt, LayerArgs, layerArgs, TorchLayer} from './torch_layer.ts';

/** Arguments of the {@link SqueezeExcitation} layer. */
export interface SqueezeExcitationArgs extends LayerArgs {
  /** Channels C of the input (and output). */
  inputChannels: number;
  /** Channels between the two 1x1 convolutions. */
  squeezeChannels: number;
  /** Default 'relu'. */
  activation?: ActivationName;
  /** Default 'sigmoid'. */
  scaleActivation?: ActivationName;
  /** Default 'channelsLast': [N, H, W, C]; 'channelsFirst': [N, C, H, W]. */
  dataFormat?: DataFormat;
}

/**
 * Squeeze-and-excitation: x * scale_act(fc2(act(fc1(avgpool(x))))), fc1 and
 * fc2 1x1 convolutions. [N, H, W, C] (channelsFirst: [N, C, H, W]) -> same
 * shape. Defaults: activation 'relu', scaleActivation 'sigmoid', dataFormat
 * 'channelsLast'. Weights: fc1.weight, fc1.bias, fc2.weight, fc2.bias.
 * torchvision: `torchvision.ops.SqueezeExcitation(input_channels,
 * squeeze_channels, activation=ReLU, scale_activation=Sigmoid)`.
 *
 * ```js
 * new SqueezeExcitation({inputChannels: 64, squeezeChannels: 16}).apply(x)  // [N, H, W, 64] -> [N, H, W, 64]
 * new SqueezeExcitation(64, 16)  // the same layer, torchvision's SqueezeExcitation(64, 16)
 * ```
 */
export class SqueezeExcitation extends TorchLayer {
  static className = 'SqueezeExcitation';
  readonly inputChannels: number;
  readonly squeezeChannels: number;
  readonly activation: ActivationName;
  readonly scaleActivation: ActivationName;
  readonly dataFormat: DataFormat;
  private readonly fc1: TorchConv;
  private readonly fc2: TorchConv;

  /** One arguments object (also what deserialization passes). */
  constructor(args: SqueezeExcitationArgs);
  /** torchvision's positional arguments (inputChannels, squeezeChannels), then optionally an object of the other options. */
  constructor(inputChannels: SqueezeExcitationArgs['inputChannels'], squeezeChannels: SqueezeExcitationArgs['squeezeChannels'], options?: Omit<SqueezeExcitationArgs, 'inputChannels'|'squeezeChannels'>);
  constructor(...values: unknown[]) {
    const args = layerArgs<SqueezeExcitationArgs>(SqueezeExcitation.className, values, ['inputChannels', 'squeezeChannels']);
    super(args);
    const name = SqueezeExcitation.className;
    this.inputChannels = checkPositiveInt(name, 'inputChannels', args.inputChannels);
    this.squeezeChannels = checkPositiveInt(name, 'squeezeChannels', args.squeezeChannels);
    this.activation = checkActivation(name, 'activation', args.activation ?? 'relu')!;
    this.scaleActivation = checkActivation(name, 'scaleActivation', args.scaleActivation ?? 'sigmoid')!;
    this.dataFormat = checkDataFormat(name, args.dataFormat);
    const conv1x1 = (inChannels: number, outChannels: number) => ({
      inChannels, outChannels, kernelSize: [1, 1], stride: [1, 1], padding: [[0, 0], [0, 0]] as Array<[number, number]>,
      dilation: [1, 1], groups: 1, bias: true,
    });
    this.fc1 = new TorchConv(conv1x1(this.inputChannels, this.squeezeChannels), 'fc1.');
    this.fc2 = new TorchConv(conv1x1(this.squeezeChannels, this.inputChannels), 'fc2.');
  }

  build(inputShape: Shape|Shape[]) {
    checkInputChannels(SqueezeExcitation.className, inputShape as Shape, 4, this.inputChannels, this.dataFormat);
    this.fc1.build(this);
    this.fc2.build(this);
    this.built = true;
  }

  computeOutputShape(inputShape: Shape|Shape[]): Shape|Shape[] {
    return inputShape;
  }

  call(inputs: Tensor|Tensor[]): Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const first = this.dataFormat === 'channelsFirst';
      const pooled = tf.reshape(tf.mean(x, first ? [2, 3] : [1, 2]), [x.shape[0], 1, 1, this.inputChannels]);
      const squeezed = activate(this.activation, this.fc1.apply(pooled));
      let scale = activate(this.scaleActivation, this.fc2.apply(squeezed));
      if (first) scale = tf.reshape(scale, [x.shape[0], this.inputChannels, 1, 1]);
      return tf.mul(scale, x);
    });
  }

  /** The layer's arguments, for serialization (model.save / tf.loadLayersModel). */
  getConfig(): serialization.ConfigDict {
    return {
      ...super.getConfig(),
      inputChannels: this.inputChannels,
      squeezeChannels: this.squeezeChannels,
      activation: this.activation,
      scaleActivation: this.scaleActivation,
      dataFormat: this.dataFormat,
    };
  }
}
serialization.registerClass(SqueezeExcitation);

/**
 * Shared body of Conv2dNormActivation and Conv3dNormActivation (torchvision's
 * ConvNormActivation): conv, optional norm, optional activation. Weights are
 * torchvision's Sequential keys: '0.weight', ['0.bias'], ['1.weight', '1.bias',
 * '1.running_mean', '1.running_var'].
 */
import * as tf from '@tensorflow/tfjs-core';
import {serialization, Tensor} from '@tensorflow/tfjs-core';
import {Shape} from '@tensorflow/tfjs-layers';
import {DataFormat} from '../ops/roi_common.ts';
import {assertFiniteNumber, fail} from '../ops/validate.ts';
import {activate, ActivationName, checkActivation} from './blocks/activation.ts';
import {checkGroups, checkTuple, resolvePadding, TorchConv} from './blocks/conv.ts';
import {checkNorm, NormName, NORMS, TorchBatchNorm} from './blocks/norm.ts';
import {checkDataFormat, checkInputChannels, checkPositiveInt, isTraining, Kwargs, LayerArgs, toChannelsFirst,
  toChannelsLast, TorchLayer} from './torch_layer.ts';

/**
 * One integer for every spatial dimension, or one per dimension.
 * @inline
 */
type Size = number|number[];

/** Arguments of {@link Conv2dNormActivation} and {@link Conv3dNormActivation}. */
export interface ConvNormActivationArgs extends LayerArgs {
  /** Channels of the input. */
  inChannels: number;
  /** Channels of the output (conv filters). */
  outChannels: number;
  /** Default 3. */
  kernelSize?: Size;
  /** Default 1. */
  stride?: Size;
  /** Default null: (kernelSize - 1) / 2 * dilation (integer division). Also 'same' or 'valid'. */
  padding?: Size|'same'|'valid'|null;
  /** Default 1. */
  groups?: number;
  /** Default 'batchNorm'; null for none. */
  normLayer?: NormName|null;
  /** Default 'relu'; null for none. */
  activation?: ActivationName|null;
  /** Default 1. */
  dilation?: Size;
  /** Default null: a bias only when there is no norm layer. */
  bias?: boolean|null;
  /** eps of the norm layer. Default 1e-5. */
  normEps?: number;
  /** momentum of a 'batchNorm' layer, torch's convention. Default 0.1. */
  normMomentum?: number;
  /** Default 'channelsLast': [N, ...spatial, C]; 'channelsFirst': [N, C, ...spatial]. */
  dataFormat?: DataFormat;
}

/** @inline */
type A = ConvNormActivationArgs;
/**
 * What follows torchvision's positional arguments: the other options.
 * @inline
 */
type Options = Omit<A, 'inChannels'|'outChannels'|'kernelSize'|'stride'|'padding'|'groups'>;

/**
 * The constructor forms of {@link Conv2dNormActivation} and
 * {@link Conv3dNormActivation}: one arguments object (also what
 * deserialization passes), or torchvision's positional arguments (inChannels,
 * outChannels[, kernelSize[, stride[, padding[, groups]]]]), then optionally
 * an object of the other options.
 */
export type ConvNormActivationParams =
  | [args: A]
  | [inChannels: A['inChannels'], outChannels: A['outChannels'], options?: Options]
  | [inChannels: A['inChannels'], outChannels: A['outChannels'], kernelSize: A['kernelSize'], options?: Options]
  | [inChannels: A['inChannels'], outChannels: A['outChannels'], kernelSize: A['kernelSize'], stride: A['stride'],
     options?: Options]
  | [inChannels: A['inChannels'], outChannels: A['outChannels'], kernelSize: A['kernelSize'], stride: A['stride'],
     padding: A['padding'], options?: Options]
  | [inChannels: A['inChannels'], outChannels: A['outChannels'], kernelSize: A['kernelSize'], stride: A['stride'],
     padding: A['padding'], groups: A['groups'], options?: Options];

/** The names of torchvision's positional arguments, in order. */
export const CONV_NORM_ACTIVATION_POSITIONAL = ['inChannels', 'outChannels', 'kernelSize', 'stride', 'padding', 'groups'];

export abstract class ConvNormActivation extends TorchLayer {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: Size|'same'|'valid'|null;
  readonly groups: number;
  readonly normLayer: NormName|null;
  readonly activation: ActivationName|null;
  readonly dilation: number[];
  readonly bias: boolean|null;
  readonly normEps: number;
  readonly normMomentum: number;
  readonly dataFormat: DataFormat;
  private readonly conv: TorchConv;
  private readonly norm: TorchBatchNorm|null;

  constructor(args: ConvNormActivationArgs, readonly spatialDims: 2|3) {
    super(args);
    const name = this.getClassName();
    this.inChannels = checkPositiveInt(name, 'inChannels', args.inChannels);
    this.outChannels = checkPositiveInt(name, 'outChannels', args.outChannels);
    this.kernelSize = checkTuple(name, 'kernelSize', args.kernelSize ?? 3, spatialDims);
    this.stride = checkTuple(name, 'stride', args.stride ?? 1, spatialDims);
    this.dilation = checkTuple(name, 'dilation', args.dilation ?? 1, spatialDims);
    this.padding = args.padding ?? null;
    this.groups = checkGroups(name, args.groups ?? 1, this.inChannels, this.outChannels);
    this.normLayer = checkNorm(name, 'normLayer', args.normLayer === undefined ? 'batchNorm' : args.normLayer, NORMS);
    this.activation = checkActivation(name, 'activation', args.activation === undefined ? 'relu' : args.activation);
    this.bias = args.bias ?? null;
    if (this.bias !== null && typeof this.bias !== 'boolean') fail(name, 'bias', `must be null or a boolean, got ${this.bias}`);
    this.normEps = args.normEps ?? 1e-5;
    assertFiniteNumber(name, 'normEps', this.normEps);
    this.normMomentum = args.normMomentum ?? 0.1;
    assertFiniteNumber(name, 'normMomentum', this.normMomentum);
    this.dataFormat = checkDataFormat(name, args.dataFormat);
    const padding = this.padding === null ?
        this.kernelSize.map((k, i): [number, number] => {
          const p = Math.floor((k - 1) / 2) * this.dilation[i];
          return [p, p];
        }) :
        resolvePadding(name, this.padding, this.kernelSize, this.stride, this.dilation);
    this.conv = new TorchConv({
      inChannels: this.inChannels, outChannels: this.outChannels, kernelSize: this.kernelSize,
      stride: this.stride, padding, dilation: this.dilation, groups: this.groups,
      bias: this.bias ?? this.normLayer === null,
    }, '0.');
    this.norm = this.normLayer === null ? null :
        new TorchBatchNorm('1.', this.outChannels, this.normEps, this.normMomentum, this.normLayer === 'frozenBatchNorm');
  }

  build(inputShape: Shape|Shape[]) {
    checkInputChannels(this.getClassName(), inputShape as Shape, this.spatialDims + 2, this.inChannels, this.dataFormat);
    this.conv.build(this);
    this.norm?.build(this);
    this.built = true;
  }

  computeOutputShape(inputShape: Shape|Shape[]): Shape {
    const shape = inputShape as Shape;
    if (this.dataFormat === 'channelsFirst') {
      return [shape[0], this.outChannels, ...this.conv.outputShape(shape.slice(2))];
    }
    return [shape[0], ...this.conv.outputShape(shape.slice(1, -1)), this.outChannels];
  }

  call(inputs: Tensor|Tensor[], kwargs: Kwargs): Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const last = this.dataFormat === 'channelsLast' ? x : toChannelsLast(x);
      let y = this.conv.apply(last);
      if (this.norm != null) y = this.norm.apply(y, isTraining(kwargs), this.getClassName());
      y = activate(this.activation, y);
      return this.dataFormat === 'channelsLast' ? y : toChannelsFirst(y);
    });
  }

  /** The layer's arguments, for serialization (model.save / tf.loadLayersModel). */
  getConfig(): serialization.ConfigDict {
    return {
      ...super.getConfig(),
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      kernelSize: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      groups: this.groups,
      normLayer: this.normLayer,
      activation: this.activation,
      dilation: this.dilation,
      bias: this.bias,
      normEps: this.normEps,
      normMomentum: this.normMomentum,
      dataFormat: this.dataFormat,
    };
  }
}

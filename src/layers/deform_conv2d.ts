import * as tf from '@tensorflow/tfjs-core';
import {serialization, Tensor, Tensor1D, Tensor4D} from '@tensorflow/tfjs-core';
import {LayerVariable, Shape} from '@tensorflow/tfjs-layers';
import {deformConv2d} from '../ops/deform_conv2d.ts';
import {DataFormat} from '../ops/roi_common.ts';
import {checkIntPair, describe, fail, isPlainObject} from '../ops/validate.ts';
import {fanInBias, kaimingUniform} from './blocks/init.ts';
import {checkDataFormat, checkPositiveInt, LayerArgs, layerArgs, TorchLayer} from './torch_layer.ts';

/**
 * One integer for both spatial dimensions, or [height, width].
 * @inline
 */
type Pair = number|[number, number];

/** Options of the {@link DeformConv2d} layer (all but inChannels, filters and kernelSize). */
export interface DeformConv2dOptions extends LayerArgs {
  /** Default 1. */
  strides?: Pair;
  /** Zero padding on both sides. Default 0 (torchvision's). */
  padding?: Pair;
  /** Default 1. */
  dilation?: Pair;
  /** Weight groups. Default 1. */
  groups?: number;
  /** Offset groups: the offset input has 2 offsetGroups KH KW channels. Default 1. */
  offsetGroups?: number;
  /** Whether the layer has a bias [filters]. Default true. */
  useBias?: boolean;
  /** Default 'channelsLast': x [N, H, W, Cin]; 'channelsFirst': [N, Cin, H, W]. */
  dataFormat?: DataFormat;
}

/** Arguments of the {@link DeformConv2d} layer as one object. */
export interface DeformConv2dLayerArgs extends DeformConv2dOptions {
  /**
   * Input channels (torchvision's in_channels). Default null: taken from x at
   * build time; when given, x must have that many channels.
   */
  inChannels?: number|null;
  /** Output channels (torchvision's out_channels). */
  filters: number;
  /** KH and KW: one number or [height, width]. */
  kernelSize: Pair;
}

/**
 * Deformable convolution as a tf.layers layer: apply([x, offset]) or
 * apply([x, offset, mask]) runs {@link deformConv2d} with the layer's weights,
 * kernel HWIO [KH, KW, Cin / groups, filters] (tfjs's layout; torchvision's
 * 'weight' [filters, Cin / groups, KH, KW] imports under the same name) and
 * bias [filters]. x [N, H, W, Cin], offset [N, OH, OW, 2 offsetGroups KH KW],
 * mask [N, OH, OW, offsetGroups KH KW] -> [N, OH, OW, filters] (channelsFirst:
 * all NCHW). Three constructor forms: torchvision's `new DeformConv2d(inChannels,
 * outChannels, kernelSize, options?)` (three positional arguments, the third
 * a number or [KH, KW]; then optionally torchvision's stride, padding,
 * dilation, groups, bias positionally, or an options object), tfjs's `new
 * DeformConv2d(filters, kernelSize, options?)` (two positional arguments), and
 * one arguments object `{inChannels?, filters, kernelSize, ...}`. Without
 * inChannels the input channels come from x at build time. Defaults: strides 1,
 * padding 0, dilation 1, groups 1, offsetGroups 1, useBias true, dataFormat
 * 'channelsLast'. Initialisation as torchvision: kaiming_uniform(a = sqrt 5)
 * for the kernel, U(+-1 / sqrt(fan_in)) for the bias, fan_in = Cin / groups KH KW.
 * torchvision: `torchvision.ops.DeformConv2d(in_channels, out_channels,
 * kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True)`.
 *
 * ```js
 * const layer = new DeformConv2d(64, 3, {padding: 1});   // or new DeformConv2d({filters: 64, kernelSize: 3, padding: 1})
 * const y = layer.apply([x, offset, mask]);              // x [N, H, W, Cin], offset [N, H, W, 18], mask [N, H, W, 9]
 * // torchvision's DeformConv2d(32, 64, 3, padding=1): 32 input channels, 64 output channels, 3x3 kernel
 * const tv = new DeformConv2d(32, 64, 3, {padding: 1}); // = new DeformConv2d({inChannels: 32, filters: 64, kernelSize: 3, padding: 1})
 * ```
 */
export class DeformConv2d extends TorchLayer {
  static className = 'DeformConv2d';
  /** Input channels when given (torchvision's form or the inChannels argument), else null (taken from x). */
  readonly inChannels: number|null;
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  readonly offsetGroups: number;
  readonly useBias: boolean;
  readonly dataFormat: DataFormat;
  private kernel: LayerVariable|null = null;
  private bias: LayerVariable|null = null;

  /** One arguments object (also what deserialization passes). */
  constructor(args: DeformConv2dLayerArgs);
  /** torchvision's order: in_channels, out_channels, kernel_size, then optionally an options object. */
  constructor(inChannels: number, outChannels: number, kernelSize: Pair, options?: DeformConv2dOptions);
  /**
   * torchvision's order with its further positional arguments (stride,
   * padding, dilation, groups, bias), optionally followed by an options object.
   */
  constructor(
      inChannels: number, outChannels: number, kernelSize: Pair,
      ...strideDilationPaddingGroupsBias: Array<Pair|boolean|DeformConv2dOptions|undefined>);
  /** tfjs's order (as tf.layers.conv2d's filters and kernelSize): output channels, kernel size, options. */
  constructor(filters: number, kernelSize: Pair, options?: DeformConv2dOptions);
  constructor(...values: unknown[]) {
    const args = deformConv2dArgs(values);
    super(args);
    const name = DeformConv2d.className;
    this.inChannels = args.inChannels == null ? null : checkPositiveInt(name, 'inChannels', args.inChannels);
    this.filters = checkPositiveInt(name, 'filters', args.filters);
    this.kernelSize = checkIntPair(name, 'kernelSize', args.kernelSize, 1);
    this.strides = checkIntPair(name, 'strides', args.strides ?? 1, 1);
    this.padding = checkIntPair(name, 'padding', args.padding ?? 0, 0);
    this.dilation = checkIntPair(name, 'dilation', args.dilation ?? 1, 1);
    this.groups = checkPositiveInt(name, 'groups', args.groups ?? 1);
    this.offsetGroups = checkPositiveInt(name, 'offsetGroups', args.offsetGroups ?? 1);
    this.useBias = args.useBias ?? true;
    if (typeof this.useBias !== 'boolean') fail(name, 'useBias', `must be a boolean, got ${this.useBias}`);
    this.dataFormat = checkDataFormat(name, args.dataFormat);
    if (this.filters % this.groups !== 0) {
      fail(name, 'groups', `(${this.groups}) must divide filters (${this.filters})`);
    }
    if (this.inChannels != null && this.inChannels % this.groups !== 0) {
      fail(name, 'groups', `(${this.groups}) must divide inChannels (${this.inChannels})`);
    }
  }

  private channelAxis() {
    return this.dataFormat === 'channelsFirst' ? 1 : 3;
  }

  build(inputShape: Shape|Shape[]) {
    const name = DeformConv2d.className;
    const xShape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const inChannels = xShape.length === 4 ? xShape[this.channelAxis()] : null;
    if (inChannels == null) {
      fail(name, 'inputs', `x must be 4D with a known channel count (${this.dataFormat}), got shape [${xShape}]`);
    }
    if (this.inChannels != null && inChannels !== this.inChannels) {
      fail(name, 'inputs', `x has ${inChannels} channels, but the layer was made for inChannels ${this.inChannels}`);
    }
    if (inChannels % this.groups !== 0 || inChannels % this.offsetGroups !== 0) {
      fail(name, 'inputs', `x has ${inChannels} channels, not divisible by groups (${this.groups}) ` +
          `and offsetGroups (${this.offsetGroups})`);
    }
    const [kh, kw] = this.kernelSize;
    this.kernel = this.addTorchWeight('weight', [kh, kw, inChannels / this.groups, this.filters], 'conv',
        kaimingUniform(Math.sqrt(5)));
    if (this.useBias) {
      this.bias = this.addTorchWeight('bias', [this.filters], 'same', fanInBias(inChannels / this.groups * kh * kw));
    }
    this.built = true;
  }

  computeOutputShape(inputShape: Shape|Shape[]): Shape {
    const xShape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const first = this.dataFormat === 'channelsFirst';
    const [h, w] = first ? [xShape[2], xShape[3]] : [xShape[1], xShape[2]];
    const size = (s: number|null, i: number) => s == null ? null :
        Math.floor((s + 2 * this.padding[i] - (this.dilation[i] * (this.kernelSize[i] - 1) + 1)) / this.strides[i]) + 1;
    const [oh, ow] = [size(h, 0), size(w, 1)];
    return first ? [xShape[0], this.filters, oh, ow] : [xShape[0], oh, ow, this.filters];
  }

  call(inputs: Tensor|Tensor[]): Tensor {
    const name = DeformConv2d.className;
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length !== 2 && list.length !== 3) {
      fail(name, 'inputs', `must be [x, offset] or [x, offset, mask], got ${list.length} tensor(s)`);
    }
    const [x, offset, mask] = list as Tensor4D[];
    const [kh, kw] = this.kernelSize;
    const offsetChannels = offset.rank === 4 ? offset.shape[this.channelAxis()] : -1;
    if (offsetChannels !== 2 * this.offsetGroups * kh * kw) {
      fail(name, 'offset', `must be 4D with 2 * offsetGroups * KH * KW = ${2 * this.offsetGroups * kh * kw} ` +
          `channels (${this.dataFormat}), got shape [${offset.shape}]`);
    }
    return tf.tidy(() => deformConv2d(x, offset, this.kernel!.read() as Tensor4D, {
      bias: this.bias != null ? this.bias.read() as Tensor1D : null,
      stride: this.strides, padding: this.padding, dilation: this.dilation, mask: mask ?? null,
      dataFormat: this.dataFormat, weightFormat: 'HWIO',
    }));
  }

  /** The layer's arguments, for serialization (model.save / tf.loadLayersModel). */
  getConfig(): serialization.ConfigDict {
    return {
      ...super.getConfig(),
      inChannels: this.inChannels, filters: this.filters, kernelSize: this.kernelSize, strides: this.strides, padding: this.padding,
      dilation: this.dilation, groups: this.groups, offsetGroups: this.offsetGroups, useBias: this.useBias,
      dataFormat: this.dataFormat,
    };
  }
}
serialization.registerClass(DeformConv2d);

/**
 * The constructor's arguments as one object: (inChannels, outChannels,
 * kernelSize, ...) when the third argument is a number or an array
 * (torchvision), (filters, kernelSize, options?) when the first two are
 * positional and the third is absent or an object (tfjs), or one object.
 */
function deformConv2dArgs(values: unknown[]): DeformConv2dLayerArgs {
  const name = DeformConv2d.className;
  const [first, , third] = values;
  if (isPlainObject(first)) return layerArgs<DeformConv2dLayerArgs>(name, values, []);
  if (typeof first !== 'number') {
    fail(name, 'arguments', `must be (inChannels, outChannels, kernelSize, options?) as torchvision, ` +
        `(filters, kernelSize, options?) or an options object {filters, kernelSize, ...}, got ${describe(first)} first`);
  }
  if (typeof third === 'number' || Array.isArray(third)) {
    return layerArgs<DeformConv2dLayerArgs>(name, values,
        ['inChannels', 'filters', 'kernelSize', 'strides', 'padding', 'dilation', 'groups', 'useBias']);
  }
  if (values.length > 3) {
    fail(name, 'arguments', `(filters, kernelSize, options) take nothing after the options, got ${values.length} arguments`);
  }
  if (third !== undefined && !isPlainObject(third)) {
    fail(name, 'options', `must be an options object {strides, padding, dilation, groups, offsetGroups, useBias, ` +
        `dataFormat}, or a kernel size (torchvision's (inChannels, outChannels, kernelSize)), got ${describe(third)}`);
  }
  return layerArgs<DeformConv2dLayerArgs>(name, values, ['filters', 'kernelSize']);
}

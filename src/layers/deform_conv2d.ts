import * as tf from '@tensorflow/tfjs-core';
import {serialization, Tensor, Tensor1D, Tensor4D} from '@tensorflow/tfjs-core';
import {LayerVariable, Shape} from '@tensorflow/tfjs-layers';
import {deformConv2d} from '../ops/deform_conv2d.ts';
import {DataFormat} from '../ops/roi_common.ts';
import {checkIntPair, fail} from '../ops/validate.ts';
import {fanInBias, kaimingUniform} from './blocks/init.ts';
import {checkDataFormat, checkPositiveInt, LayerArgs, TorchLayer} from './torch_layer.ts';

/**
 * One integer for both spatial dimensions, or [height, width].
 * @inline
 */
type Pair = number|[number, number];

/** Options of the {@link DeformConv2d} layer (all but filters and kernelSize). */
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
  /** Output channels. */
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
 * all NCHW). Input channels come from x at build time. Defaults: strides 1,
 * padding 0, dilation 1, groups 1, offsetGroups 1, useBias true, dataFormat
 * 'channelsLast'. Initialisation as torchvision: kaiming_uniform(a = sqrt 5)
 * for the kernel, U(+-1 / sqrt(fan_in)) for the bias, fan_in = Cin / groups KH KW.
 * torchvision: `torchvision.ops.DeformConv2d(in_channels, out_channels,
 * kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True)`.
 *
 * ```js
 * const layer = new DeformConv2d(64, 3, {padding: 1});   // or new DeformConv2d({filters: 64, kernelSize: 3, padding: 1})
 * const y = layer.apply([x, offset, mask]);              // x [N, H, W, Cin], offset [N, H, W, 18], mask [N, H, W, 9]
 * ```
 */
export class DeformConv2d extends TorchLayer {
  static className = 'DeformConv2d';
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

  constructor(filtersOrArgs: number|DeformConv2dLayerArgs, kernelSize?: Pair, options: DeformConv2dOptions = {}) {
    const args: DeformConv2dLayerArgs = typeof filtersOrArgs === 'number' ?
        {...options, filters: filtersOrArgs, kernelSize: kernelSize as Pair} : filtersOrArgs;
    super(args);
    const name = DeformConv2d.className;
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
      filters: this.filters, kernelSize: this.kernelSize, strides: this.strides, padding: this.padding,
      dilation: this.dilation, groups: this.groups, offsetGroups: this.offsetGroups, useBias: this.useBias,
      dataFormat: this.dataFormat,
    };
  }
}
serialization.registerClass(DeformConv2d);

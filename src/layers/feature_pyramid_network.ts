import * as tf from '@tensorflow/tfjs-core';
import {serialization, Tensor} from '@tensorflow/tfjs-core';
import {Shape} from '@tensorflow/tfjs-layers';
import {DataFormat} from '../ops/roi_common.ts';
import {assertFiniteNumber, describe, fail} from '../ops/validate.ts';
import {convOutputSize, TorchConv} from './blocks/conv.ts';
import {upsampleNearest} from './blocks/nearest.ts';
import {checkNorm, NormName, NORMS, TorchBatchNorm} from './blocks/norm.ts';
import {checkDataFormat, checkPositiveInt, isTraining, Kwargs, LayerArgs, layerArgs, toChannelsFirst, toChannelsLast, TorchLayer} from './torch_layer.ts';

/** torchvision's ExtraFPNBlocks: LastLevelMaxPool() and LastLevelP6P7(in_channels, out_channels). */
export type ExtraFPNBlock =
    {type: 'lastLevelMaxPool'}|{type: 'lastLevelP6P7', inChannels: number, outChannels: number};

/** Arguments of the {@link FeaturePyramidNetwork} layer. */
export interface FeaturePyramidNetworkArgs extends LayerArgs {
  /** Channels of each input feature map, highest resolution first. */
  inChannelsList: number[];
  /** Channels of every output map (the extra blocks' own for 'p6', 'p7'). */
  outChannels: number;
  /** Default null. 'lastLevelMaxPool' is short for {type: 'lastLevelMaxPool'}. */
  extraBlocks?: ExtraFPNBlock|'lastLevelMaxPool'|null;
  /** Norm of every conv block. Default null (none: the convs have a bias). */
  normLayer?: NormName|null;
  /** eps of the norm layer. Default 1e-5. */
  normEps?: number;
  /** momentum of a 'batchNorm' layer, torch's convention. Default 0.1. */
  normMomentum?: number;
  /**
   * Names of the input maps (torchvision's OrderedDict keys), for forward()
   * and outputNames. Default '0', '1', ... Each must survive tfjs-layers'
   * config serialisation (lowercase or camelCase, no '_').
   */
  featureNames?: string[];
  /** Default 'channelsLast': maps [N, H, W, C]; 'channelsFirst': [N, C, H, W]. */
  dataFormat?: DataFormat;
}

/** tfjs-layers saves config strings snake_cased and loads them camelCased. */
function survivesConfigRoundTrip(s: string): boolean {
  const snake = s.replace(/(.)([A-Z][a-z0-9]+)/g, '$1_$2').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  const camel = snake.length <= 1 || !snake.includes('_') ? snake :
      snake.replace(/[_]+(\w|$)/g, (_, c: string) => c.toUpperCase());
  return camel === s && !s.startsWith('_');
}

interface ConvBlock { conv: TorchConv; norm: TorchBatchNorm|null; }

const same = (p: number): Array<[number, number]> => [[p, p], [p, p]];

/**
 * torch's relu on every backend: NaN stays NaN (tfjs-backend-wasm 4.22's Relu
 * gives 0) with a zero gradient there; elsewhere tf.relu (gradient 0 at 0).
 */
function reluKeepNaN(x: Tensor): Tensor {
  return tf.where(tf.isNaN(x), tf.fill(x.shape, NaN), tf.relu(x));
}

/**
 * Every stride-th row and column of [N, H, W, C] from the first (x[:, ::s,
 * ::s]; max_pool2d(kernel 1, stride s)), by pad, reshape and slice: tfjs has
 * no strided-slice gradient, and tfjs-backend-wasm 4.22's MaxPoolGrad is
 * wrong for kernel 1, stride 2.
 */
export function everyNth(x: Tensor, stride: number): Tensor {
  const [n, h, w, c] = x.shape as number[];
  const [ho, wo] = [Math.ceil(h / stride), Math.ceil(w / stride)];
  const padded = tf.pad(x, [[0, 0], [0, stride * ho - h], [0, stride * wo - w], [0, 0]]);
  const groups = tf.reshape(padded, [n * ho, stride, wo, stride * c]);
  return tf.reshape(tf.slice(groups, [0, 0, 0, 0], [n * ho, 1, wo, c]), [n, ho, wo, c]);
}

/**
 * Feature Pyramid Network: per level a 1x1 inner conv and a 3x3 layer conv
 * (kaiming_uniform(a=1), bias 0); top-down, each lateral adds the
 * nearest-upsampled coarser map (torch's nearest indices, exactly); then the
 * extra block ('pool': max_pool2d(k=1, s=2) of the last output; or 'p6', 'p7').
 * apply([...maps]) with map i [N, Hi, Wi, inChannelsList[i]] (channelsFirst:
 * [N, inChannelsList[i], Hi, Wi]) returns the outputs in order: one [N, Hi, Wi,
 * outChannels] per input, then the extras at half the size of the previous
 * (see outputNames); `forward(features)` maps names to names as torchvision.
 * Defaults: extraBlocks null, normLayer null, normEps 1e-5, normMomentum 0.1,
 * featureNames '0', '1', ..., dataFormat 'channelsLast'. Maps of an empty
 * spatial size (H or W 0) are an Error, as in torchvision (its convs need
 * H, W >= 1); a batch of 0 gives empty outputs. Weights keep
 * torchvision's state_dict keys (inner_blocks.i.0.weight,
 * layer_blocks.i.0.bias, extra_blocks.p6.weight, ...).
 * torchvision: `torchvision.ops.FeaturePyramidNetwork(in_channels_list,
 * out_channels, extra_blocks=None, norm_layer=None)`.
 *
 * ```js
 * const fpn = new FeaturePyramidNetwork({inChannelsList: [64, 128, 256], outChannels: 256,
 *   extraBlocks: 'lastLevelMaxPool'});
 * const [p2, p3, p4, pool] = fpn.apply([c2, c3, c4]);  // each [N, Hi, Wi, 256]
 * // pool: [N, ceil(H4 / 2), ceil(W4 / 2), 256]
 * fpn.outputNames  // ['0', '1', '2', 'pool']
 * new FeaturePyramidNetwork([64, 128, 256], 256)  // torchvision's FeaturePyramidNetwork([64, 128, 256], 256)
 * ```
 */
export class FeaturePyramidNetwork extends TorchLayer {
  static className = 'FeaturePyramidNetwork';
  readonly inChannelsList: number[];
  readonly outChannels: number;
  readonly extraBlocks: ExtraFPNBlock|null;
  readonly normLayer: NormName|null;
  readonly normEps: number;
  readonly normMomentum: number;
  readonly featureNames: string[];
  readonly dataFormat: DataFormat;
  private readonly innerBlocks: ConvBlock[];
  private readonly layerBlocks: ConvBlock[];
  private readonly p6p7: {p6: TorchConv, p7: TorchConv, useP5: boolean}|null = null;

  /** One arguments object (also what deserialization passes). */
  constructor(args: FeaturePyramidNetworkArgs);
  /** torchvision's positional arguments (inChannelsList, outChannels), then optionally an object of the other options. */
  constructor(inChannelsList: FeaturePyramidNetworkArgs['inChannelsList'], outChannels: FeaturePyramidNetworkArgs['outChannels'], options?: Omit<FeaturePyramidNetworkArgs, 'inChannelsList'|'outChannels'>);
  constructor(...values: unknown[]) {
    const args = layerArgs<FeaturePyramidNetworkArgs>(FeaturePyramidNetwork.className, values, ['inChannelsList', 'outChannels']);
    super(args);
    const name = FeaturePyramidNetwork.className;
    const list = args.inChannelsList;
    if (!Array.isArray(list) || list.length === 0) {
      fail(name, 'inChannelsList', `must be a non-empty array, got ${JSON.stringify(list)}`);
    }
    list.forEach((c, i) => {
      if (c === 0) fail(name, 'inChannelsList', `has in_channels=0 at ${i}, which torchvision does not support`);
      checkPositiveInt(name, `inChannelsList[${i}]`, c);
    });
    this.inChannelsList = [...list];
    this.outChannels = checkPositiveInt(name, 'outChannels', args.outChannels);
    this.normLayer = checkNorm(name, 'normLayer', args.normLayer ?? null, NORMS);
    this.normEps = args.normEps ?? 1e-5;
    assertFiniteNumber(name, 'normEps', this.normEps);
    this.normMomentum = args.normMomentum ?? 0.1;
    assertFiniteNumber(name, 'normMomentum', this.normMomentum);
    this.dataFormat = checkDataFormat(name, args.dataFormat);
    this.featureNames = args.featureNames ?? list.map((_, i) => String(i));
    if (!Array.isArray(this.featureNames) || this.featureNames.length !== list.length ||
        new Set(this.featureNames).size !== list.length) {
      fail(name, 'featureNames', `must be ${list.length} distinct names, got ${JSON.stringify(args.featureNames)}`);
    }
    for (const f of this.featureNames) {
      if (typeof f !== 'string' || !survivesConfigRoundTrip(f)) {
        fail(name, 'featureNames', `'${f}' would not survive model.save (use lowercase or camelCase, no '_')`);
      }
    }
    this.extraBlocks = this.checkExtraBlocks(args.extraBlocks ?? null);
    const block = (prefix: string, inChannels: number, k: number): ConvBlock => ({
      conv: new TorchConv({inChannels, outChannels: this.outChannels, kernelSize: [k, k], stride: [1, 1],
        padding: same((k - 1) / 2), dilation: [1, 1], groups: 1, bias: this.normLayer === null}, `${prefix}0.`),
      norm: this.normLayer === null ? null : new TorchBatchNorm(`${prefix}1.`, this.outChannels, this.normEps,
          this.normMomentum, this.normLayer === 'frozenBatchNorm'),
    });
    this.innerBlocks = list.map((c, i) => block(`inner_blocks.${i}.`, c, 1));
    this.layerBlocks = list.map((_, i) => block(`layer_blocks.${i}.`, this.outChannels, 3));
    const extra = this.extraBlocks;
    if (extra?.type === 'lastLevelP6P7') {
      const conv = (prefix: string, inChannels: number) => new TorchConv({inChannels, outChannels: extra.outChannels,
        kernelSize: [3, 3], stride: [2, 2], padding: same(1), dilation: [1, 1], groups: 1, bias: true}, prefix);
      this.p6p7 = {p6: conv('extra_blocks.p6.', extra.inChannels), p7: conv('extra_blocks.p7.', extra.outChannels),
        useP5: extra.inChannels === extra.outChannels};
    }
  }

  private checkExtraBlocks(value: unknown): ExtraFPNBlock|null {
    const name = FeaturePyramidNetwork.className;
    if (value === null) return null;
    const extra = (value === 'lastLevelMaxPool' ? {type: value} : value) as ExtraFPNBlock;
    if (extra?.type === 'lastLevelMaxPool') return {type: 'lastLevelMaxPool'};
    if (extra?.type !== 'lastLevelP6P7') {
      fail(name, 'extraBlocks', `must be null, {type: 'lastLevelMaxPool'} or {type: 'lastLevelP6P7', inChannels, ` +
          `outChannels}, got ${JSON.stringify(value)}`);
    }
    checkPositiveInt(name, 'extraBlocks.inChannels', extra.inChannels);
    checkPositiveInt(name, 'extraBlocks.outChannels', extra.outChannels);
    const c5 = this.inChannelsList[this.inChannelsList.length - 1];
    if (extra.inChannels !== extra.outChannels && extra.inChannels !== c5) {
      fail(name, 'extraBlocks', `LastLevelP6P7 inChannels (${extra.inChannels}) must equal its outChannels ` +
          `(p6 from P5) or the last of inChannelsList (${c5}, p6 from C5)`);
    }
    if (extra.inChannels === extra.outChannels && extra.inChannels !== this.outChannels) {
      fail(name, 'extraBlocks', `LastLevelP6P7 on P5 needs inChannels = the FPN's outChannels (${this.outChannels}), ` +
          `got ${extra.inChannels}`);
    }
    return {type: 'lastLevelP6P7', inChannels: extra.inChannels, outChannels: extra.outChannels};
  }

  /** Names of the outputs in order: featureNames, then 'pool' or 'p6', 'p7'. */
  get outputNames(): string[] {
    const extra = this.extraBlocks?.type === 'lastLevelMaxPool' ? ['pool'] :
        this.extraBlocks != null ? ['p6', 'p7'] : [];
    return [...this.featureNames, ...extra];
  }

  private shapes(inputShape: Shape|Shape[]): Shape[] {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as Shape[];
    const name = FeaturePyramidNetwork.className;
    if (shapes.length !== this.inChannelsList.length) {
      fail(name, 'inputs', `must be ${this.inChannelsList.length} feature maps (inChannelsList ` +
          `[${this.inChannelsList}]), got ${shapes.length}`);
    }
    shapes.forEach((s, i) => {
      const c = s[this.dataFormat === 'channelsFirst' ? 1 : 3];
      if (s.length !== 4 || (c != null && c !== this.inChannelsList[i])) {
        fail(name, 'inputs', `map ${i} must be 4D with ${this.inChannelsList[i]} channels (inChannelsList ` +
            `[${this.inChannelsList}], ${this.dataFormat}), got shape [${s}]`);
      }
      const spatial = this.dataFormat === 'channelsFirst' ? s.slice(2) : s.slice(1, 3);
      if (spatial.some(d => d === 0)) {
        fail(name, 'inputs', `map ${i} has an empty spatial size ${spatial.join('x')} (shape [${s}], ` +
            `${this.dataFormat}): the convs need H, W >= 1, as torchvision's do`);
      }
      if (s[0] != null && shapes[0][0] != null && s[0] !== shapes[0][0]) {
        fail(name, 'inputs', `map ${i} holds ${s[0]} image(s), but map 0 holds ${shapes[0][0]}: every map must ` +
            'have the same batch size');
      }
    });
    return shapes;
  }

  build(inputShape: Shape|Shape[]) {
    this.shapes(inputShape);
    for (const blocks of [this.innerBlocks, this.layerBlocks]) {
      for (const {conv, norm} of blocks) {
        conv.build(this, 'fpn');
        norm?.build(this);
      }
    }
    if (this.p6p7 != null) {
      this.p6p7.p6.build(this, 'fpn');
      this.p6p7.p7.build(this, 'fpn');
    }
    this.built = true;
  }

  computeOutputShape(inputShape: Shape|Shape[]): Shape[] {
    const first = this.dataFormat === 'channelsFirst';
    const shapes = this.shapes(inputShape);
    const n = shapes[0][0];
    const shape = (hw: Array<number|null>, c = this.outChannels) => first ? [n, c, ...hw] : [n, ...hw, c];
    const half = (hw: Array<number|null>) => hw.map(s => convOutputSize(s, 3, 2, [1, 1], 1));
    const spatial = shapes.map(s => first ? s.slice(2) : s.slice(1, 3));
    const out = spatial.map(hw => shape(hw));
    const last = spatial[spatial.length - 1];
    if (this.extraBlocks?.type === 'lastLevelMaxPool') out.push(shape(half(last)));
    if (this.extraBlocks?.type === 'lastLevelP6P7') {
      const c = this.extraBlocks.outChannels;
      out.push(shape(half(last), c), shape(half(half(last)), c));
    }
    return out;
  }

  private runBlock(block: ConvBlock, x: Tensor, training: boolean): Tensor {
    const y = block.conv.apply(x);
    return block.norm == null ? y : block.norm.apply(y, training, FeaturePyramidNetwork.className);
  }

  call(inputs: Tensor|Tensor[], kwargs: Kwargs): Tensor[] {
    return tf.tidy(() => {
      const list = Array.isArray(inputs) ? inputs : [inputs];
      list.forEach((x, i) => {
        if (!(x instanceof Tensor) || x.dtype !== 'float32') {
          fail(FeaturePyramidNetwork.className, 'inputs', `map ${i} must be a float32 tf.Tensor, got ` +
              `${x instanceof Tensor ? `dtype ${x.dtype}` : describe(x)}`);
        }
      });
      this.shapes(list.map(x => x.shape));
      if (list[0].shape[0] === 0) {
        // A batch of 0: the empty outputs, without running the blocks on empty
        // tensors (conv, pad, conv of an empty map corrupts tfjs-backend-wasm
        // 4.22's memory for every later call).
        return (this.computeOutputShape(list.map(x => x.shape)) as number[][]).map(shape => tf.zeros(shape));
      }
      const training = isTraining(kwargs);
      const xs = this.dataFormat === 'channelsFirst' ? list.map(toChannelsLast) : list;
      const top = xs.length - 1;
      let lastInner = this.runBlock(this.innerBlocks[top], xs[top], training);
      const results = [this.runBlock(this.layerBlocks[top], lastInner, training)];
      for (let i = top - 1; i >= 0; i--) {
        const lateral = this.runBlock(this.innerBlocks[i], xs[i], training);
        const topDown = upsampleNearest(lastInner, [lateral.shape[1]!, lateral.shape[2]!]);
        lastInner = tf.add(lateral, topDown);
        results.unshift(this.runBlock(this.layerBlocks[i], lastInner, training));
      }
      if (this.extraBlocks?.type === 'lastLevelMaxPool') {
        results.push(everyNth(results[top], 2));
      } else if (this.p6p7 != null) {
        const p6 = this.p6p7.p6.apply(this.p6p7.useP5 ? results[top] : xs[top]);
        results.push(p6, this.p6p7.p7.apply(reluKeepNaN(p6)));
      }
      return this.dataFormat === 'channelsFirst' ? results.map(toChannelsFirst) : results;
    });
  }

  /** torchvision's forward: maps by name (in featureNames order) -> outputs by name (outputNames). */
  forward(features: Record<string, Tensor>, training = false): Record<string, Tensor> {
    const missing = this.featureNames.filter(f => !(features[f] instanceof Tensor));
    if (missing.length > 0) fail(FeaturePyramidNetwork.className, 'features', `lacks map(s) ${missing.join(', ')}`);
    const out = this.apply(this.featureNames.map(f => features[f]), {training}) as Tensor[];
    return Object.fromEntries(this.outputNames.map((n, i) => [n, out[i]]));
  }

  /** The layer's arguments, for serialization (model.save / tf.loadLayersModel). */
  getConfig(): serialization.ConfigDict {
    return {
      ...super.getConfig(),
      inChannelsList: this.inChannelsList,
      outChannels: this.outChannels,
      extraBlocks: this.extraBlocks as unknown as serialization.ConfigDict|null,
      normLayer: this.normLayer,
      normEps: this.normEps,
      normMomentum: this.normMomentum,
      featureNames: this.featureNames,
      dataFormat: this.dataFormat,
    };
  }
}
serialization.registerClass(FeaturePyramidNetwork);

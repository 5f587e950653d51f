/**
 * torchvision's MobileNetV3-Large `features` as a detection body (eval mode),
 * as _mobilenet_extractor(backbone, fpn=True, ...) uses it: the features run
 * up to the last returned stage; the returned stages are the blocks
 * [0, strided blocks..., last] at returned_layers (default the last two:
 * features 13 (160 channels, stride 32) and 16 (960 channels, stride 32)).
 * Norms are BatchNorm2d / FrozenBatchNorm2d with eps 1e-5: the detection
 * builders pass norm_layer explicitly, which replaces MobileNetV3's own
 * BatchNorm2d(eps=0.001).
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor4D} from '@tensorflow/tfjs-core';
import {ActivationName} from '../layers/blocks/activation.ts';
import {BackboneBody, BackboneWithFPN} from './backbone_utils.ts';
import {ConvBank} from './conv_bank.ts';

/** torchvision's InvertedResidualConfig of mobilenet_v3_large (width_mult 1, not dilated, full tail). */
interface BlockConfig {
  inChannels: number; kernel: number; expanded: number; outChannels: number; se: boolean; hardswish: boolean;
  stride: number;
}

const LARGE: Array<[number, number, number, number, boolean, 'RE'|'HS', number]> = [
  [16, 3, 16, 16, false, 'RE', 1],
  [16, 3, 64, 24, false, 'RE', 2],
  [24, 3, 72, 24, false, 'RE', 1],
  [24, 5, 72, 40, true, 'RE', 2],
  [40, 5, 120, 40, true, 'RE', 1],
  [40, 5, 120, 40, true, 'RE', 1],
  [40, 3, 240, 80, false, 'HS', 2],
  [80, 3, 200, 80, false, 'HS', 1],
  [80, 3, 184, 80, false, 'HS', 1],
  [80, 3, 184, 80, false, 'HS', 1],
  [80, 3, 480, 112, true, 'HS', 1],
  [112, 3, 672, 112, true, 'HS', 1],
  [112, 5, 672, 160, true, 'HS', 2],
  [160, 5, 960, 160, true, 'HS', 1],
  [160, 5, 960, 160, true, 'HS', 1],
];

/** torchvision's _make_divisible(v, divisor). */
export function makeDivisible(v: number, divisor: number): number {
  let out = Math.max(divisor, Math.floor(Math.trunc(v + divisor / 2) / divisor) * divisor);
  if (out < 0.9 * v) out += divisor;
  return out;
}

type Step =
  {kind: 'conv', conv: string, activation: ActivationName|null}|
  {kind: 'se', fc1: string, fc2: string};

export interface MobileNetV3BodyArgs {
  /** Stages whose outputs are returned (indices into [0, strided blocks..., last]); default the last two, [4, 5]. */
  returnedLayers?: number[];
  /** eps of every norm; default 1e-5 (the detection builders' norm_layer). */
  normEps?: number;
}

export class MobileNetV3LargeBody extends BackboneBody {
  /** The feature indices of the stages: [0, strided blocks..., last]. */
  readonly stageIndices: number[];
  readonly returnedLayers: number[];
  readonly returnedChannels: number[];
  /** Feature indices whose outputs are returned. */
  readonly returnIndices: number[];
  protected readonly bank: ConvBank;
  /** The ops of each feature module, in order. */
  private readonly features: Array<{steps: Step[], residual: boolean}> = [];

  constructor(args: MobileNetV3BodyArgs = {}) {
    super();
    const eps = args.normEps ?? 1e-5;
    if (!(Number.isFinite(eps) && eps >= 0)) throw new Error(`MobileNetV3LargeBody: normEps must be >= 0, got ${eps}`);
    this.bank = new ConvBank('MobileNetV3LargeBody', eps);
    const bank = this.bank;
    const outChannels: number[] = [];
    const strided: number[] = [];
    const convBn = (name: string, inC: number, outC: number, k: number, stride: number, groups: number,
        activation: ActivationName|null): Step => {
      bank.add({conv: `${name}.0`, norm: `${name}.1`, inChannels: inC, outChannels: outC, kernelSize: k, stride, groups});
      return {kind: 'conv', conv: `${name}.0`, activation};
    };
    this.features.push({steps: [convBn('0', 3, 16, 3, 2, 1, 'hardswish')], residual: false});
    outChannels.push(16);
    const configs: BlockConfig[] = LARGE.map(([inChannels, kernel, expanded, out, se, act, stride]) => ({
      inChannels, kernel, expanded, outChannels: out, se, hardswish: act === 'HS', stride}));
    configs.forEach((c, i) => {
      const index = i + 1;
      const activation: ActivationName = c.hardswish ? 'hardswish' : 'relu';
      const steps: Step[] = [];
      let j = 0;
      if (c.expanded !== c.inChannels) {
        steps.push(convBn(`${index}.block.${j++}`, c.inChannels, c.expanded, 1, 1, 1, activation));
      }
      steps.push(convBn(`${index}.block.${j++}`, c.expanded, c.expanded, c.kernel, c.stride, c.expanded, activation));
      if (c.se) {
        const squeeze = makeDivisible(Math.floor(c.expanded / 4), 8);
        const p = `${index}.block.${j++}`;
        bank.add({conv: `${p}.fc1`, norm: null, inChannels: c.expanded, outChannels: squeeze, kernelSize: 1, stride: 1,
          groups: 1});
        bank.add({conv: `${p}.fc2`, norm: null, inChannels: squeeze, outChannels: c.expanded, kernelSize: 1, stride: 1,
          groups: 1});
        steps.push({kind: 'se', fc1: `${p}.fc1`, fc2: `${p}.fc2`});
      }
      steps.push(convBn(`${index}.block.${j++}`, c.expanded, c.outChannels, 1, 1, 1, null));
      this.features.push({steps, residual: c.stride === 1 && c.inChannels === c.outChannels});
      outChannels.push(c.outChannels);
      if (c.stride > 1) strided.push(index);
    });
    const lastIn = configs[configs.length - 1].outChannels;
    const lastIndex = configs.length + 1;
    this.features.push({steps: [convBn(`${lastIndex}`, lastIn, 6 * lastIn, 1, 1, 1, 'hardswish')], residual: false});
    outChannels.push(6 * lastIn);
    this.stageIndices = [0, ...strided, lastIndex];
    const n = this.stageIndices.length;
    this.returnedLayers = [...(args.returnedLayers ?? [n - 2, n - 1])];
    const r = this.returnedLayers;
    if (r.length === 0 || !r.every((k, i) => Number.isInteger(k) && k >= 0 && k < n && (i === 0 || k > r[i - 1]))) {
      throw new Error(`MobileNetV3LargeBody: returnedLayers must be increasing stages in [0, ${n - 1}], got ` +
          `${JSON.stringify(r)}`);
    }
    this.returnIndices = r.map(k => this.stageIndices[k]);
    this.returnedChannels = this.returnIndices.map(i => outChannels[i]);
    // IntermediateLayerGetter keeps the modules up to the last returned one
    const keep = this.returnIndices[this.returnIndices.length - 1] + 1;
    this.features.length = keep;
    this.bank.retain(name => Number(name.split('.')[0]) < keep);
  }

  forward(x: Tensor4D): Tensor4D[] {
    const bank = this.bank;
    const out: Tensor4D[] = [];
    let h = x;
    try {
      this.features.forEach((feature, index) => {
        const next = tf.tidy(() => {
          let y = h;
          for (const step of feature.steps) {
            if (step.kind === 'conv') {
              y = bank.apply(step.conv, y, step.activation);
            } else if (step.kind === 'se') {
              const pooled = tf.mean(y, [1, 2], true) as Tensor4D;
              const scale = bank.apply(step.fc2, bank.apply(step.fc1, pooled, 'relu'), 'hardsigmoid');
              y = tf.mul(y, scale) as Tensor4D;
            }
          }
          return (feature.residual ? tf.add(y, h) : y) as Tensor4D;
        });
        if (h !== x && !out.includes(h)) h.dispose();
        h = next;
        if (this.returnIndices.includes(index)) out.push(h);
      });
      return out;
    } catch (e) {
      tf.dispose(out);
      if (h !== x && !out.includes(h)) h.dispose();
      throw e;
    }
  }
}

/**
 * MobileNetV3-Large + FPN as torchvision's fasterrcnn_mobilenet_v3_large_fpn
 * builds it (_mobilenet_extractor(backbone, fpn=True, ...): the last two
 * stages, out_channels 256, LastLevelMaxPool): maps '0' (160 -> 256), '1'
 * (960 -> 256), both at stride 32, and 'pool' at 64.
 */
export function mobilenetV3LargeFpn(args: MobileNetV3BodyArgs = {}): BackboneWithFPN {
  return new BackboneWithFPN(new MobileNetV3LargeBody(args), 256);
}

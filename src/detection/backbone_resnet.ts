/**
 * torchvision's ResNet-50 body for detection (eval mode): conv1, bn1, relu,
 * maxpool, layer1..layer4 of Bottleneck blocks (stride on the 3x3 conv, as
 * torchvision's "ResNet v1.5"), returning the outputs of the layers asked for
 * (torchvision's IntermediateLayerGetter with return_layers {layerK: str(i)}).
 * Norms are BatchNorm2d / FrozenBatchNorm2d, which are the same at inference.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor4D} from '@tensorflow/tfjs-core';
import {BackboneBody, BackboneWithFPN} from './backbone_utils.ts';
import {ConvBank} from './conv_bank.ts';

/** Bottleneck blocks of each layer of ResNet-50. */
export const RESNET50_LAYERS = [3, 4, 6, 3];

export interface ResNetBodyArgs {
  /** Blocks per layer; default ResNet-50's [3, 4, 6, 3]. */
  layers?: number[];
  /** Layers whose outputs are returned, 1..4 in increasing order; default [1, 2, 3, 4]. */
  returnedLayers?: number[];
  /**
   * eps of every norm; default 1e-5 (torch's BatchNorm2d and torchvision's
   * FrozenBatchNorm2d). torchvision's fasterrcnn_resnet50_fpn(weights=COCO_V1)
   * sets 0 (overwrite_eps).
   */
  normEps?: number;
}

/** torchvision's ResNet (Bottleneck, expansion 4) up to the last returned layer. */
export class ResNetBody extends BackboneBody {
  readonly layers: number[];
  readonly returnedLayers: number[];
  readonly returnedChannels: number[];
  protected readonly bank: ConvBank;
  private readonly downsampled = new Set<number>();

  constructor(args: ResNetBodyArgs = {}) {
    super();
    this.layers = [...(args.layers ?? RESNET50_LAYERS)];
    this.returnedLayers = [...(args.returnedLayers ?? [1, 2, 3, 4])];
    if (this.layers.length !== 4 || !this.layers.every(n => Number.isInteger(n) && n > 0)) {
      throw new Error(`ResNetBody: layers must be 4 positive integers, got ${JSON.stringify(args.layers)}`);
    }
    const r = this.returnedLayers;
    if (r.length === 0 || !r.every((k, i) => Number.isInteger(k) && k >= 1 && k <= 4 && (i === 0 || k > r[i - 1]))) {
      throw new Error(`ResNetBody: returnedLayers must be increasing layers in [1, 4], got ${JSON.stringify(r)}`);
    }
    const eps = args.normEps ?? 1e-5;
    if (!(Number.isFinite(eps) && eps >= 0)) throw new Error(`ResNetBody: normEps must be >= 0, got ${eps}`);
    this.bank = new ConvBank('ResNetBody', eps);
    this.returnedChannels = r.map(k => 64 * 2 ** (k - 1) * 4);
    const bank = this.bank;
    bank.add({conv: 'conv1', norm: 'bn1', inChannels: 3, outChannels: 64, kernelSize: 7, stride: 2, groups: 1});
    let inplanes = 64;
    const last = r[r.length - 1];
    for (let l = 1; l <= last; l++) {
      const planes = 64 * 2 ** (l - 1);
      const stride = l === 1 ? 1 : 2;
      for (let b = 0; b < this.layers[l - 1]; b++) {
        const p = `layer${l}.${b}`;
        const s = b === 0 ? stride : 1;
        bank.add({conv: `${p}.conv1`, norm: `${p}.bn1`, inChannels: inplanes, outChannels: planes, kernelSize: 1,
          stride: 1, groups: 1});
        bank.add({conv: `${p}.conv2`, norm: `${p}.bn2`, inChannels: planes, outChannels: planes, kernelSize: 3,
          stride: s, groups: 1});
        bank.add({conv: `${p}.conv3`, norm: `${p}.bn3`, inChannels: planes, outChannels: planes * 4, kernelSize: 1,
          stride: 1, groups: 1});
        if (b === 0 && (s !== 1 || inplanes !== planes * 4)) {
          bank.add({conv: `${p}.downsample.0`, norm: `${p}.downsample.1`, inChannels: inplanes,
            outChannels: planes * 4, kernelSize: 1, stride: s, groups: 1});
          this.downsampled.add(l);
        }
        inplanes = planes * 4;
      }
    }
  }

  forward(x: Tensor4D): Tensor4D[] {
    const bank = this.bank;
    const out: Tensor4D[] = [];
    try {
      let h = tf.tidy(() => {
        const stem = bank.apply('conv1', x, 'relu');
        // max_pool2d(3, 2, padding 1) of ReLU outputs (>= 0): zero padding never wins, as torch's -inf
        return tf.maxPool(tf.pad(stem, [[0, 0], [1, 1], [1, 1], [0, 0]]), 3, 2, 'valid') as Tensor4D;
      });
      const last = this.returnedLayers[this.returnedLayers.length - 1];
      for (let l = 1; l <= last; l++) {
        for (let b = 0; b < this.layers[l - 1]; b++) {
          const p = `layer${l}.${b}`;
          const next = tf.tidy(() => {
            const y1 = bank.apply(`${p}.conv1`, h, 'relu');
            const y2 = bank.apply(`${p}.conv2`, y1, 'relu');
            const y3 = bank.apply(`${p}.conv3`, y2);
            const identity = b === 0 && this.downsampled.has(l) ? bank.apply(`${p}.downsample.0`, h) : h;
            return tf.relu(tf.add(y3, identity)) as Tensor4D;
          });
          if (!out.includes(h)) h.dispose();
          h = next;
        }
        if (this.returnedLayers.includes(l)) out.push(h);
      }
      if (!out.includes(h)) h.dispose();
      return out;
    } catch (e) {
      tf.dispose(out);
      throw e;
    }
  }
}

/**
 * ResNet-50 + FPN as torchvision's resnet_fpn_backbone / _resnet_fpn_extractor
 * (returned layers [1, 2, 3, 4], out_channels 256, LastLevelMaxPool): maps
 * '0'..'3' at strides 4..32 and 'pool' at 64.
 */
export function resnet50Fpn(args: ResNetBodyArgs = {}): BackboneWithFPN {
  return new BackboneWithFPN(new ResNetBody(args), 256);
}

/**
 * torchvision.models.detection.backbone_utils.BackboneWithFPN, eval mode: a
 * body returning some of its intermediate maps (IntermediateLayerGetter),
 * then a FeaturePyramidNetwork (this package's layer) with LastLevelMaxPool.
 * Maps are channelsLast [N, H, W, C]; outputs are named as torchvision's
 * ('0', '1', ..., 'pool').
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor, Tensor4D} from '@tensorflow/tfjs-core';
import {loadTorchvisionWeights} from '../io/torchvision_weights.ts';
import {FeaturePyramidNetwork} from '../layers/feature_pyramid_network.ts';
import type {ConvBank} from './conv_bank.ts';
import {StateDict, withDot} from './state_dict.ts';
import {toTorchLayout} from './trainable.ts';

/** A backbone body: the returned maps (channelsLast), their channels, and torchvision's state_dict keys. */
export abstract class BackboneBody {
  /** Channels of each returned map, highest resolution first. */
  abstract readonly returnedChannels: number[];
  /** Its convolutions and norms under torchvision's keys. */
  protected abstract readonly bank: ConvBank;

  /** The returned maps of images [N, H, W, 3]. */
  abstract forward(x: Tensor4D): Tensor4D[];

  /** Every state_dict key under prefix with torch's shape. */
  expectedShapes(prefix: string): Record<string, number[]> {
    return this.bank.expectedShapes(prefix);
  }

  /** Takes the weights under prefix; returns the keys used. */
  loadStateDict(stateDict: StateDict, prefix: string): string[] {
    return this.bank.loadStateDict(stateDict, prefix);
  }

  /** The trainable variables under prefix by state_dict key (see ConvBank.namedVariables). */
  namedVariables(prefix: string): Record<string, tf.Variable> {
    return this.bank.namedVariables(prefix);
  }

  /** The weights as a torchvision state_dict under prefix (tensors the caller owns; norms folded). */
  stateDict(prefix: string): Record<string, Tensor> {
    return this.bank.stateDict(prefix);
  }

  /** Disposes the weight tensors. */
  dispose() {
    this.bank.dispose();
  }
}

/** A body and a FeaturePyramidNetwork with LastLevelMaxPool: the maps the RPN and RoI heads read. */
export class BackboneWithFPN {
  readonly body: BackboneBody;
  readonly fpn: FeaturePyramidNetwork;
  readonly outChannels: number;

  /** torchvision: `BackboneWithFPN(backbone, return_layers, in_channels_list, out_channels)` with LastLevelMaxPool. */
  constructor(body: BackboneBody, outChannels = 256) {
    this.body = body;
    this.outChannels = outChannels;
    this.fpn = new FeaturePyramidNetwork({inChannelsList: body.returnedChannels, outChannels,
      extraBlocks: 'lastLevelMaxPool'});
    // Built here (weights until loadStateDict: the layer's own init); never applied symbolically.
    this.fpn.build(body.returnedChannels.map(c => [null, null, null, c]));
    this.fpn.built = true;
  }

  /** Names of the output maps: '0', '1', ..., 'pool'. */
  get featureNames(): string[] {
    return this.fpn.outputNames;
  }

  /** Every state_dict key under prefix (body and fpn) with torch's shape. */
  expectedShapes(prefix = 'backbone.'): Record<string, number[]> {
    const p = withDot(prefix);
    const out = this.body.expectedShapes(`${p}body.`);
    const c = this.outChannels;
    this.body.returnedChannels.forEach((inC, i) => {
      out[`${p}fpn.inner_blocks.${i}.0.weight`] = [c, inC, 1, 1];
      out[`${p}fpn.inner_blocks.${i}.0.bias`] = [c];
      out[`${p}fpn.layer_blocks.${i}.0.weight`] = [c, c, 3, 3];
      out[`${p}fpn.layer_blocks.${i}.0.bias`] = [c];
    });
    return out;
  }

  /** Takes body.* and fpn.* under prefix (default 'backbone.'); returns the keys used. */
  loadStateDict(stateDict: StateDict, prefix = 'backbone.'): string[] {
    const p = withDot(prefix);
    const body = this.body.loadStateDict(stateDict, `${p}body.`);
    const {loaded} = loadTorchvisionWeights(this.fpn, stateDict, {prefixes: {[this.fpn.name]: `${p}fpn.`}});
    return [...body, ...loaded];
  }

  /** The trainable variables of the body and the FPN under prefix (default 'backbone.') by state_dict key. */
  namedVariables(prefix = 'backbone.'): Record<string, tf.Variable> {
    const p = withDot(prefix);
    const out = this.body.namedVariables(`${p}body.`);
    for (const {key, variable} of this.fpn.torchWeights) out[`${p}fpn.${key}`] = variable.read() as tf.Variable;
    return out;
  }

  /** The weights (body and fpn) as a torchvision state_dict under prefix (default 'backbone.'; tensors the caller owns). */
  stateDict(prefix = 'backbone.'): Record<string, Tensor> {
    const p = withDot(prefix);
    const out = this.body.stateDict(`${p}body.`);
    for (const {key, layout, variable} of this.fpn.torchWeights) {
      out[`${p}fpn.${key}`] = toTorchLayout(variable.read(), layout);
    }
    return out;
  }

  /** The FPN maps by name of images [N, H, W, 3]. torchvision: `forward(x)`. */
  forward(x: Tensor4D): Record<string, Tensor4D> {
    const maps = this.body.forward(x);
    try {
      const out = this.fpn.apply(maps) as Tensor[];
      return Object.fromEntries(this.featureNames.map((n, i) => [n, out[i] as Tensor4D]));
    } finally {
      tf.dispose(maps);
    }
  }

  /** Disposes the weight tensors of the body and the FPN. */
  dispose() {
    this.body.dispose();
    // built by hand (never applied symbolically), so Layer.dispose()'s ref count is unset: free the variables
    for (const w of this.fpn.weights) w.dispose();
  }
}

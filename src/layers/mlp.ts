import * as tf from '@tensorflow/tfjs-core';
import {serialization, Tensor} from '@tensorflow/tfjs-core';
import {Shape} from '@tensorflow/tfjs-layers';
import {assertFiniteNumber, fail} from '../ops/validate.ts';
import {activate, ActivationName, checkActivation} from './blocks/activation.ts';
import {TorchLinear} from './blocks/linear.ts';
import {checkNorm, TorchBatchNorm, TorchLayerNorm} from './blocks/norm.ts';
import {checkPositiveInt, checkProbability, isTraining, Kwargs, LayerArgs, layerArgs, TorchLayer} from './torch_layer.ts';

/** Norm layers of {@link MLP}: torch's BatchNorm1d or LayerNorm, over the last axis. */
export type MlpNorm = 'batchNorm'|'layerNorm';
const MLP_NORMS: readonly MlpNorm[] = ['batchNorm', 'layerNorm'];

/** Arguments of the {@link MLP} layer. */
export interface MLPArgs extends LayerArgs {
  /** Size of the input's last axis. */
  inChannels: number;
  /** Output size of each Linear; the last one is the output's last axis. */
  hiddenChannels: number[];
  /** Default null. 'batchNorm' is torch's BatchNorm1d (over every axis but the last). */
  normLayer?: MlpNorm|null;
  /** Default 'relu'; null for none. */
  activation?: ActivationName|null;
  /** Default true. */
  bias?: boolean;
  /** Default 0. */
  dropout?: number;
  /** eps of the norm layer. Default 1e-5. */
  normEps?: number;
  /** momentum of a 'batchNorm' layer, torch's convention. Default 0.1. */
  normMomentum?: number;
  /** Seed of the dropout masks (advanced on every training call). Default null: unseeded. */
  seed?: number|null;
}

/**
 * Multi-layer perceptron on the last axis, [..., inChannels] -> [...,
 * hiddenChannels[last]] (rank >= 2): for each hidden size but the last,
 * Linear, [norm], activation, Dropout; then Linear and Dropout (dropout only
 * when kwargs.training, as fit passes it). Defaults: normLayer null,
 * activation 'relu', bias true, dropout 0, normEps 1e-5, normMomentum 0.1,
 * seed null. Weights keep torchvision's Sequential indices ('0.weight', ...).
 * torchvision: `torchvision.ops.MLP(in_channels, hidden_channels,
 * norm_layer=None, activation_layer=ReLU, bias=True, dropout=0.0)`.
 *
 * ```js
 * new MLP({inChannels: 256, hiddenChannels: [1024, 1024]}).apply(x)  // [N, 256] -> [N, 1024]
 * new MLP(256, [1024, 1024])  // the same layer, torchvision's MLP(256, [1024, 1024])
 * ```
 */
export class MLP extends TorchLayer {
  static className = 'MLP';
  readonly inChannels: number;
  readonly hiddenChannels: number[];
  readonly normLayer: MlpNorm|null;
  readonly activation: ActivationName|null;
  readonly bias: boolean;
  readonly dropout: number;
  readonly normEps: number;
  readonly normMomentum: number;
  readonly seed: number|null;
  private readonly blocks: Array<{linear: TorchLinear, norm: TorchBatchNorm|TorchLayerNorm|null}> = [];
  private calls = 0;

  /** One arguments object (also what deserialization passes). */
  constructor(args: MLPArgs);
  /** torchvision's positional arguments (inChannels, hiddenChannels), then optionally an object of the other options. */
  constructor(inChannels: MLPArgs['inChannels'], hiddenChannels: MLPArgs['hiddenChannels'], options?: Omit<MLPArgs, 'inChannels'|'hiddenChannels'>);
  constructor(...values: unknown[]) {
    const args = layerArgs<MLPArgs>(MLP.className, values, ['inChannels', 'hiddenChannels']);
    super(args);
    const name = MLP.className;
    this.inChannels = checkPositiveInt(name, 'inChannels', args.inChannels);
    if (!Array.isArray(args.hiddenChannels) || args.hiddenChannels.length === 0) {
      fail(name, 'hiddenChannels', `must be a non-empty array of positive integers, got ${JSON.stringify(args.hiddenChannels)}`);
    }
    this.hiddenChannels = args.hiddenChannels.map((c, i) => checkPositiveInt(name, `hiddenChannels[${i}]`, c));
    this.normLayer = checkNorm(name, 'normLayer', args.normLayer ?? null, MLP_NORMS);
    this.activation = checkActivation(name, 'activation', args.activation === undefined ? 'relu' : args.activation);
    this.bias = args.bias ?? true;
    this.dropout = checkProbability(name, 'dropout', args.dropout ?? 0);
    this.normEps = args.normEps ?? 1e-5;
    assertFiniteNumber(name, 'normEps', this.normEps);
    this.normMomentum = args.normMomentum ?? 0.1;
    assertFiniteNumber(name, 'normMomentum', this.normMomentum);
    this.seed = args.seed ?? null;
    let index = 0;
    let inDim = this.inChannels;
    this.hiddenChannels.forEach((outDim, i) => {
      const linear = new TorchLinear(`${index}.`, inDim, outDim, this.bias);
      const hidden = i < this.hiddenChannels.length - 1;
      let norm: TorchBatchNorm|TorchLayerNorm|null = null;
      if (hidden && this.normLayer != null) {
        norm = this.normLayer === 'layerNorm' ? new TorchLayerNorm(`${index + 1}.`, outDim, this.normEps) :
            new TorchBatchNorm(`${index + 1}.`, outDim, this.normEps, this.normMomentum, false);
      }
      this.blocks.push({linear, norm});
      index += hidden ? (norm != null ? 4 : 3) : 2;
      inDim = outDim;
    });
  }

  build(inputShape: Shape|Shape[]) {
    const shape = inputShape as Shape;
    const c = shape[shape.length - 1];
    if (shape.length < 2 || (c != null && c !== this.inChannels)) {
      fail(MLP.className, 'inputs', `must have last dimension ${this.inChannels}, got shape [${shape}]`);
    }
    for (const {linear, norm} of this.blocks) {
      linear.build(this);
      norm?.build(this);
    }
    this.built = true;
  }

  computeOutputShape(inputShape: Shape|Shape[]): Shape {
    const shape = inputShape as Shape;
    return [...shape.slice(0, -1), this.hiddenChannels[this.hiddenChannels.length - 1]];
  }

  private drop(x: Tensor, training: boolean, seed: number|undefined): Tensor {
    if (!training || this.dropout === 0) return x;
    return this.dropout === 1 ? tf.zerosLike(x) : tf.dropout(x, this.dropout, undefined, seed);
  }

  call(inputs: Tensor|Tensor[], kwargs: Kwargs): Tensor {
    return tf.tidy(() => {
      const training = isTraining(kwargs);
      const seed = this.seed == null || !training ? undefined : this.seed + 2 ** 20 * this.calls++;
      let x = Array.isArray(inputs) ? inputs[0] : inputs;
      this.blocks.forEach(({linear, norm}, i) => {
        x = linear.apply(x);
        if (i < this.blocks.length - 1) {
          if (norm instanceof TorchBatchNorm) x = norm.apply(x, training, MLP.className);
          else if (norm != null) x = norm.apply(x);
          x = activate(this.activation, x);
        }
        x = this.drop(x, training, seed == null ? undefined : seed + i);
      });
      return x;
    });
  }

  /** The layer's arguments, for serialization (model.save / tf.loadLayersModel). */
  getConfig(): serialization.ConfigDict {
    return {
      ...super.getConfig(),
      inChannels: this.inChannels,
      hiddenChannels: this.hiddenChannels,
      normLayer: this.normLayer,
      activation: this.activation,
      bias: this.bias,
      dropout: this.dropout,
      normEps: this.normEps,
      normMomentum: this.normMomentum,
      seed: this.seed,
    };
  }
}
serialization.registerClass(MLP);

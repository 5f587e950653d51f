import * as tf from '@tensorflow/tfjs-core';
import {serialization, Tensor} from '@tensorflow/tfjs-core';
import {layers, Shape} from '@tensorflow/tfjs-layers';
import {assertFiniteNumber} from '../ops/validate.ts';
import {checkStochasticDepthArgs, stochasticDepth, StochasticDepthMode} from '../ops/stochastic_depth.ts';
import {isTraining, Kwargs, LayerArgs, layerArgs} from './torch_layer.ts';

/** Arguments of the {@link StochasticDepth} layer. */
export interface StochasticDepthLayerArgs extends LayerArgs {
  /** Probability of zeroing, in [0, 1]. */
  p: number;
  /** 'row': per batch row; 'batch': the whole input. */
  mode: StochasticDepthMode;
  /** Seed of the first training call's draw (each later call adds 1). Default null: unseeded. */
  seed?: number|null;
}

/**
 * {@link stochasticDepth} when kwargs.training (fit), identity otherwise
 * (predict, plain calls); any input shape [N, ...] -> same shape. Default seed
 * null (unseeded). torchvision: `torchvision.ops.StochasticDepth(p, mode)`.
 *
 * ```js
 * const drop = new StochasticDepth({p: 0.1, mode: 'row'});
 * const y = tf.layers.add().apply([shortcut, drop.apply(residual)]);
 * new StochasticDepth(0.1, 'row')  // the same layer, torchvision's StochasticDepth(0.1, 'row')
 * ```
 */
export class StochasticDepth extends layers.Layer {
  static className = 'StochasticDepth';
  readonly p: number;
  readonly mode: StochasticDepthMode;
  readonly seed: number|null;
  private calls = 0;

  /** One arguments object (also what deserialization passes). */
  constructor(args: StochasticDepthLayerArgs);
  /** torchvision's positional arguments (p, mode), then optionally an object of the other options. */
  constructor(p: StochasticDepthLayerArgs['p'], mode: StochasticDepthLayerArgs['mode'], options?: Omit<StochasticDepthLayerArgs, 'p'|'mode'>);
  constructor(...values: unknown[]) {
    const args = layerArgs<StochasticDepthLayerArgs>(StochasticDepth.className, values, ['p', 'mode']);
    super(args);
    checkStochasticDepthArgs(StochasticDepth.className, args.p, args.mode);
    this.p = args.p;
    this.mode = args.mode;
    this.seed = args.seed ?? null;
    if (this.seed != null) assertFiniteNumber(StochasticDepth.className, 'seed', this.seed);
  }

  computeOutputShape(inputShape: Shape|Shape[]): Shape|Shape[] {
    return inputShape;
  }

  call(inputs: Tensor|Tensor[], kwargs: Kwargs): Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const training = isTraining(kwargs);
      const seed = this.seed == null || !training ? undefined : this.seed + this.calls++;
      return stochasticDepth(x, this.p, this.mode, {training, seed});
    });
  }

  /** The layer's arguments, for serialization (model.save / tf.loadLayersModel). */
  getConfig(): serialization.ConfigDict {
    return {...super.getConfig(), p: this.p, mode: this.mode, seed: this.seed};
  }
}
serialization.registerClass(StochasticDepth);

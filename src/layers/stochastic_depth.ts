import {serialization, Tensor} from '@tensorflow/tfjs-core';
import {checkStochasticDepthArgs, stochasticDepth, StochasticDepthMode} from '../ops/stochastic_depth.ts';
import {DropLayer} from './drop_layer.ts';
import {LayerArgs, layerArgs} from './torch_layer.ts';

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
export class StochasticDepth extends DropLayer {
  static className = 'StochasticDepth';
  readonly p: number;
  readonly mode: StochasticDepthMode;

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
  }

  protected drop(x: Tensor, training: boolean, seed: number|undefined): Tensor {
    return stochasticDepth(x, this.p, this.mode, {training, seed});
  }

  /** The layer's arguments, for serialization (model.save / tf.loadLayersModel). */
  getConfig(): serialization.ConfigDict {
    return {...super.getConfig(), p: this.p, mode: this.mode};
  }
}
serialization.registerClass(StochasticDepth);

/** Shared body of the layers that drop parts of their input in training calls: DropBlock2d/3d, StochasticDepth. */
import * as tf from '@tensorflow/tfjs-core';
import {serialization, Tensor} from '@tensorflow/tfjs-core';
import {layers, Shape} from '@tensorflow/tfjs-layers';
import {assertFiniteNumber} from '../ops/validate.ts';
import {isTraining, Kwargs, LayerArgs} from './torch_layer.ts';

export abstract class DropLayer extends layers.Layer {
  /** Seed of the first training call's draw (each later call adds 1); null: unseeded. */
  readonly seed: number|null;
  private calls = 0;

  constructor(args: LayerArgs & {seed?: number|null}) {
    super(args);
    this.seed = args.seed ?? null;
    if (this.seed != null) assertFiniteNumber(this.getClassName(), 'seed', this.seed);
  }

  /** The layer's op on x: the identity unless training; seed undefined draws unseeded. */
  protected abstract drop(x: Tensor, training: boolean, seed: number|undefined): Tensor;

  computeOutputShape(inputShape: Shape|Shape[]): Shape|Shape[] {
    return inputShape;
  }

  call(inputs: Tensor|Tensor[], kwargs: Kwargs): Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const training = isTraining(kwargs);
      const seed = this.seed == null || !training ? undefined : this.seed + this.calls++;
      return this.drop(x, training, seed);
    });
  }

  /** The layer's arguments, for serialization (model.save / tf.loadLayersModel). */
  getConfig(): serialization.ConfigDict {
    return {...super.getConfig(), seed: this.seed};
  }
}

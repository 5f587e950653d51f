import * as tf from '@tensorflow/tfjs-core';
import {serialization, Tensor} from '@tensorflow/tfjs-core';
import {layers, Shape} from '@tensorflow/tfjs-layers';
import {fail} from '../ops/validate.ts';
import {LayerArgs, layerArgs} from './torch_layer.ts';
import {permute} from '../ops/roi_common.ts';

/** Arguments of the {@link Permute} layer. */
export interface PermuteArgs extends LayerArgs {
  /** The new order of ALL axes, batch included (torch.permute). */
  dims: number[];
}

/**
 * torch.permute(x, dims) over every axis, batch included (unlike
 * tf.layers.permute, whose dims are 1-based and leave the batch axis alone):
 * output axis i is input axis dims[i]; x must have rank dims.length.
 * Registered as 'TorchvisionPermute', since tfjs-layers already registers
 * 'Permute'. torchvision: `torchvision.ops.Permute(dims)`.
 *
 * ```js
 * new Permute({dims: [0, 3, 1, 2]}).apply(x)  // [N, H, W, C] -> [N, C, H, W]
 * new Permute([0, 3, 1, 2])  // the same layer, torchvision's Permute([0, 3, 1, 2])
 * ```
 */
export class Permute extends layers.Layer {
  static className = 'TorchvisionPermute';
  readonly dims: number[];

  /** One arguments object (also what deserialization passes). */
  constructor(args: PermuteArgs);
  /** torchvision's positional arguments (dims), then optionally an object of the other options. */
  constructor(dims: PermuteArgs['dims'], options?: Omit<PermuteArgs, 'dims'>);
  constructor(...values: unknown[]) {
    const args = layerArgs<PermuteArgs>('Permute', values, ['dims']);
    super(args);
    const dims = args.dims;
    const sorted = Array.isArray(dims) ? [...dims].sort((a, b) => a - b) : null;
    if (sorted == null || sorted.length === 0 || sorted.some((d, i) => d !== i)) {
      fail('Permute', 'dims', `must be a permutation of 0..rank-1, got ${JSON.stringify(dims)}`);
    }
    this.dims = [...dims];
  }

  private check(rank: number) {
    if (rank !== this.dims.length) {
      fail('Permute', 'inputs', `must have rank ${this.dims.length} (dims [${this.dims}]), got rank ${rank}`);
    }
  }

  computeOutputShape(inputShape: Shape|Shape[]): Shape {
    const shape = inputShape as Shape;
    this.check(shape.length);
    return this.dims.map(d => shape[d]);
  }

  call(inputs: Tensor|Tensor[]): Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      this.check(x.rank);
      return permute(x, this.dims);
    });
  }

  /** The layer's arguments, for serialization (model.save / tf.loadLayersModel). */
  getConfig(): serialization.ConfigDict {
    return {...super.getConfig(), dims: this.dims};
  }
}
serialization.registerClass(Permute);

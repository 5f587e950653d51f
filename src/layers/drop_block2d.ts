import {serialization} from '@tensorflow/tfjs-core';
import {DropBlockLayer, DropBlockLayerArgs} from './drop_block.ts';
import {layerArgs} from './torch_layer.ts';

/**
 * {@link dropBlock2d} when kwargs.training (fit), identity otherwise (predict,
 * plain calls): [N, H, W, C] (channelsFirst: [N, C, H, W]) -> same shape.
 * blockSize must be odd. Defaults: eps 1e-6, dataFormat 'channelsLast', seed
 * null (unseeded).
 * torchvision: `torchvision.ops.DropBlock2d(p, block_size, inplace=False, eps=1e-6)`.
 *
 * ```js
 * new DropBlock2d({p: 0.1, blockSize: 7}).apply(x)  // [N, H, W, C] -> [N, H, W, C]
 * new DropBlock2d(0.1, 7)  // the same layer, torchvision's DropBlock2d(0.1, 7)
 * ```
 */
export class DropBlock2d extends DropBlockLayer {
  static className = 'DropBlock2d';

  /** One arguments object (also what deserialization passes). */
  constructor(args: DropBlockLayerArgs);
  /** torchvision's positional arguments (p, blockSize), then optionally an object of the other options. */
  constructor(p: DropBlockLayerArgs['p'], blockSize: DropBlockLayerArgs['blockSize'], options?: Omit<DropBlockLayerArgs, 'p'|'blockSize'>);
  constructor(...values: unknown[]) {
    const args = layerArgs<DropBlockLayerArgs>(DropBlock2d.className, values, ['p', 'blockSize']);
    super(args, 2);
  }
}
serialization.registerClass(DropBlock2d);

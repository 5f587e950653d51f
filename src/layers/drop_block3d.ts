import {serialization} from '@tensorflow/tfjs-core';
import {DropBlockLayer, DropBlockLayerArgs} from './drop_block.ts';
import {layerArgs} from './torch_layer.ts';

/**
 * {@link dropBlock3d} when kwargs.training (fit), identity otherwise (predict,
 * plain calls): [N, D, H, W, C] (channelsFirst: [N, C, D, H, W]) -> same
 * shape. blockSize must be odd. Defaults: eps 1e-6, dataFormat
 * 'channelsLast', seed null (unseeded).
 * torchvision: `torchvision.ops.DropBlock3d(p, block_size, inplace=False, eps=1e-6)`.
 *
 * ```js
 * new DropBlock3d({p: 0.1, blockSize: 3}).apply(x)  // [N, D, H, W, C] -> [N, D, H, W, C]
 * new DropBlock3d(0.1, 3)  // the same layer, torchvision's DropBlock3d(0.1, 3)
 * ```
 */
export class DropBlock3d extends DropBlockLayer {
  static className = 'DropBlock3d';

  /** One arguments object (also what deserialization passes). */
  constructor(args: DropBlockLayerArgs);
  /** torchvision's positional arguments (p, blockSize), then optionally an object of the other options. */
  constructor(p: DropBlockLayerArgs['p'], blockSize: DropBlockLayerArgs['blockSize'], options?: Omit<DropBlockLayerArgs, 'p'|'blockSize'>);
  constructor(...values: unknown[]) {
    const args = layerArgs<DropBlockLayerArgs>(DropBlock3d.className, values, ['p', 'blockSize']);
    super(args, 3);
  }
}
serialization.registerClass(DropBlock3d);

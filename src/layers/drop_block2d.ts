import {serialization} from '@tensorflow/tfjs-core';
import {DropBlockLayer, DropBlockLayerArgs} from './drop_block.ts';

/**
 * {@link dropBlock2d} when kwargs.training (fit), identity otherwise (predict,
 * plain calls): [N, H, W, C] (channelsFirst: [N, C, H, W]) -> same shape.
 * blockSize must be odd. Defaults: eps 1e-6, dataFormat 'channelsLast', seed
 * null (unseeded).
 * torchvision: `torchvision.ops.DropBlock2d(p, block_size, inplace=False, eps=1e-6)`.
 *
 * ```js
 * new DropBlock2d({p: 0.1, blockSize: 7}).apply(x)  // [N, H, W, C] -> [N, H, W, C]
 * ```
 */
export class DropBlock2d extends DropBlockLayer {
  static className = 'DropBlock2d';

  constructor(args: DropBlockLayerArgs) {
    super(args, 2);
  }
}
serialization.registerClass(DropBlock2d);

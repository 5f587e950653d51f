import {serialization} from '@tensorflow/tfjs-core';
import {DropBlockLayer, DropBlockLayerArgs} from './drop_block';

/**
 * torchvision.ops.DropBlock3d(p, block_size, inplace=False, eps=1e-6):
 * dropBlock3d when kwargs.training (fit), identity otherwise.
 */
export class DropBlock3d extends DropBlockLayer {
  static className = 'DropBlock3d';

  constructor(args: DropBlockLayerArgs) {
    super(args, 3);
  }
}
serialization.registerClass(DropBlock3d);

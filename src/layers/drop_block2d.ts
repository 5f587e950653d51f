import {serialization} from '@tensorflow/tfjs-core';
import {DropBlockLayer, DropBlockLayerArgs} from './drop_block';

/**
 * torchvision.ops.DropBlock2d(p, block_size, inplace=False, eps=1e-6):
 * dropBlock2d when kwargs.training (fit), identity otherwise.
 */
export class DropBlock2d extends DropBlockLayer {
  static className = 'DropBlock2d';

  constructor(args: DropBlockLayerArgs) {
    super(args, 2);
  }
}
serialization.registerClass(DropBlock2d);

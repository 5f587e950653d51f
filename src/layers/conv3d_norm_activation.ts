import {serialization} from '@tensorflow/tfjs-core';
import {ConvNormActivation, ConvNormActivationArgs} from './conv_norm_activation';

/**
 * torchvision.ops.Conv3dNormActivation: as Conv2dNormActivation with Conv3d
 * and BatchNorm3d. Input [N, D, H, W, C] (channelsFirst: [N, C, D, H, W]).
 */
export class Conv3dNormActivation extends ConvNormActivation {
  static className = 'Conv3dNormActivation';

  constructor(args: ConvNormActivationArgs) {
    super(args, 3);
  }
}
serialization.registerClass(Conv3dNormActivation);

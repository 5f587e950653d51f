import {serialization} from '@tensorflow/tfjs-core';
import {ConvNormActivation, ConvNormActivationArgs} from './conv_norm_activation';

/**
 * torchvision.ops.Conv2dNormActivation(in_channels, out_channels, kernel_size=3,
 * stride=1, padding=None, groups=1, norm_layer=BatchNorm2d, activation_layer=ReLU,
 * dilation=1, bias=None): Conv2d, then norm (batch statistics when
 * kwargs.training), then activation. Input [N, H, W, C] (channelsFirst: [N, C, H, W]).
 */
export class Conv2dNormActivation extends ConvNormActivation {
  static className = 'Conv2dNormActivation';

  constructor(args: ConvNormActivationArgs) {
    super(args, 2);
  }
}
serialization.registerClass(Conv2dNormActivation);

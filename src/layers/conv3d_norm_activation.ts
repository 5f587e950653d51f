import {serialization} from '@tensorflow/tfjs-core';
import {CONV_NORM_ACTIVATION_POSITIONAL, ConvNormActivation, ConvNormActivationArgs, ConvNormActivationParams} from './conv_norm_activation.ts';
import {layerArgs} from './torch_layer.ts';

/**
 * As {@link Conv2dNormActivation} with Conv3d and BatchNorm3d (same arguments
 * and defaults): [N, D, H, W, inChannels] (channelsFirst: [N, inChannels, D,
 * H, W]) -> [N, OD, OH, OW, outChannels] (channelsFirst: [N, outChannels, OD,
 * OH, OW]).
 * torchvision: `torchvision.ops.Conv3dNormActivation(in_channels, out_channels,
 * kernel_size=3, stride=1, padding=None, groups=1, norm_layer=BatchNorm3d,
 * activation_layer=ReLU, dilation=1, bias=None)`.
 *
 * ```js
 * new Conv3dNormActivation({inChannels: 8, outChannels: 16}).apply(x)  // [N, D, H, W, 8] -> [N, D, H, W, 16]
 * new Conv3dNormActivation(8, 16)  // the same layer, torchvision's Conv3dNormActivation(8, 16)
 * ```
 */
export class Conv3dNormActivation extends ConvNormActivation {
  static className = 'Conv3dNormActivation';

  constructor(...values: ConvNormActivationParams) {
    const args = layerArgs<ConvNormActivationArgs>(Conv3dNormActivation.className, values, CONV_NORM_ACTIVATION_POSITIONAL);
    super(args, 3);
  }
}
serialization.registerClass(Conv3dNormActivation);

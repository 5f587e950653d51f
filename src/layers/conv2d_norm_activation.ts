import {serialization} from '@tensorflow/tfjs-core';
import {CONV_NORM_ACTIVATION_POSITIONAL, ConvNormActivation, ConvNormActivationArgs, ConvNormActivationParams} from './conv_norm_activation.ts';
import {layerArgs} from './torch_layer.ts';

/**
 * Conv2d, then an optional norm (batch statistics when kwargs.training, as fit
 * passes it), then an optional activation: [N, H, W, inChannels]
 * (channelsFirst: [N, inChannels, H, W]) -> [N, OH, OW, outChannels]
 * (channelsFirst: [N, outChannels, OH, OW]). Defaults: kernelSize 3, stride 1,
 * padding (kernelSize - 1) / 2 * dilation, groups 1, normLayer 'batchNorm',
 * activation 'relu', dilation 1, bias only without a norm, normEps 1e-5,
 * normMomentum 0.1, dataFormat 'channelsLast'. Weights under torchvision's
 * keys '0.weight', ['0.bias'], ['1.weight', '1.bias', '1.running_mean', '1.running_var'].
 * torchvision: `torchvision.ops.Conv2dNormActivation(in_channels, out_channels,
 * kernel_size=3, stride=1, padding=None, groups=1, norm_layer=BatchNorm2d,
 * activation_layer=ReLU, dilation=1, bias=None)`.
 *
 * ```js
 * new Conv2dNormActivation({inChannels: 3, outChannels: 16, stride: 2}).apply(x)
 * // x [N, H, W, 3] -> [N, ceil(H / 2), ceil(W / 2), 16]
 * new Conv2dNormActivation(3, 16, 3, 2)  // the same layer, torchvision's Conv2dNormActivation(3, 16, 3, 2)
 * ```
 */
export class Conv2dNormActivation extends ConvNormActivation {
  static className = 'Conv2dNormActivation';

  constructor(...values: ConvNormActivationParams) {
    const args = layerArgs<ConvNormActivationArgs>(Conv2dNormActivation.className, values, CONV_NORM_ACTIVATION_POSITIONAL);
    super(args, 2);
  }
}
serialization.registerClass(Conv2dNormActivation);

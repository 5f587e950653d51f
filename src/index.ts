/**
 * tfjs-vision-ops: torchvision.ops for TensorFlow.js. This entry registers the
 * cpu kernels and every gradient; import 'tfjs-vision-ops/webgl', '/webgpu',
 * '/wasm' or '/node' to register another backend's kernels.
 */
// tfjs-layers registers tfjs-core's own gradients (in its ESM and CommonJS
// builds alike), which the composite ops need for autodiff.
import '@tensorflow/tfjs-layers';
import '../kernels/cpu/register';
import '../gradients/register';

export {boxArea, boxConvert, boxIou, clipBoxesToImage, completeBoxIou, distanceBoxIou, generalizedBoxIou, masksToBoxes, removeSmallBoxes, removeSmallBoxesAsync} from './ops/box_ops';
export type {BoxFormat, RotatedBoxFormat} from './ops/box_ops';
export {completeBoxIouLoss, distanceBoxIouLoss, generalizedBoxIouLoss} from './ops/box_iou_losses';
export type {IouLossArgs, Reduction} from './ops/box_iou_losses';
export * from './ops/sigmoid_focal_loss';
export * from './ops/nms';
export * from './ops/roi_align';
export * from './ops/roi_pool';
export * from './ops/ps_roi';
export * from './ops/deform_conv2d';
export * from './layers/roi_align_layer';
export * from './layers/roi_pool_layer';
export * from './layers/ps_roi_align_layer';
export * from './layers/ps_roi_pool_layer';
export * from './layers/multi_scale_roi_align';
export {dropBlock2d, dropBlock3d} from './ops/drop_block';
export type {DropBlockArgs} from './ops/drop_block';
export {stochasticDepth} from './ops/stochastic_depth';
export type {StochasticDepthArgs, StochasticDepthMode} from './ops/stochastic_depth';
export * from './layers/frozen_batch_norm2d';
export * from './layers/conv2d_norm_activation';
export * from './layers/conv3d_norm_activation';
export type {ConvNormActivationArgs} from './layers/conv_norm_activation';
export * from './layers/mlp';
export * from './layers/permute';
export * from './layers/squeeze_excitation';
export * from './layers/stochastic_depth';
export * from './layers/drop_block2d';
export * from './layers/drop_block3d';
export type {DropBlockLayerArgs} from './layers/drop_block';
export * from './layers/feature_pyramid_network';
export * from './layers/deform_conv2d';
export {TorchLayer} from './layers/torch_layer';
export type {TorchLayout, TorchWeight} from './layers/torch_layer';
export type {ActivationName} from './layers/blocks/activation';
export type {NormName} from './layers/blocks/norm';
export * from './io/safetensors';
export * from './io/torchvision_weights';
export type {RoiLayerArgs} from './layers/roi_layer';
export type {DataFormat, RoiBoxes, RoiOpArgs} from './ops/roi_common';
export {BACKEND_IMPORTS} from './ops/run_kernel';
export * as kernelNames from './kernel_names';

/**
 * tfjs-vision-ops: torchvision.ops for TensorFlow.js. This entry registers the
 * cpu kernels and every gradient; import 'tfjs-vision-ops/webgl', '/webgpu',
 * '/wasm' or '/node' to register another backend's kernels.
 *
 * @module tfjs-vision-ops
 */
// tfjs-core's own gradients, which the composite ops need for autodiff:
// package.json "imports" maps this to tfjs-core's ESM gradient registry in
// bundlers and to tfjs-layers (which registers them) in Node. A namespace
// binding instead of a bare import keeps it out of the .d.ts files.
import * as tfjsGradients from '#register-tfjs-gradients';
void tfjsGradients;
import '../kernels/cpu/register.ts';
import '../gradients/register.ts';

export {boxArea, boxConvert, boxIou, clipBoxesToImage, completeBoxIou, distanceBoxIou, generalizedBoxIou, masksToBoxes, removeSmallBoxes, removeSmallBoxesAsync} from './ops/box_ops.ts';
export type {BoxFormat, RotatedBoxFormat} from './ops/box_ops.ts';
export {completeBoxIouLoss, distanceBoxIouLoss, generalizedBoxIouLoss} from './ops/box_iou_losses.ts';
export type {IouLossArgs, Reduction} from './ops/box_iou_losses.ts';
export * from './ops/sigmoid_focal_loss.ts';
export * from './ops/nms.ts';
export * from './ops/roi_align.ts';
export * from './ops/roi_pool.ts';
export * from './ops/ps_roi.ts';
export * from './ops/deform_conv2d.ts';
export * from './ops/ms_deform_attn.ts';
export {dropBlock2d, dropBlock3d} from './ops/drop_block.ts';
export type {DropBlockArgs} from './ops/drop_block.ts';
export {stochasticDepth} from './ops/stochastic_depth.ts';
export type {StochasticDepthArgs, StochasticDepthMode} from './ops/stochastic_depth.ts';
export * from './io/safetensors.ts';
export * from './io/safetensors_writer.ts';
export * from './io/torch_checkpoint.ts';
export * from './io/torchvision_weights.ts';
export type {DataFormat, RoiBoxes, RoiOpArgs} from './ops/roi_common.ts';
export * from './layers/exports.ts';
export * from './detection/index.ts';
export {BACKEND_IMPORTS} from './ops/run_kernel.ts';
export * as kernelNames from './kernel_names.ts';

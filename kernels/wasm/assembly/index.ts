/**
 * Entry of tfjs-vision-ops' own wasm module: one module for all kernel
 * families, one file per family. Every export takes byte offsets into the
 * imported memory (the tfjs wasm backend's heap) and element counts.
 *
 * Rules for every file here (checked by tools/build-wasm.mjs):
 * - no static data: no strings, no constant arrays, no `Math`/`Mathf` (their
 *   lookup tables are data segments), no `assert` messages;
 * - no allocation, no shadow stack, no mutable globals, no start function;
 * - the only import is env.memory.
 */
export {sigmoid_focal_loss, sigmoid_focal_loss_grad} from './sigmoid_focal_loss';
export {roi_align, roi_align_grad} from './roi_align';
export {nms, nms_scratch_words} from './nms';
export {roi_pool, roi_pool_grad} from './roi_pool';
export {ps_roi_align, ps_roi_align_grad, ps_roi_pool, ps_roi_pool_grad} from './ps_roi';
export {deform_conv2d, deform_conv2d_grad} from './deform_conv2d';
export {
  conv2d_backprop_filter, conv3d_backprop_filter, conv3d_backprop_input, depthwise_conv2d_backprop_filter,
  depthwise_conv2d_backprop_input,
} from './conv_grads';
export {unsorted_segment_sum} from './segment_sum';
export {ms_deform_attn, ms_deform_attn_grad} from './ms_deform_attn';

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

export * from './ops/box_ops';
export * from './ops/box_iou_losses';
export * from './ops/sigmoid_focal_loss';
export {BACKEND_IMPORTS} from './ops/run_kernel';
export * as kernelNames from './kernel_names';

/**
 * `import 'tfjs-vision-ops/wasm'`: registers this package's kernels for the
 * 'wasm' backend (@tensorflow/tfjs-backend-wasm). They run in our own
 * WebAssembly module on the backend's heap, zero copy. In browsers, after
 * `await tf.setBackend('wasm')`, also `await wasmReady()`.
 */
// First, so that the replacement below comes after tfjs's own registrations.
import '@tensorflow/tfjs-backend-wasm';
import {getKernel, registerKernel, unregisterKernel} from '@tensorflow/tfjs-core';
import {registerKernels} from '../register_all';
import {conv2DBackpropFilterConfig} from './Conv2DBackpropFilter';
import {conv3DBackpropFilterV2Config} from './Conv3DBackpropFilterV2';
import {conv3DBackpropInputV2Config} from './Conv3DBackpropInputV2';
import {deformConv2dConfig} from './DeformConv2d';
import {deformConv2dGradConfig} from './DeformConv2dGrad';
import {nmsConfig} from './Nms';
import {psRoiAlignConfig} from './PsRoiAlign';
import {psRoiAlignGradConfig} from './PsRoiAlignGrad';
import {psRoiPoolConfig} from './PsRoiPool';
import {psRoiPoolGradConfig} from './PsRoiPoolGrad';
import {roiAlignConfig} from './RoiAlign';
import {roiAlignGradConfig} from './RoiAlignGrad';
import {roiPoolConfig} from './RoiPool';
import {roiPoolGradConfig} from './RoiPoolGrad';
import {sigmoidFocalLossConfig} from './SigmoidFocalLoss';
import {sigmoidFocalLossGradConfig} from './SigmoidFocalLossGrad';
import {unsortedSegmentSumConfig} from './UnsortedSegmentSum';

export {wasmReady} from './module';

/** Configs of this package's wasm kernels, registered on import. */
export const wasmKernels = [
  sigmoidFocalLossConfig, sigmoidFocalLossGradConfig,
  roiAlignConfig, roiAlignGradConfig, roiPoolConfig, roiPoolGradConfig,
  psRoiAlignConfig, psRoiAlignGradConfig, psRoiPoolConfig, psRoiPoolGradConfig,
  nmsConfig,
  deformConv2dConfig, deformConv2dGradConfig,
];
registerKernels(wasmKernels);

/** tfjs kernels that tfjs-backend-wasm 4.22 lacks (gradients of conv2d and gather), for training. */
export const wasmTfjsKernels = [conv2DBackpropFilterConfig, unsortedSegmentSumConfig];
registerKernels(wasmTfjsKernels);
/**
 * Replacements for tfjs-backend-wasm 4.22 kernels with wrong results:
 * Conv3DBackpropInputV2 never zeroes its output, Conv3DBackpropFilterV2 drops
 * terms when a stride is > 1.
 */
export const wasmTfjsReplacements = [conv3DBackpropInputV2Config, conv3DBackpropFilterV2Config];
for (const config of wasmTfjsReplacements) {
  if (getKernel(config.kernelName, 'wasm') !== config) {
    if (getKernel(config.kernelName, 'wasm') != null) unregisterKernel(config.kernelName, 'wasm');
    registerKernel(config);
  }
}

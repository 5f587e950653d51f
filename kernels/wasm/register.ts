/**
 * `import 'tfjs-vision-ops/wasm'`: registers this package's kernels for the
 * 'wasm' backend (@tensorflow/tfjs-backend-wasm). They run in our own
 * WebAssembly module on the backend's heap, zero copy. In browsers, after
 * `await tf.setBackend('wasm')`, also `await wasmReady()`.
 *
 * @module tfjs-vision-ops/wasm
 */
// First, so that the replacement below comes after tfjs's own registrations.
import '@tensorflow/tfjs-backend-wasm';
import {getKernel, registerKernel, unregisterKernel} from '@tensorflow/tfjs-core';
import {registerKernels} from '../register_all.ts';
import {conv2DBackpropFilterConfig} from './Conv2DBackpropFilter.ts';
import {conv3DBackpropFilterV2Config} from './Conv3DBackpropFilterV2.ts';
import {conv3DBackpropInputV2Config} from './Conv3DBackpropInputV2.ts';
import {deformConv2dConfig} from './DeformConv2d.ts';
import {deformConv2dGradConfig} from './DeformConv2dGrad.ts';
import {nmsConfig} from './Nms.ts';
import {psRoiAlignConfig} from './PsRoiAlign.ts';
import {psRoiAlignGradConfig} from './PsRoiAlignGrad.ts';
import {psRoiPoolConfig} from './PsRoiPool.ts';
import {psRoiPoolGradConfig} from './PsRoiPoolGrad.ts';
import {roiAlignConfig} from './RoiAlign.ts';
import {roiAlignGradConfig} from './RoiAlignGrad.ts';
import {roiPoolConfig} from './RoiPool.ts';
import {roiPoolGradConfig} from './RoiPoolGrad.ts';
import {sigmoidFocalLossConfig} from './SigmoidFocalLoss.ts';
import {sigmoidFocalLossGradConfig} from './SigmoidFocalLossGrad.ts';
import {unsortedSegmentSumConfig} from './UnsortedSegmentSum.ts';

export {wasmReady} from './module.ts';

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

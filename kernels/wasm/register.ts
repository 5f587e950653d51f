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
import {KernelTable, registerKernels, registerTfjsKernels} from '../register_all.ts';
import {conv2DBackpropFilterWasm} from './Conv2DBackpropFilter.ts';
import {conv3DBackpropFilterWasm} from './Conv3DBackpropFilterV2.ts';
import {conv3DBackpropInputWasm} from './Conv3DBackpropInputV2.ts';
import {deformConv2dWasm} from './DeformConv2d.ts';
import {deformConv2dGradWasm} from './DeformConv2dGrad.ts';
import {depthwiseConv2dNativeBackpropFilterWasm} from './DepthwiseConv2dNativeBackpropFilter.ts';
import {depthwiseConv2dNativeBackpropInputWasm} from './DepthwiseConv2dNativeBackpropInput.ts';
import {msDeformAttnWasm} from './MsDeformAttn.ts';
import {msDeformAttnGradWasm} from './MsDeformAttnGrad.ts';
import {nmsWasm} from './Nms.ts';
import {psRoiAlignWasm} from './PsRoiAlign.ts';
import {psRoiAlignGradWasm} from './PsRoiAlignGrad.ts';
import {psRoiPoolWasm} from './PsRoiPool.ts';
import {psRoiPoolGradWasm} from './PsRoiPoolGrad.ts';
import {roiAlignWasm} from './RoiAlign.ts';
import {roiAlignGradWasm} from './RoiAlignGrad.ts';
import {roiPoolWasm} from './RoiPool.ts';
import {roiPoolGradWasm} from './RoiPoolGrad.ts';
import {sigmoidFocalLossWasm} from './SigmoidFocalLoss.ts';
import {sigmoidFocalLossGradWasm} from './SigmoidFocalLossGrad.ts';
import {unsortedSegmentSumWasm} from './UnsortedSegmentSum.ts';

export {wasmReady} from './module.ts';

export type {KernelTable} from '../register_all.ts';

/** This package's wasm kernels. */
export const wasmKernelTable: KernelTable = {
  SigmoidFocalLoss: sigmoidFocalLossWasm,
  SigmoidFocalLossGrad: sigmoidFocalLossGradWasm,
  RoiAlign: roiAlignWasm,
  RoiAlignGrad: roiAlignGradWasm,
  RoiPool: roiPoolWasm,
  RoiPoolGrad: roiPoolGradWasm,
  PsRoiAlign: psRoiAlignWasm,
  PsRoiAlignGrad: psRoiAlignGradWasm,
  PsRoiPool: psRoiPoolWasm,
  PsRoiPoolGrad: psRoiPoolGradWasm,
  Nms: nmsWasm,
  DeformConv2d: deformConv2dWasm,
  DeformConv2dGrad: deformConv2dGradWasm,
  MsDeformAttn: msDeformAttnWasm,
  MsDeformAttnGrad: msDeformAttnGradWasm,
};
/** tfjs kernel configs of the table, registered on import. */
export const wasmKernels = registerKernels('wasm', wasmKernelTable);

/**
 * tfjs kernels that tfjs-backend-wasm 4.22 lacks (gradients of conv2d, depthwiseConv2d and gather), for
 * training; each registered only where the backend has none.
 */
export const wasmTfjsKernels = registerTfjsKernels('wasm', {
  Conv2DBackpropFilter: conv2DBackpropFilterWasm,
  DepthwiseConv2dNativeBackpropInput: depthwiseConv2dNativeBackpropInputWasm,
  DepthwiseConv2dNativeBackpropFilter: depthwiseConv2dNativeBackpropFilterWasm,
  UnsortedSegmentSum: unsortedSegmentSumWasm,
});

/**
 * Replacements for tfjs-backend-wasm 4.22 kernels with wrong results:
 * Conv3DBackpropInputV2 never zeroes its output, Conv3DBackpropFilterV2 drops
 * terms when a stride is > 1.
 */
export const wasmTfjsReplacements =
    {Conv3DBackpropInputV2: conv3DBackpropInputWasm, Conv3DBackpropFilterV2: conv3DBackpropFilterWasm};
for (const [kernelName, kernelFunc] of Object.entries(wasmTfjsReplacements)) {
  if (getKernel(kernelName, 'wasm')?.kernelFunc !== kernelFunc) {
    if (getKernel(kernelName, 'wasm') != null) unregisterKernel(kernelName, 'wasm');
    registerKernel({kernelName, backendName: 'wasm', kernelFunc});
  }
}

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
import {onWasm} from './wasm_runner.ts';
import {wasmKernelModules} from './kernels.ts';
import {conv2DBackpropFilterModule} from './Conv2DBackpropFilter.ts';
import {conv3DBackpropFilterModule} from './Conv3DBackpropFilterV2.ts';
import {conv3DBackpropInputModule} from './Conv3DBackpropInputV2.ts';
import {depthwiseConv2dNativeBackpropFilterModule} from './DepthwiseConv2dNativeBackpropFilter.ts';
import {depthwiseConv2dNativeBackpropInputModule} from './DepthwiseConv2dNativeBackpropInput.ts';
import {unsortedSegmentSumModule} from './UnsortedSegmentSum.ts';

export {wasmReady} from './module.ts';

export type {KernelTable} from '../register_all.ts';

/** This package's wasm kernels. */
export const wasmKernelTable: KernelTable = Object.fromEntries(
    Object.entries(wasmKernelModules).map(([name, kernel]) => [name, onWasm(kernel)])) as KernelTable;
/** tfjs kernel configs of the table, registered on import. */
export const wasmKernels = registerKernels('wasm', wasmKernelTable);

/**
 * tfjs kernels that tfjs-backend-wasm 4.22 lacks (gradients of conv2d, depthwiseConv2d and gather), for
 * training; each registered only where the backend has none.
 */
export const wasmTfjsKernels = registerTfjsKernels('wasm', {
  Conv2DBackpropFilter: onWasm(conv2DBackpropFilterModule),
  DepthwiseConv2dNativeBackpropInput: onWasm(depthwiseConv2dNativeBackpropInputModule),
  DepthwiseConv2dNativeBackpropFilter: onWasm(depthwiseConv2dNativeBackpropFilterModule),
  UnsortedSegmentSum: onWasm(unsortedSegmentSumModule),
});

/**
 * Replacements for tfjs-backend-wasm 4.22 kernels with wrong results:
 * Conv3DBackpropInputV2 never zeroes its output, Conv3DBackpropFilterV2 drops
 * terms when a stride is > 1.
 */
export const wasmTfjsReplacements = {
  Conv3DBackpropInputV2: onWasm(conv3DBackpropInputModule),
  Conv3DBackpropFilterV2: onWasm(conv3DBackpropFilterModule),
};
for (const [kernelName, kernelFunc] of Object.entries(wasmTfjsReplacements)) {
  if (getKernel(kernelName, 'wasm')?.kernelFunc !== kernelFunc) {
    if (getKernel(kernelName, 'wasm') != null) unregisterKernel(kernelName, 'wasm');
    registerKernel({kernelName, backendName: 'wasm', kernelFunc});
  }
}

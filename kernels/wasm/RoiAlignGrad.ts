import {KernelFunc} from '@tensorflow/tfjs-core';
import {RoiAlignGradAttrs, RoiAlignGradInputs, roiAlignKernel} from '../../src/kernel_names.ts';
import {WasmBackendLike} from './module.ts';
import {runRoiAlignWasm} from './RoiAlign.ts';

/** Zero copy: zeroes dx on the heap, then scatters every bin's dy with its bilinear weights. */
export const roiAlignGradWasm: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, boxes} = inputs as RoiAlignGradInputs;
  const p = attrs as unknown as RoiAlignGradAttrs;
  return runRoiAlignWasm(backend as unknown as WasmBackendLike, 'roi_align_grad', roiAlignKernel, dy, boxes, p.xShape, p.xShape, p);
};

import {KernelFunc} from '@tensorflow/tfjs-core';
import {PsRoiAlignGradAttrs, PsRoiAlignGradInputs, psRoiAlignKernel} from '../../src/kernel_names.ts';
import {WasmBackendLike} from './module.ts';
import {runRoiAlignWasm} from './RoiAlign.ts';

export const psRoiAlignGradWasm: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, boxes} = inputs as PsRoiAlignGradInputs;
  const p = attrs as unknown as PsRoiAlignGradAttrs;
  return runRoiAlignWasm(backend as unknown as WasmBackendLike, 'ps_roi_align_grad', psRoiAlignKernel, dy, boxes, p.xShape, p.xShape, p);
};

import {KernelFunc} from '@tensorflow/tfjs-core';
import {PsRoiAlignAttrs, PsRoiAlignInputs, psRoiAlignKernel} from '../../src/kernel_names.ts';
import {WasmBackendLike} from './module.ts';
import {runRoiAlignWasm} from './RoiAlign.ts';

/** Zero copy, roi_align's taps; the strided channel reads are scalar. */
export const psRoiAlignWasm: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as PsRoiAlignInputs;
  const p = attrs as unknown as PsRoiAlignAttrs;
  const outShape = [boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3] / (p.pooledHeight * p.pooledWidth)];
  return runRoiAlignWasm(backend as unknown as WasmBackendLike, 'ps_roi_align', psRoiAlignKernel, x, boxes, outShape, x.shape, p);
};

import {PsRoiAlignAttrs, PsRoiAlignInputs, psRoiAlignKernel} from '../../src/kernel_names.ts';
import {ModuleKernel} from './call.ts';
import {runRoiAlign} from './RoiAlign.ts';

export const psRoiAlignModule: ModuleKernel = (run, {inputs, attrs}) => {
  const {x, boxes} = inputs as PsRoiAlignInputs;
  const p = attrs as unknown as PsRoiAlignAttrs;
  const outShape = [boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3] / (p.pooledHeight * p.pooledWidth)];
  return runRoiAlign(run, 'ps_roi_align', psRoiAlignKernel, x, boxes, outShape, x.shape, p);
};

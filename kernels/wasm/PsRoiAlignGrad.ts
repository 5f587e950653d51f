import {PsRoiAlignGradAttrs, PsRoiAlignGradInputs, psRoiAlignKernel} from '../../src/kernel_names.ts';
import {ModuleKernel} from './call.ts';
import {runRoiAlign} from './RoiAlign.ts';

export const psRoiAlignGradModule: ModuleKernel = (run, {inputs, attrs}) => {
  const {dy, boxes} = inputs as PsRoiAlignGradInputs;
  const p = attrs as unknown as PsRoiAlignGradAttrs;
  return runRoiAlign(run, 'ps_roi_align_grad', psRoiAlignKernel, dy, boxes, p.xShape, p.xShape, p);
};

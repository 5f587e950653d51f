import {RoiAlignGradAttrs, RoiAlignGradInputs, roiAlignKernel} from '../../src/kernel_names.ts';
import {ModuleKernel} from './call.ts';
import {runRoiAlign} from './RoiAlign.ts';

/** dx zeroed, then every bin's dy scattered with its bilinear weights. */
export const roiAlignGradModule: ModuleKernel = (run, {inputs, attrs}) => {
  const {dy, boxes} = inputs as RoiAlignGradInputs;
  const p = attrs as unknown as RoiAlignGradAttrs;
  return runRoiAlign(run, 'roi_align_grad', roiAlignKernel, dy, boxes, p.xShape, p.xShape, p);
};

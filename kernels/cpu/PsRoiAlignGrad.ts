import {KernelFunc} from '@tensorflow/tfjs-core';
import {PsRoiAlignGradAttrs, PsRoiAlignGradInputs} from '../../src/kernel_names.ts';
import {psRoiAlignGradValues} from '../reference/ps_roi.ts';
import {runRoiGradHost} from './RoiAlignGrad.ts';

export const psRoiAlignGradHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, boxes} = inputs as PsRoiAlignGradInputs;
  return runRoiGradHost(backend, dy, boxes, attrs as unknown as PsRoiAlignGradAttrs, psRoiAlignGradValues);
};

import {KernelFunc} from '@tensorflow/tfjs-core';
import {PsRoiPoolGradAttrs, PsRoiPoolGradInputs} from '../../src/kernel_names.ts';
import {psRoiPoolGradValues} from '../reference/ps_roi.ts';
import {runRoiGradHost} from './RoiAlignGrad.ts';

export const psRoiPoolGradHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, boxes} = inputs as PsRoiPoolGradInputs;
  return runRoiGradHost(backend, dy, boxes, attrs as unknown as PsRoiPoolGradAttrs, psRoiPoolGradValues);
};

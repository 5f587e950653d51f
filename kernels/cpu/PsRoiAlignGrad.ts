import {KernelConfig, KernelFunc} from '@tensorflow/tfjs-core';
import {PsRoiAlignGrad, PsRoiAlignGradAttrs, PsRoiAlignGradInputs} from '../../src/kernel_names.ts';
import {psRoiAlignGradValues} from '../reference/ps_roi.ts';
import {runRoiGradHost} from './RoiAlignGrad.ts';

export const psRoiAlignGradHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, boxes} = inputs as PsRoiAlignGradInputs;
  return runRoiGradHost(backend, dy, boxes, attrs as unknown as PsRoiAlignGradAttrs, psRoiAlignGradValues);
};

export const psRoiAlignGradConfig: KernelConfig = {
  kernelName: PsRoiAlignGrad,
  backendName: 'cpu',
  kernelFunc: psRoiAlignGradHost,
};

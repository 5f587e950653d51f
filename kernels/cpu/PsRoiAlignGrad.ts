import {KernelConfig, KernelFunc} from '@tensorflow/tfjs-core';
import {PsRoiAlignGrad, PsRoiAlignGradAttrs, PsRoiAlignGradInputs} from '../../src/kernel_names';
import {psRoiAlignGradValues} from '../reference/ps_roi';
import {runRoiGradHost} from './RoiAlignGrad';

export const psRoiAlignGradHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, boxes} = inputs as PsRoiAlignGradInputs;
  return runRoiGradHost(backend, dy, boxes, attrs as unknown as PsRoiAlignGradAttrs, psRoiAlignGradValues);
};

export const psRoiAlignGradConfig: KernelConfig = {
  kernelName: PsRoiAlignGrad,
  backendName: 'cpu',
  kernelFunc: psRoiAlignGradHost,
};

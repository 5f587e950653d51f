import {KernelConfig, KernelFunc} from '@tensorflow/tfjs-core';
import {PsRoiPoolGrad, PsRoiPoolGradAttrs, PsRoiPoolGradInputs} from '../../src/kernel_names';
import {psRoiPoolGradValues} from '../reference/ps_roi';
import {runRoiGradHost} from './RoiAlignGrad';

export const psRoiPoolGradHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, boxes} = inputs as PsRoiPoolGradInputs;
  return runRoiGradHost(backend, dy, boxes, attrs as unknown as PsRoiPoolGradAttrs, psRoiPoolGradValues);
};

export const psRoiPoolGradConfig: KernelConfig = {
  kernelName: PsRoiPoolGrad,
  backendName: 'cpu',
  kernelFunc: psRoiPoolGradHost,
};

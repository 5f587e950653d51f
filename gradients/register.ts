import {getGradient, registerGradient} from '@tensorflow/tfjs-core';
import {DIFFERENTIABLE_KERNELS} from '../src/kernel_names.ts';
import {gradConfigOf} from './grad_config.ts';

export const gradConfigs = DIFFERENTIABLE_KERNELS.map(gradConfigOf);
for (const config of gradConfigs) {
  if (getGradient(config.kernelName) == null) registerGradient(config);
}

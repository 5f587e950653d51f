import {getGradient, registerGradient} from '@tensorflow/tfjs-core';
import {sigmoidFocalLossGradConfig} from './SigmoidFocalLoss_grad';

export const gradConfigs = [sigmoidFocalLossGradConfig];
for (const config of gradConfigs) {
  if (getGradient(config.kernelName) == null) registerGradient(config);
}

import {getGradient, registerGradient} from '@tensorflow/tfjs-core';
import {deformConv2dGradConfig} from './DeformConv2d_grad.ts';
import {psRoiAlignGradConfig} from './PsRoiAlign_grad.ts';
import {psRoiPoolGradConfig} from './PsRoiPool_grad.ts';
import {roiAlignGradConfig} from './RoiAlign_grad.ts';
import {roiPoolGradConfig} from './RoiPool_grad.ts';
import {sigmoidFocalLossGradConfig} from './SigmoidFocalLoss_grad.ts';

export const gradConfigs = [sigmoidFocalLossGradConfig, roiAlignGradConfig, roiPoolGradConfig,
  psRoiAlignGradConfig, psRoiPoolGradConfig, deformConv2dGradConfig];
for (const config of gradConfigs) {
  if (getGradient(config.kernelName) == null) registerGradient(config);
}

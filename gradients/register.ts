import {getGradient, registerGradient} from '@tensorflow/tfjs-core';
import {deformConv2dGradConfig} from './DeformConv2d_grad';
import {psRoiAlignGradConfig} from './PsRoiAlign_grad';
import {psRoiPoolGradConfig} from './PsRoiPool_grad';
import {roiAlignGradConfig} from './RoiAlign_grad';
import {roiPoolGradConfig} from './RoiPool_grad';
import {sigmoidFocalLossGradConfig} from './SigmoidFocalLoss_grad';

export const gradConfigs = [sigmoidFocalLossGradConfig, roiAlignGradConfig, roiPoolGradConfig,
  psRoiAlignGradConfig, psRoiPoolGradConfig, deformConv2dGradConfig];
for (const config of gradConfigs) {
  if (getGradient(config.kernelName) == null) registerGradient(config);
}

import {registerKernels} from '../register_all.ts';
import {deformConv2dConfig} from './DeformConv2d.ts';
import {deformConv2dGradConfig} from './DeformConv2dGrad.ts';
import {nmsConfig} from './Nms.ts';
import {psRoiAlignConfig} from './PsRoiAlign.ts';
import {psRoiAlignGradConfig} from './PsRoiAlignGrad.ts';
import {psRoiPoolConfig} from './PsRoiPool.ts';
import {psRoiPoolGradConfig} from './PsRoiPoolGrad.ts';
import {roiAlignConfig} from './RoiAlign.ts';
import {roiAlignGradConfig} from './RoiAlignGrad.ts';
import {roiPoolConfig} from './RoiPool.ts';
import {roiPoolGradConfig} from './RoiPoolGrad.ts';
import {sigmoidFocalLossConfig} from './SigmoidFocalLoss.ts';
import {sigmoidFocalLossGradConfig} from './SigmoidFocalLossGrad.ts';

export const cpuKernels = [
  sigmoidFocalLossConfig, sigmoidFocalLossGradConfig,
  roiAlignConfig, roiAlignGradConfig, roiPoolConfig, roiPoolGradConfig,
  psRoiAlignConfig, psRoiAlignGradConfig, psRoiPoolConfig, psRoiPoolGradConfig,
  nmsConfig,
  deformConv2dConfig, deformConv2dGradConfig,
];
registerKernels(cpuKernels);

import {registerKernels} from '../register_all';
import {deformConv2dConfig} from './DeformConv2d';
import {deformConv2dGradConfig} from './DeformConv2dGrad';
import {nmsConfig} from './Nms';
import {psRoiAlignConfig} from './PsRoiAlign';
import {psRoiAlignGradConfig} from './PsRoiAlignGrad';
import {psRoiPoolConfig} from './PsRoiPool';
import {psRoiPoolGradConfig} from './PsRoiPoolGrad';
import {roiAlignConfig} from './RoiAlign';
import {roiAlignGradConfig} from './RoiAlignGrad';
import {roiPoolConfig} from './RoiPool';
import {roiPoolGradConfig} from './RoiPoolGrad';
import {sigmoidFocalLossConfig} from './SigmoidFocalLoss';
import {sigmoidFocalLossGradConfig} from './SigmoidFocalLossGrad';

export const cpuKernels = [
  sigmoidFocalLossConfig, sigmoidFocalLossGradConfig,
  roiAlignConfig, roiAlignGradConfig, roiPoolConfig, roiPoolGradConfig,
  psRoiAlignConfig, psRoiAlignGradConfig, psRoiPoolConfig, psRoiPoolGradConfig,
  nmsConfig,
  deformConv2dConfig, deformConv2dGradConfig,
];
registerKernels(cpuKernels);

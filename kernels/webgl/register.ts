/**
 * Registers this package's native webgl kernels: `import 'tfjs-vision-ops/webgl'`
 * (next to `@tensorflow/tfjs-backend-webgl`). Every kernel runs GLSL programs on
 * the backend's textures: no data is read back to the CPU (except by Nms, which
 * reads back its suppression band and the score order and scans them).
 */
import {registerKernels} from '../register_all';
import {deformConv2dConfig} from './DeformConv2d';
import {deformConv2dGradConfig} from './DeformConv2dGrad';
import {nmsBandConfig, nmsConfig} from './Nms';
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

export const webglKernels = [
  sigmoidFocalLossConfig, sigmoidFocalLossGradConfig,
  roiAlignConfig, roiAlignGradConfig, roiPoolConfig, roiPoolGradConfig,
  psRoiAlignConfig, psRoiAlignGradConfig, psRoiPoolConfig, psRoiPoolGradConfig,
  nmsConfig, nmsBandConfig,
  deformConv2dConfig, deformConv2dGradConfig,
];
registerKernels(webglKernels);

/**
 * Registers this package's native webgl kernels: `import 'tfjs-vision-ops/webgl'`
 * (next to `@tensorflow/tfjs-backend-webgl`). Every kernel runs GLSL programs on
 * the backend's textures: no data is read back to the CPU (except by Nms, which
 * reads back its suppression band and the score order and scans them).
 *
 * @module tfjs-vision-ops/webgl
 */
import {registerKernels} from '../register_all.ts';
import {deformConv2dConfig} from './DeformConv2d.ts';
import {deformConv2dGradConfig} from './DeformConv2dGrad.ts';
import {nmsBandConfig, nmsConfig} from './Nms.ts';
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

export const webglKernels = [
  sigmoidFocalLossConfig, sigmoidFocalLossGradConfig,
  roiAlignConfig, roiAlignGradConfig, roiPoolConfig, roiPoolGradConfig,
  psRoiAlignConfig, psRoiAlignGradConfig, psRoiPoolConfig, psRoiPoolGradConfig,
  nmsConfig, nmsBandConfig,
  deformConv2dConfig, deformConv2dGradConfig,
];
registerKernels(webglKernels);

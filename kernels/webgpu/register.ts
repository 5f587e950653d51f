/**
 * Registers this package's native webgpu kernels: `import 'tfjs-vision-ops/webgpu'`
 * (next to `@tensorflow/tfjs-backend-webgpu`). Every kernel runs WGSL programs on
 * the backend's buffers: no data is read back to the CPU (except by Nms, which
 * returns its data-dependent result after reading back N int32).
 *
 * @module tfjs-vision-ops/webgpu
 */
import {registerKernels} from '../register_all.ts';
import {deformConv2dConfig} from './DeformConv2d.ts';
import {deformConv2dGradConfig} from './DeformConv2dGrad.ts';
import {nmsConfig, nmsSortedKeepConfig} from './Nms.ts';
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

export const webgpuKernels = [
  sigmoidFocalLossConfig, sigmoidFocalLossGradConfig,
  roiAlignConfig, roiAlignGradConfig, roiPoolConfig, roiPoolGradConfig,
  psRoiAlignConfig, psRoiAlignGradConfig, psRoiPoolConfig, psRoiPoolGradConfig,
  nmsConfig, nmsSortedKeepConfig,
  deformConv2dConfig, deformConv2dGradConfig,
];
registerKernels(webgpuKernels);

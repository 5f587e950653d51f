/**
 * Registers this package's native webgpu kernels: `import 'tfjs-vision-ops/webgpu'`
 * (next to `@tensorflow/tfjs-backend-webgpu`). Every kernel runs WGSL programs on
 * the backend's buffers: no data is read back to the CPU (except by Nms, which
 * returns its data-dependent result after reading back N int32).
 */
import {registerKernels} from '../register_all';
import {deformConv2dConfig} from './DeformConv2d';
import {deformConv2dGradConfig} from './DeformConv2dGrad';
import {nmsConfig, nmsSortedKeepConfig} from './Nms';
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

export const webgpuKernels = [
  sigmoidFocalLossConfig, sigmoidFocalLossGradConfig,
  roiAlignConfig, roiAlignGradConfig, roiPoolConfig, roiPoolGradConfig,
  psRoiAlignConfig, psRoiAlignGradConfig, psRoiPoolConfig, psRoiPoolGradConfig,
  nmsConfig, nmsSortedKeepConfig,
  deformConv2dConfig, deformConv2dGradConfig,
];
registerKernels(webgpuKernels);

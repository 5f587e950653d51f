/**
 * This package's kernels (src/kernel_names.ts) as ModuleKernels of our C
 * module: the wasm backend runs them on its heap (./register.ts), the
 * 'tensorflow' backend as TensorFlow ops (../tensorflow/register.ts).
 */
import type {KernelName} from '../../src/kernel_names.ts';
import type {ModuleKernel} from './call.ts';
import {deformConv2dModule} from './DeformConv2d.ts';
import {deformConv2dGradModule} from './DeformConv2dGrad.ts';
import {msDeformAttnModule} from './MsDeformAttn.ts';
import {msDeformAttnGradModule} from './MsDeformAttnGrad.ts';
import {nmsModule} from './Nms.ts';
import {psRoiAlignModule} from './PsRoiAlign.ts';
import {psRoiAlignGradModule} from './PsRoiAlignGrad.ts';
import {psRoiPoolModule} from './PsRoiPool.ts';
import {psRoiPoolGradModule} from './PsRoiPoolGrad.ts';
import {roiAlignModule} from './RoiAlign.ts';
import {roiAlignGradModule} from './RoiAlignGrad.ts';
import {roiPoolModule} from './RoiPool.ts';
import {roiPoolGradModule} from './RoiPoolGrad.ts';
import {sigmoidFocalLossModule} from './SigmoidFocalLoss.ts';
import {sigmoidFocalLossGradModule} from './SigmoidFocalLossGrad.ts';

export const wasmKernelModules: {readonly [N in KernelName]: ModuleKernel} = {
  SigmoidFocalLoss: sigmoidFocalLossModule,
  SigmoidFocalLossGrad: sigmoidFocalLossGradModule,
  RoiAlign: roiAlignModule,
  RoiAlignGrad: roiAlignGradModule,
  RoiPool: roiPoolModule,
  RoiPoolGrad: roiPoolGradModule,
  PsRoiAlign: psRoiAlignModule,
  PsRoiAlignGrad: psRoiAlignGradModule,
  PsRoiPool: psRoiPoolModule,
  PsRoiPoolGrad: psRoiPoolGradModule,
  Nms: nmsModule,
  DeformConv2d: deformConv2dModule,
  DeformConv2dGrad: deformConv2dGradModule,
  MsDeformAttn: msDeformAttnModule,
  MsDeformAttnGrad: msDeformAttnGradModule,
};

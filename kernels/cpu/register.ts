import {KernelTable, registerKernels} from '../register_all.ts';
import {deformConv2dHost} from './DeformConv2d.ts';
import {deformConv2dGradHost} from './DeformConv2dGrad.ts';
import {msDeformAttnHost} from './MsDeformAttn.ts';
import {msDeformAttnGradHost} from './MsDeformAttnGrad.ts';
import {nmsHost} from './Nms.ts';
import {psRoiAlignHost} from './PsRoiAlign.ts';
import {psRoiAlignGradHost} from './PsRoiAlignGrad.ts';
import {psRoiPoolHost} from './PsRoiPool.ts';
import {psRoiPoolGradHost} from './PsRoiPoolGrad.ts';
import {roiAlignHost} from './RoiAlign.ts';
import {roiAlignGradHost} from './RoiAlignGrad.ts';
import {roiPoolHost} from './RoiPool.ts';
import {roiPoolGradHost} from './RoiPoolGrad.ts';
import {sigmoidFocalLossHost} from './SigmoidFocalLoss.ts';
import {sigmoidFocalLossGradHost} from './SigmoidFocalLossGrad.ts';

export type {KernelTable} from '../register_all.ts';

export const cpuKernelTable: KernelTable = {
  SigmoidFocalLoss: sigmoidFocalLossHost,
  SigmoidFocalLossGrad: sigmoidFocalLossGradHost,
  RoiAlign: roiAlignHost,
  RoiAlignGrad: roiAlignGradHost,
  RoiPool: roiPoolHost,
  RoiPoolGrad: roiPoolGradHost,
  PsRoiAlign: psRoiAlignHost,
  PsRoiAlignGrad: psRoiAlignGradHost,
  PsRoiPool: psRoiPoolHost,
  PsRoiPoolGrad: psRoiPoolGradHost,
  Nms: nmsHost,
  DeformConv2d: deformConv2dHost,
  DeformConv2dGrad: deformConv2dGradHost,
  MsDeformAttn: msDeformAttnHost,
  MsDeformAttnGrad: msDeformAttnGradHost,
};
/** tfjs kernel configs of the table, registered on import. */
export const cpuKernels = registerKernels('cpu', cpuKernelTable);

/**
 * Registers this package's native webgl kernels: `import 'tfjs-vision-ops/webgl'`
 * (next to `@tensorflow/tfjs-backend-webgl`). Every kernel runs GLSL programs on
 * the backend's textures: no data is read back to the CPU (except by Nms, which
 * reads back its suppression band and the score order and scans them).
 *
 * @module tfjs-vision-ops/webgl
 */
import {AsyncKernelTable, KernelTable, registerKernels} from '../register_all.ts';
import {deformConv2dWebGL} from './DeformConv2d.ts';
import {deformConv2dGradWebGL} from './DeformConv2dGrad.ts';
import {nmsAsyncWebGL, nmsWebGL} from './Nms.ts';
import {psRoiAlignWebGL} from './PsRoiAlign.ts';
import {psRoiAlignGradWebGL} from './PsRoiAlignGrad.ts';
import {psRoiPoolWebGL} from './PsRoiPool.ts';
import {psRoiPoolGradWebGL} from './PsRoiPoolGrad.ts';
import {roiAlignWebGL} from './RoiAlign.ts';
import {roiAlignGradWebGL} from './RoiAlignGrad.ts';
import {roiPoolWebGL} from './RoiPool.ts';
import {roiPoolGradWebGL} from './RoiPoolGrad.ts';
import {sigmoidFocalLossWebGL} from './SigmoidFocalLoss.ts';
import {sigmoidFocalLossGradWebGL} from './SigmoidFocalLossGrad.ts';

export const webglKernels: KernelTable = {
  SigmoidFocalLoss: sigmoidFocalLossWebGL,
  SigmoidFocalLossGrad: sigmoidFocalLossGradWebGL,
  RoiAlign: roiAlignWebGL,
  RoiAlignGrad: roiAlignGradWebGL,
  RoiPool: roiPoolWebGL,
  RoiPoolGrad: roiPoolGradWebGL,
  PsRoiAlign: psRoiAlignWebGL,
  PsRoiAlignGrad: psRoiAlignGradWebGL,
  PsRoiPool: psRoiPoolWebGL,
  PsRoiPoolGrad: psRoiPoolGradWebGL,
  Nms: nmsWebGL,
  DeformConv2d: deformConv2dWebGL,
  DeformConv2dGrad: deformConv2dGradWebGL,
};
/** The async ops (nmsAsync, batchedNmsAsync) await the readback instead of blocking. */
export const webglAsyncKernels: AsyncKernelTable = {Nms: nmsAsyncWebGL};
registerKernels('webgl', webglKernels, webglAsyncKernels);

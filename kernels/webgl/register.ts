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
import {msDeformAttnWebGL} from './MsDeformAttn.ts';
import {msDeformAttnGradWebGL} from './MsDeformAttnGrad.ts';
import {nmsAsyncWebGL, nmsWebGL} from './Nms.ts';
import {webglRoiKernels} from './roi_kernels.ts';
import {sigmoidFocalLossWebGL} from './SigmoidFocalLoss.ts';
import {sigmoidFocalLossGradWebGL} from './SigmoidFocalLossGrad.ts';

export type {AsyncKernelTable, KernelTable} from '../register_all.ts';
export type {AsyncKernelFunc} from '../../src/ops/run_kernel.ts';

export const webglKernelTable: KernelTable = {
  ...webglRoiKernels,
  SigmoidFocalLoss: sigmoidFocalLossWebGL,
  SigmoidFocalLossGrad: sigmoidFocalLossGradWebGL,
  Nms: nmsWebGL,
  DeformConv2d: deformConv2dWebGL,
  DeformConv2dGrad: deformConv2dGradWebGL,
  MsDeformAttn: msDeformAttnWebGL,
  MsDeformAttnGrad: msDeformAttnGradWebGL,
};
/** The async ops (nmsAsync, batchedNmsAsync) await the readback instead of blocking. */
export const webglAsyncKernels: AsyncKernelTable = {Nms: nmsAsyncWebGL};
/** tfjs kernel configs of the table, registered on import. */
export const webglKernels = registerKernels('webgl', webglKernelTable, webglAsyncKernels);

/**
 * Registers this package's native webgpu kernels: `import 'tfjs-vision-ops/webgpu'`
 * (next to `@tensorflow/tfjs-backend-webgpu`). Every kernel runs WGSL programs on
 * the backend's buffers: no data is read back to the CPU, except by the async
 * Nms (nmsAsync, batchedNmsAsync), which awaits N int32 for its data-dependent
 * result; the sync Nms is an Error (sync readback breaks SwiftShader's device).
 *
 * @module tfjs-vision-ops/webgpu
 */
import {AsyncKernelTable, KernelTable, registerKernels} from '../register_all.ts';
import {deformConv2dWebGPU} from './DeformConv2d.ts';
import {deformConv2dGradWebGPU} from './DeformConv2dGrad.ts';
import {msDeformAttnWebGPU} from './MsDeformAttn.ts';
import {msDeformAttnGradWebGPU} from './MsDeformAttnGrad.ts';
import {nmsAsyncWebGPU, nmsWebGPU} from './Nms.ts';
import {webgpuRoiKernels} from './roi_kernels.ts';
import {sigmoidFocalLossWebGPU} from './SigmoidFocalLoss.ts';
import {sigmoidFocalLossGradWebGPU} from './SigmoidFocalLossGrad.ts';

export type {AsyncKernelTable, KernelTable} from '../register_all.ts';
export type {AsyncKernelFunc} from '../../src/ops/run_kernel.ts';

export const webgpuKernelTable: KernelTable = {
  ...webgpuRoiKernels,
  SigmoidFocalLoss: sigmoidFocalLossWebGPU,
  SigmoidFocalLossGrad: sigmoidFocalLossGradWebGPU,
  Nms: nmsWebGPU,
  DeformConv2d: deformConv2dWebGPU,
  DeformConv2dGrad: deformConv2dGradWebGPU,
  MsDeformAttn: msDeformAttnWebGPU,
  MsDeformAttnGrad: msDeformAttnGradWebGPU,
};
/** The async ops (nmsAsync, batchedNmsAsync) await the readback instead of blocking. */
export const webgpuAsyncKernels: AsyncKernelTable = {Nms: nmsAsyncWebGPU};
/** tfjs kernel configs of the table, registered on import. */
export const webgpuKernels = registerKernels('webgpu', webgpuKernelTable, webgpuAsyncKernels);

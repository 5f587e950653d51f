/** The webgpu RoI kernels: the shared kernels of kernels/gpu/roi_kernels.ts on this backend's WGSL programs. */
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {roiKernels} from '../gpu/roi_kernels.ts';
import {runBackendKernel} from './DeformConv2d.ts';
import {PsRoiAlignGradProgram, PsRoiAlignProgram, PsRoiPoolGradProgram, PsRoiPoolProgram} from './ps_roi_webgpu.ts';
import {RoiAlignGradProgram, RoiAlignProgram, RoiAlignWeightsProgram} from './roi_align_webgpu.ts';
import {RoiProgram, runRoiProgram} from './roi_common_wgsl.ts';
import {RoiPoolGradProgram, RoiPoolProgram} from './roi_pool_webgpu.ts';
import {
  RoiAlignReachProgram, RoiPoolReachProgram, TileBoxesProgram, TileCoverProgram, TilePrefixProgram,
} from './roi_tiles_webgpu.ts';
import {zerosWebGPU} from './webgpu_util.ts';

export const webgpuRoiKernels = roiKernels<RoiProgram>({
  programs: {
    RoiAlign: RoiAlignProgram, RoiAlignGrad: RoiAlignGradProgram, RoiPool: RoiPoolProgram,
    RoiPoolGrad: RoiPoolGradProgram, PsRoiAlign: PsRoiAlignProgram, PsRoiAlignGrad: PsRoiAlignGradProgram,
    PsRoiPool: PsRoiPoolProgram, PsRoiPoolGrad: PsRoiPoolGradProgram,
  },
  tiles: {
    RoiAlignWeights: RoiAlignWeightsProgram, RoiAlignReach: RoiAlignReachProgram, RoiPoolReach: RoiPoolReachProgram, TileCover: TileCoverProgram,
    TilePrefix: TilePrefixProgram, TileBoxes: TileBoxesProgram,
  },
  check: () => {},
  run: (backend, ...args) => runRoiProgram(backend as WebGPUBackend, ...args),
  kernel: (backend, ...args) => runBackendKernel(backend as WebGPUBackend, ...args),
  zeros: (backend, shape) => zerosWebGPU(backend as WebGPUBackend, shape),
  dispose: (backend, t) => (backend as WebGPUBackend).disposeData(t.dataId),
});

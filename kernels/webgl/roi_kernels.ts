/** The webgl RoI kernels: the shared kernels of kernels/gpu/roi_kernels.ts on this backend's GLSL programs. */
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {roiKernels} from '../gpu/roi_kernels.ts';
import {PsRoiAlignGradProgram, PsRoiAlignProgram, PsRoiPoolGradProgram, PsRoiPoolProgram} from './ps_roi_gpu.ts';
import {RoiAlignGradProgram, RoiAlignProgram, RoiAlignWeightsProgram} from './roi_align_gpu.ts';
import {RoiProgram, runRoiProgram} from './roi_common_glsl.ts';
import {RoiPoolGradProgram, RoiPoolProgram} from './roi_pool_gpu.ts';
import {
  RoiAlignReachProgram, RoiPoolReachProgram, TileBoxesProgram, TileCoverProgram, TilePrefixProgram,
} from './roi_tiles_gpu.ts';
import {assertWebGL2, runBackendKernel, zerosWebGL} from './webgl_util.ts';

export const webglRoiKernels = roiKernels<RoiProgram>({
  programs: {
    RoiAlign: RoiAlignProgram, RoiAlignGrad: RoiAlignGradProgram, RoiPool: RoiPoolProgram,
    RoiPoolGrad: RoiPoolGradProgram, PsRoiAlign: PsRoiAlignProgram, PsRoiAlignGrad: PsRoiAlignGradProgram,
    PsRoiPool: PsRoiPoolProgram, PsRoiPoolGrad: PsRoiPoolGradProgram,
  },
  tiles: {
    RoiAlignWeights: RoiAlignWeightsProgram, RoiAlignReach: RoiAlignReachProgram, RoiPoolReach: RoiPoolReachProgram, TileCover: TileCoverProgram,
    TilePrefix: TilePrefixProgram, TileBoxes: TileBoxesProgram,
  },
  check: assertWebGL2,
  run: (backend, ...args) => runRoiProgram(backend as MathBackendWebGL, ...args),
  kernel: (backend, ...args) => runBackendKernel(backend as MathBackendWebGL, ...args),
  zeros: (backend, shape) => zerosWebGL(backend as MathBackendWebGL, shape),
  dispose: (backend, t) => (backend as MathBackendWebGL).disposeIntermediateTensorInfo(t),
});

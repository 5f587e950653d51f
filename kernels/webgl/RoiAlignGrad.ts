import {KernelFunc} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {RoiAlignGrad, RoiAlignGradAttrs, RoiAlignGradInputs} from '../../src/kernel_names.ts';
import {roiShape} from '../gpu/uniforms.ts';
import {RoiAlignGradProgram} from './roi_align_gpu.ts';
import {runRoiProgram} from './roi_common_glsl.ts';

/** A gather over RoIs per dx value (see roi_align_gpu.ts): no scatter, no read-back. */
export const roiAlignGradWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, boxes} = inputs as RoiAlignGradInputs;
  const p = attrs as unknown as RoiAlignGradAttrs;
  return runRoiProgram(backend as MathBackendWebGL, RoiAlignGrad, new RoiAlignGradProgram(p.xShape), [dy, boxes], dy,
      {...roiShape(p.xShape, boxes.shape[0]), ...p});
};

import {KernelFunc} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {PsRoiPoolGrad, PsRoiPoolGradAttrs, PsRoiPoolGradInputs} from '../../src/kernel_names.ts';
import {roiShape} from '../gpu/uniforms.ts';
import {PsRoiPoolGradProgram} from './ps_roi_gpu.ts';
import {runRoiProgram} from './roi_common_glsl.ts';

/** A gather: each dx value reads the one bin per RoI its channel maps to. */
export const psRoiPoolGradWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, boxes} = inputs as PsRoiPoolGradInputs;
  const p = attrs as unknown as PsRoiPoolGradAttrs;
  return runRoiProgram(backend as MathBackendWebGL, PsRoiPoolGrad, new PsRoiPoolGradProgram(p.xShape),
      [dy, boxes], dy, {...roiShape(p.xShape, boxes.shape[0]), ...p});
};

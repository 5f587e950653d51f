import {KernelFunc} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {PsRoiAlignGrad, PsRoiAlignGradAttrs, PsRoiAlignGradInputs} from '../../src/kernel_names.ts';
import {roiShape} from '../gpu/uniforms.ts';
import {PsRoiAlignGradProgram} from './ps_roi_gpu.ts';
import {runRoiProgram} from './roi_common_glsl.ts';

/** A gather: each dx value reads the one bin per RoI its channel maps to. */
export const psRoiAlignGradWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, boxes} = inputs as PsRoiAlignGradInputs;
  const p = attrs as unknown as PsRoiAlignGradAttrs;
  return runRoiProgram(backend as MathBackendWebGL, PsRoiAlignGrad, new PsRoiAlignGradProgram(p.xShape),
      [dy, boxes], dy, {...roiShape(p.xShape, boxes.shape[0]), ...p, aligned: true});
};

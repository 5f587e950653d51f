import {KernelFunc} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {RoiAlign, RoiAlignAttrs, RoiAlignInputs} from '../../src/kernel_names.ts';
import {roiShape} from '../gpu/uniforms.ts';
import {RoiAlignProgram} from './roi_align_gpu.ts';
import {runRoiProgram} from './roi_common_glsl.ts';

export const roiAlignWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as RoiAlignInputs;
  const p = attrs as unknown as RoiAlignAttrs;
  const program = new RoiAlignProgram([boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3]]);
  return runRoiProgram(backend as MathBackendWebGL, RoiAlign, program, [x, boxes], x,
      {...roiShape(x.shape, boxes.shape[0]), ...p});
};

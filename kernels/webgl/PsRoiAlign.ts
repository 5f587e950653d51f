import {KernelFunc} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {PsRoiAlign, PsRoiAlignAttrs, PsRoiAlignInputs} from '../../src/kernel_names.ts';
import {roiShape} from '../gpu/uniforms.ts';
import {PsRoiAlignProgram} from './ps_roi_gpu.ts';
import {runRoiProgram} from './roi_common_glsl.ts';

export const psRoiAlignWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as PsRoiAlignInputs;
  const p = attrs as unknown as PsRoiAlignAttrs;
  const bins = p.pooledHeight * p.pooledWidth;
  const program = new PsRoiAlignProgram([boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3] / bins]);
  return runRoiProgram(backend as MathBackendWebGL, PsRoiAlign, program, [x, boxes], x,
      {...roiShape(x.shape, boxes.shape[0]), ...p, aligned: true});
};

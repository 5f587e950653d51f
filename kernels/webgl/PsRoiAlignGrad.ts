import {KernelFunc, util} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {PsRoiAlignGrad, PsRoiAlignGradAttrs, PsRoiAlignGradInputs} from '../../src/kernel_names.ts';
import {PsRoiAlignGradProgram} from './ps_roi_gpu.ts';
import {assertWebGL2, roiAlignUniforms, zerosWebGL} from './RoiAlign.ts';

/** A gather: each dx value reads the one bin per RoI its channel maps to. */
export const psRoiAlignGradWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, boxes} = inputs as PsRoiAlignGradInputs;
  const p = attrs as unknown as PsRoiAlignGradAttrs;
  const webgl = backend as MathBackendWebGL;
  assertWebGL2(PsRoiAlignGrad);
  if (util.sizeFromShape(p.xShape) === 0 || util.sizeFromShape(dy.shape) === 0) return zerosWebGL(webgl, p.xShape);
  return webgl.runWebGLProgram(new PsRoiAlignGradProgram(p.xShape), [dy, boxes], 'float32',
      roiAlignUniforms(p.xShape, boxes.shape[0], {...p, aligned: true}));
};

import {KernelFunc, util} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {PsRoiPoolGrad, PsRoiPoolGradAttrs, PsRoiPoolGradInputs} from '../../src/kernel_names.ts';
import {PsRoiPoolGradProgram} from './ps_roi_gpu.ts';
import {assertWebGL2, zerosWebGL} from './RoiAlign.ts';
import {roiPoolUniforms} from './RoiPool.ts';

/** A gather: each dx value reads the one bin per RoI its channel maps to. */
export const psRoiPoolGradWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, boxes} = inputs as PsRoiPoolGradInputs;
  const p = attrs as unknown as PsRoiPoolGradAttrs;
  const webgl = backend as MathBackendWebGL;
  assertWebGL2(PsRoiPoolGrad);
  if (util.sizeFromShape(p.xShape) === 0 || util.sizeFromShape(dy.shape) === 0) return zerosWebGL(webgl, p.xShape);
  return webgl.runWebGLProgram(new PsRoiPoolGradProgram(p.xShape), [dy, boxes], 'float32',
      roiPoolUniforms(p.xShape, boxes.shape[0], p, false));
};

import {KernelFunc, util} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {RoiAlignGrad, RoiAlignGradAttrs, RoiAlignGradInputs} from '../../src/kernel_names.ts';
import {assertWebGL2, roiAlignUniforms, zerosWebGL} from './RoiAlign.ts';
import {RoiAlignGradProgram} from './roi_align_gpu.ts';

/** A gather over RoIs per dx value (see roi_align_gpu.ts): no scatter, no read-back. */
export const roiAlignGradWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, boxes} = inputs as RoiAlignGradInputs;
  const p = attrs as unknown as RoiAlignGradAttrs;
  const webgl = backend as MathBackendWebGL;
  assertWebGL2(RoiAlignGrad);
  if (util.sizeFromShape(p.xShape) === 0 || util.sizeFromShape(dy.shape) === 0) {
    return zerosWebGL(webgl, p.xShape);
  }
  return webgl.runWebGLProgram(
      new RoiAlignGradProgram(p.xShape), [dy, boxes], 'float32',
      roiAlignUniforms(p.xShape, boxes.shape[0], p));
};

import {KernelFunc, util} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {PsRoiPool, PsRoiPoolAttrs, PsRoiPoolInputs} from '../../src/kernel_names.ts';
import {PsRoiPoolProgram} from './ps_roi_gpu.ts';
import {assertWebGL2, zerosWebGL} from './RoiAlign.ts';
import {roiPoolUniforms} from './RoiPool.ts';

export const psRoiPoolWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as PsRoiPoolInputs;
  const p = attrs as unknown as PsRoiPoolAttrs;
  const webgl = backend as MathBackendWebGL;
  assertWebGL2(PsRoiPool);
  const outShape = [boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3] / (p.pooledHeight * p.pooledWidth)];
  if (util.sizeFromShape(outShape) === 0 || util.sizeFromShape(x.shape) === 0) return zerosWebGL(webgl, outShape);
  return webgl.runWebGLProgram(new PsRoiPoolProgram(outShape), [x, boxes], 'float32',
      roiPoolUniforms(x.shape, boxes.shape[0], p, false));
};

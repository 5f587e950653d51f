import {KernelFunc, util} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {RoiPoolGrad, RoiPoolGradAttrs, RoiPoolGradInputs} from '../../src/kernel_names.ts';
import {assertWebGL2, zerosWebGL} from './RoiAlign.ts';
import {roiPoolUniforms, runRoiPoolWebGL} from './RoiPool.ts';
import {RoiPoolGradProgram} from './roi_pool_gpu.ts';

/** Two programs on the GPU: each bin's argmax, then a gather of dy per dx value. */
export const roiPoolGradWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, x, boxes} = inputs as RoiPoolGradInputs;
  const p = attrs as unknown as RoiPoolGradAttrs;
  const webgl = backend as MathBackendWebGL;
  assertWebGL2(RoiPoolGrad);
  if (util.sizeFromShape(x.shape) === 0 || util.sizeFromShape(dy.shape) === 0) return zerosWebGL(webgl, x.shape);
  const arg = runRoiPoolWebGL(webgl, x, boxes, p, true);
  const dx = webgl.runWebGLProgram(
      new RoiPoolGradProgram(x.shape), [dy, arg, boxes], 'float32', roiPoolUniforms(x.shape, boxes.shape[0], p, false));
  webgl.disposeIntermediateTensorInfo(arg);
  return dx;
};

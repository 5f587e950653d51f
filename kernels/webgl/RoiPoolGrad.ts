import {KernelFunc, util} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {RoiPoolGrad, RoiPoolGradAttrs, RoiPoolGradInputs} from '../../src/kernel_names.ts';
import {roiShape} from '../gpu/uniforms.ts';
import {runRoiProgram} from './roi_common_glsl.ts';
import {RoiPoolGradProgram} from './roi_pool_gpu.ts';
import {runRoiPoolWebGL} from './RoiPool.ts';
import {zerosWebGL} from './webgl_util.ts';

/** Two programs on the GPU: each bin's argmax, then a gather of dy per dx value. */
export const roiPoolGradWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, x, boxes} = inputs as RoiPoolGradInputs;
  const p = attrs as unknown as RoiPoolGradAttrs;
  const webgl = backend as MathBackendWebGL;
  if (util.sizeFromShape(x.shape) === 0 || util.sizeFromShape(dy.shape) === 0) return zerosWebGL(webgl, x.shape);
  const arg = runRoiPoolWebGL(webgl, RoiPoolGrad, x, boxes, p, true);
  const dx = runRoiProgram(webgl, RoiPoolGrad, new RoiPoolGradProgram(x.shape), [dy, arg, boxes], dy,
      {...roiShape(x.shape, boxes.shape[0]), ...p, argmaxOut: false});
  webgl.disposeIntermediateTensorInfo(arg);
  return dx;
};

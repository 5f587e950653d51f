import {KernelFunc, util} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {RoiPoolGrad, RoiPoolGradAttrs, RoiPoolGradInputs} from '../../src/kernel_names.ts';
import {roiShape} from '../gpu/uniforms.ts';
import {runRoiProgram} from './roi_common_wgsl.ts';
import {RoiPoolGradProgram} from './roi_pool_webgpu.ts';
import {runRoiPoolWebGPU} from './RoiPool.ts';
import {zerosWebGPU} from './webgpu_util.ts';

/** Two programs on the GPU: each bin's argmax, then a gather of dy per dx value. */
export const roiPoolGradWebGPU: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, x, boxes} = inputs as RoiPoolGradInputs;
  const p = attrs as unknown as RoiPoolGradAttrs;
  const webgpu = backend as WebGPUBackend;
  if (util.sizeFromShape(x.shape) === 0 || util.sizeFromShape(dy.shape) === 0) return zerosWebGPU(webgpu, x.shape);
  const arg = runRoiPoolWebGPU(webgpu, RoiPoolGrad, x, boxes, p, true);
  const dx = runRoiProgram(webgpu, RoiPoolGrad, new RoiPoolGradProgram(x.shape), [dy, arg, boxes], dy,
      {...roiShape(x.shape, boxes.shape[0]), ...p, argmaxOut: false});
  webgpu.disposeData(arg.dataId);
  return dx;
};

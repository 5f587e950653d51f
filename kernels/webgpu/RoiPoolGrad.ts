import {KernelFunc, util} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {RoiPoolGradAttrs, RoiPoolGradInputs} from '../../src/kernel_names.ts';
import {zerosWebGPU} from './RoiAlign.ts';
import {roiPoolUniforms, runRoiPoolWebGPU} from './RoiPool.ts';
import {RoiPoolGradProgram} from './roi_pool_webgpu.ts';

/** Two programs on the GPU: each bin's argmax, then a gather of dy per dx value. */
export const roiPoolGradWebGPU: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, x, boxes} = inputs as RoiPoolGradInputs;
  const p = attrs as unknown as RoiPoolGradAttrs;
  const webgpu = backend as WebGPUBackend;
  if (util.sizeFromShape(x.shape) === 0 || util.sizeFromShape(dy.shape) === 0) return zerosWebGPU(webgpu, x.shape);
  const arg = runRoiPoolWebGPU(webgpu, x, boxes, p, true);
  const dx = webgpu.runWebGPUProgram(
      new RoiPoolGradProgram(x.shape), [dy, arg, boxes], 'float32', roiPoolUniforms(x.shape, boxes.shape[0], p, false));
  webgpu.disposeData(arg.dataId);
  return dx;
};

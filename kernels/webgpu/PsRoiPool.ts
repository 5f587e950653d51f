import {KernelFunc, util} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {PsRoiPoolAttrs, PsRoiPoolInputs} from '../../src/kernel_names.ts';
import {PsRoiPoolProgram} from './ps_roi_webgpu.ts';
import {zerosWebGPU} from './RoiAlign.ts';
import {roiPoolUniforms} from './RoiPool.ts';

export const psRoiPoolWebGPU: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as PsRoiPoolInputs;
  const p = attrs as unknown as PsRoiPoolAttrs;
  const webgpu = backend as WebGPUBackend;
  const outShape = [boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3] / (p.pooledHeight * p.pooledWidth)];
  if (util.sizeFromShape(outShape) === 0 || util.sizeFromShape(x.shape) === 0) return zerosWebGPU(webgpu, outShape);
  return webgpu.runWebGPUProgram(new PsRoiPoolProgram(outShape), [x, boxes], 'float32',
      roiPoolUniforms(x.shape, boxes.shape[0], p, false));
};

import {KernelFunc, util} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {PsRoiPoolGradAttrs, PsRoiPoolGradInputs} from '../../src/kernel_names.ts';
import {PsRoiPoolGradProgram} from './ps_roi_webgpu.ts';
import {zerosWebGPU} from './RoiAlign.ts';
import {roiPoolUniforms} from './RoiPool.ts';

/** A gather: each dx value reads the one bin per RoI its channel maps to. */
export const psRoiPoolGradWebGPU: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, boxes} = inputs as PsRoiPoolGradInputs;
  const p = attrs as unknown as PsRoiPoolGradAttrs;
  const webgpu = backend as WebGPUBackend;
  if (util.sizeFromShape(p.xShape) === 0 || util.sizeFromShape(dy.shape) === 0) return zerosWebGPU(webgpu, p.xShape);
  return webgpu.runWebGPUProgram(new PsRoiPoolGradProgram(p.xShape), [dy, boxes], 'float32',
      roiPoolUniforms(p.xShape, boxes.shape[0], p, false));
};

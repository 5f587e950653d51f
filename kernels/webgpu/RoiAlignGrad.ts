import {KernelFunc, util} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {RoiAlignGradAttrs, RoiAlignGradInputs} from '../../src/kernel_names.ts';
import {roiAlignUniforms, zerosWebGPU} from './RoiAlign.ts';
import {RoiAlignGradProgram} from './roi_align_webgpu.ts';

/** A gather over RoIs per dx value (see roi_align_webgpu.ts): no atomics, no read-back. */
export const roiAlignGradWebGPU: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, boxes} = inputs as RoiAlignGradInputs;
  const p = attrs as unknown as RoiAlignGradAttrs;
  const webgpu = backend as WebGPUBackend;
  if (util.sizeFromShape(p.xShape) === 0 || util.sizeFromShape(dy.shape) === 0) {
    return zerosWebGPU(webgpu, p.xShape);
  }
  return webgpu.runWebGPUProgram(
      new RoiAlignGradProgram(p.xShape), [dy, boxes], 'float32',
      roiAlignUniforms(p.xShape, boxes.shape[0], p));
};

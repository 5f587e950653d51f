import {KernelFunc, util} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {PsRoiAlignGradAttrs, PsRoiAlignGradInputs} from '../../src/kernel_names.ts';
import {PsRoiAlignGradProgram} from './ps_roi_webgpu.ts';
import {roiAlignUniforms, zerosWebGPU} from './RoiAlign.ts';

/** A gather: each dx value reads the one bin per RoI its channel maps to. */
export const psRoiAlignGradWebGPU: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, boxes} = inputs as PsRoiAlignGradInputs;
  const p = attrs as unknown as PsRoiAlignGradAttrs;
  const webgpu = backend as WebGPUBackend;
  if (util.sizeFromShape(p.xShape) === 0 || util.sizeFromShape(dy.shape) === 0) return zerosWebGPU(webgpu, p.xShape);
  return webgpu.runWebGPUProgram(new PsRoiAlignGradProgram(p.xShape), [dy, boxes], 'float32',
      roiAlignUniforms(p.xShape, boxes.shape[0], {...p, aligned: true}));
};

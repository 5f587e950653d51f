import {KernelFunc} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {PsRoiAlignGrad, PsRoiAlignGradAttrs, PsRoiAlignGradInputs} from '../../src/kernel_names.ts';
import {roiShape} from '../gpu/uniforms.ts';
import {PsRoiAlignGradProgram} from './ps_roi_webgpu.ts';
import {runRoiProgram} from './roi_common_wgsl.ts';

/** A gather: each dx value reads the one bin per RoI its channel maps to. */
export const psRoiAlignGradWebGPU: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, boxes} = inputs as PsRoiAlignGradInputs;
  const p = attrs as unknown as PsRoiAlignGradAttrs;
  return runRoiProgram(backend as WebGPUBackend, PsRoiAlignGrad, new PsRoiAlignGradProgram(p.xShape),
      [dy, boxes], dy, {...roiShape(p.xShape, boxes.shape[0]), ...p, aligned: true});
};

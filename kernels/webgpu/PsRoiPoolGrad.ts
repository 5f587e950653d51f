import {KernelFunc} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {PsRoiPoolGrad, PsRoiPoolGradAttrs, PsRoiPoolGradInputs} from '../../src/kernel_names.ts';
import {roiShape} from '../gpu/uniforms.ts';
import {PsRoiPoolGradProgram} from './ps_roi_webgpu.ts';
import {runRoiProgram} from './roi_common_wgsl.ts';

/** A gather: each dx value reads the one bin per RoI its channel maps to. */
export const psRoiPoolGradWebGPU: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, boxes} = inputs as PsRoiPoolGradInputs;
  const p = attrs as unknown as PsRoiPoolGradAttrs;
  return runRoiProgram(backend as WebGPUBackend, PsRoiPoolGrad, new PsRoiPoolGradProgram(p.xShape),
      [dy, boxes], dy, {...roiShape(p.xShape, boxes.shape[0]), ...p});
};

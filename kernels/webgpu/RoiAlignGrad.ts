import {KernelFunc} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {RoiAlignGrad, RoiAlignGradAttrs, RoiAlignGradInputs} from '../../src/kernel_names.ts';
import {roiShape} from '../gpu/uniforms.ts';
import {RoiAlignGradProgram} from './roi_align_webgpu.ts';
import {runRoiProgram} from './roi_common_wgsl.ts';

/** A gather over RoIs per dx value (see roi_align_webgpu.ts): no scatter, no read-back. */
export const roiAlignGradWebGPU: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, boxes} = inputs as RoiAlignGradInputs;
  const p = attrs as unknown as RoiAlignGradAttrs;
  return runRoiProgram(backend as WebGPUBackend, RoiAlignGrad, new RoiAlignGradProgram(p.xShape), [dy, boxes], dy,
      {...roiShape(p.xShape, boxes.shape[0]), ...p});
};

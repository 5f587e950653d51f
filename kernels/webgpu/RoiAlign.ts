import {KernelFunc} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {RoiAlign, RoiAlignAttrs, RoiAlignInputs} from '../../src/kernel_names.ts';
import {roiShape} from '../gpu/uniforms.ts';
import {RoiAlignProgram} from './roi_align_webgpu.ts';
import {runRoiProgram} from './roi_common_wgsl.ts';

export const roiAlignWebGPU: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as RoiAlignInputs;
  const p = attrs as unknown as RoiAlignAttrs;
  const program = new RoiAlignProgram([boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3]]);
  return runRoiProgram(backend as WebGPUBackend, RoiAlign, program, [x, boxes], x,
      {...roiShape(x.shape, boxes.shape[0]), ...p});
};

import {KernelFunc} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {PsRoiPool, PsRoiPoolAttrs, PsRoiPoolInputs} from '../../src/kernel_names.ts';
import {roiShape} from '../gpu/uniforms.ts';
import {PsRoiPoolProgram} from './ps_roi_webgpu.ts';
import {runRoiProgram} from './roi_common_wgsl.ts';

export const psRoiPoolWebGPU: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as PsRoiPoolInputs;
  const p = attrs as unknown as PsRoiPoolAttrs;
  const bins = p.pooledHeight * p.pooledWidth;
  const program = new PsRoiPoolProgram([boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3] / bins]);
  return runRoiProgram(backend as WebGPUBackend, PsRoiPool, program, [x, boxes], x,
      {...roiShape(x.shape, boxes.shape[0]), ...p});
};

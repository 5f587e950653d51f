import {KernelFunc} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {PsRoiAlign, PsRoiAlignAttrs, PsRoiAlignInputs} from '../../src/kernel_names.ts';
import {roiShape} from '../gpu/uniforms.ts';
import {PsRoiAlignProgram} from './ps_roi_webgpu.ts';
import {runRoiProgram} from './roi_common_wgsl.ts';

export const psRoiAlignWebGPU: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as PsRoiAlignInputs;
  const p = attrs as unknown as PsRoiAlignAttrs;
  const bins = p.pooledHeight * p.pooledWidth;
  const program = new PsRoiAlignProgram([boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3] / bins]);
  return runRoiProgram(backend as WebGPUBackend, PsRoiAlign, program, [x, boxes], x,
      {...roiShape(x.shape, boxes.shape[0]), ...p, aligned: true});
};

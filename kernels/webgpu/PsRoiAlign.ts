import {KernelFunc, util} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {PsRoiAlignAttrs, PsRoiAlignInputs} from '../../src/kernel_names.ts';
import {PsRoiAlignProgram} from './ps_roi_webgpu.ts';
import {roiAlignUniforms, zerosWebGPU} from './RoiAlign.ts';

export const psRoiAlignWebGPU: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as PsRoiAlignInputs;
  const p = attrs as unknown as PsRoiAlignAttrs;
  const webgpu = backend as WebGPUBackend;
  const outShape = [boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3] / (p.pooledHeight * p.pooledWidth)];
  if (util.sizeFromShape(outShape) === 0 || util.sizeFromShape(x.shape) === 0) return zerosWebGPU(webgpu, outShape);
  return webgpu.runWebGPUProgram(new PsRoiAlignProgram(outShape), [x, boxes], 'float32',
      roiAlignUniforms(x.shape, boxes.shape[0], {...p, aligned: true}));
};

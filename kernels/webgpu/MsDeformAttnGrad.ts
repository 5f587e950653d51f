import {KernelFunc, Reshape, Slice, TensorInfo, util} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {MsDeformAttnGradInputs} from '../../src/kernel_names.ts';
import {msDeformAttnGeometry} from '../reference/ms_deform_attn.ts';
import {runBackendKernel} from './DeformConv2d.ts';
import {msDeformAttnValueGradWebGPU} from './ms_deform_attn_value_grad.ts';
import {MsDeformAttnSampleGradProgram, msDeformUniforms} from './ms_deform_attn_webgpu.ts';
import {sampleCount} from './MsDeformAttn.ts';
import {zerosWebGPU} from './webgpu_util.ts';

/**
 * [dValue, dSamplingLocations, dAttentionWeights]: the sample gradients by
 * one gather over the channels per sample, dValue by
 * ms_deform_attn_value_grad.ts.
 */
export const msDeformAttnGradWebGPU: KernelFunc = ({inputs, backend}) => {
  const webgpu = backend as WebGPUBackend;
  const gradInputs = inputs as MsDeformAttnGradInputs;
  const {dy, value, spatialShapes, levelStartIndex, samplingLocations, attentionWeights} = gradInputs;
  const g = msDeformAttnGeometry(value.shape, samplingLocations.shape);
  const n = sampleCount(g);
  if (util.sizeFromShape(dy.shape) === 0 || n === 0) {
    return [value, samplingLocations, attentionWeights].map(t => zerosWebGPU(webgpu, t.shape));
  }
  const hasValue = util.sizeFromShape(value.shape) > 0;
  const rows = webgpu.runWebGPUProgram(new MsDeformAttnSampleGradProgram(n, hasValue), [dy,
    ...(hasValue ? [value] : []), spatialShapes, levelStartIndex, samplingLocations, attentionWeights], 'float32',
  msDeformUniforms(g));
  // Columns x, y and the attention gradient of the [N, 3] rows, in their input's shape.
  const columns = (begin: number, size: number, like: TensorInfo) => {
    const part = runBackendKernel(webgpu, Slice, {x: rows}, {begin: [0, begin], size: [n, size]});
    const out = runBackendKernel(webgpu, Reshape, {x: part}, {shape: like.shape});
    webgpu.disposeData(part.dataId);
    return out;
  };
  const dLocations = columns(0, 2, samplingLocations);
  const dWeights = columns(2, 1, attentionWeights);
  webgpu.disposeData(rows.dataId);
  const dValue = hasValue ? msDeformAttnValueGradWebGPU(webgpu, gradInputs, g) : zerosWebGPU(webgpu, value.shape);
  return [dValue, dLocations, dWeights];
};

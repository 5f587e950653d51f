import {KernelFunc, Reshape, TensorInfo, util} from '@tensorflow/tfjs-core';
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
 * one gather shader over the channels (run once per output), dValue by
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
  const all = [dy, ...(hasValue ? [value] : []), spatialShapes, levelStartIndex, samplingLocations, attentionWeights];
  const sampleGrad = (gradOfAttention: boolean, like: TensorInfo) => {
    const flat = webgpu.runWebGPUProgram(new MsDeformAttnSampleGradProgram([n, gradOfAttention ? 1 : 2], hasValue),
        all, 'float32', msDeformUniforms(g, gradOfAttention));
    const out = runBackendKernel(webgpu, Reshape, {x: flat}, {shape: like.shape});
    webgpu.disposeData(flat.dataId);
    return out;
  };
  const dLocations = sampleGrad(false, samplingLocations);
  const dWeights = sampleGrad(true, attentionWeights);
  const dValue = hasValue ? msDeformAttnValueGradWebGPU(webgpu, gradInputs, g) : zerosWebGPU(webgpu, value.shape);
  return [dValue, dLocations, dWeights];
};

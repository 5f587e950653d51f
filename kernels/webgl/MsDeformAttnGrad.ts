import {KernelFunc, Reshape, TensorInfo, util} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {MsDeformAttnGrad, MsDeformAttnGradInputs} from '../../src/kernel_names.ts';
import {msDeformAttnGeometry} from '../reference/ms_deform_attn.ts';
import {MsDeformAttnSampleGradProgram, msDeformUniforms} from './ms_deform_attn_gpu.ts';
import {msDeformAttnValueGradWebGL} from './ms_deform_attn_value_grad.ts';
import {sampleCount, sampleInputs} from './MsDeformAttn.ts';
import {assertWebGL2, disposeAll, runBackendKernel, zerosWebGL} from './webgl_util.ts';

/**
 * [dValue, dSamplingLocations, dAttentionWeights]: the sample gradients by
 * one gather shader over the channels (run once per output), dValue by
 * ms_deform_attn_value_grad.ts.
 */
export const msDeformAttnGradWebGL: KernelFunc = ({inputs, backend}) => {
  const webgl = backend as MathBackendWebGL;
  const gradInputs = inputs as MsDeformAttnGradInputs;
  const {dy, value, samplingLocations, attentionWeights} = gradInputs;
  assertWebGL2(MsDeformAttnGrad);
  const g = msDeformAttnGeometry(value.shape, samplingLocations.shape);
  const n = sampleCount(g);
  if (util.sizeFromShape(dy.shape) === 0 || n === 0) {
    return [value, samplingLocations, attentionWeights].map(t => zerosWebGL(webgl, t.shape));
  }
  const hasValue = util.sizeFromShape(value.shape) > 0;
  const dyRows = runBackendKernel(webgl, Reshape, {x: dy}, {shape: [g.batch * g.queries * g.heads, g.channels]});
  const {programInputs, views} = sampleInputs(webgl, gradInputs, g);
  const all = [dyRows, ...(hasValue ? [value] : []), ...programInputs];
  const sampleGrad = (gradOfAttention: boolean, like: TensorInfo) => {
    const flat = webgl.runWebGLProgram(new MsDeformAttnSampleGradProgram([n, gradOfAttention ? 1 : 2], hasValue), all,
        'float32', msDeformUniforms(g, gradOfAttention));
    const out = runBackendKernel(webgl, Reshape, {x: flat}, {shape: like.shape});
    webgl.disposeIntermediateTensorInfo(flat);
    return out;
  };
  const dLocations = sampleGrad(false, samplingLocations);
  const dWeights = sampleGrad(true, attentionWeights);
  disposeAll(webgl, [dyRows, ...views]);
  const dValue = hasValue ? msDeformAttnValueGradWebGL(webgl, gradInputs, g) : zerosWebGL(webgl, value.shape);
  return [dValue, dLocations, dWeights];
};

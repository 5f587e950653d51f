import {KernelFunc, Reshape, Slice, TensorInfo, util} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {MsDeformAttnGrad, MsDeformAttnGradInputs} from '../../src/kernel_names.ts';
import {msDeformAttnGeometry} from '../reference/ms_deform_attn.ts';
import {MsDeformAttnSampleGradProgram, msDeformUniforms} from './ms_deform_attn_gpu.ts';
import {msDeformAttnValueGradWebGL} from './ms_deform_attn_value_grad.ts';
import {sampleCount, sampleInputs} from './MsDeformAttn.ts';
import {assertWebGL2, disposeAll, runBackendKernel, zerosWebGL} from './webgl_util.ts';

/**
 * [dValue, dSamplingLocations, dAttentionWeights]: the sample gradients by
 * one gather over the channels per sample, dValue by
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
  const packed = webgl.runWebGLProgram(new MsDeformAttnSampleGradProgram(n, hasValue),
      [dyRows, ...(hasValue ? [value] : []), ...programInputs], 'float32', msDeformUniforms(g), true);
  const unpacked = webgl.unpackTensor(packed);
  const rows = runBackendKernel(webgl, Reshape, {x: unpacked}, {shape: [n, 4]});
  // Columns x, y and the attention gradient of the [N, 4] rows, in their input's shape.
  const columns = (begin: number, size: number, like: TensorInfo) => {
    const part = runBackendKernel(webgl, Slice, {x: rows}, {begin: [0, begin], size: [n, size]});
    const out = runBackendKernel(webgl, Reshape, {x: part}, {shape: like.shape});
    webgl.disposeIntermediateTensorInfo(part);
    return out;
  };
  const dLocations = columns(0, 2, samplingLocations);
  const dWeights = columns(2, 1, attentionWeights);
  disposeAll(webgl, [dyRows, ...views, packed, unpacked, rows]);
  const dValue = hasValue ? msDeformAttnValueGradWebGL(webgl, gradInputs, g) : zerosWebGL(webgl, value.shape);
  return [dValue, dLocations, dWeights];
};

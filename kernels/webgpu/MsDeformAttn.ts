import {KernelFunc, util} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {MsDeformAttnInputs} from '../../src/kernel_names.ts';
import {msDeformAttnGeometry, MsDeformAttnGeometry} from '../reference/ms_deform_attn.ts';
import {MsDeformAttnProgram, msDeformUniforms} from './ms_deform_attn_webgpu.ts';
import {zerosWebGPU} from './webgpu_util.ts';

/** Samples of the geometry: N = B Q M L P. */
export function sampleCount(g: MsDeformAttnGeometry) {
  return g.batch * g.queries * g.heads * g.levels * g.points;
}

/** One gather program: each output value sums its L P samples. */
export const msDeformAttnWebGPU: KernelFunc = ({inputs, backend}) => {
  const webgpu = backend as WebGPUBackend;
  const {value, spatialShapes, levelStartIndex, samplingLocations, attentionWeights} = inputs as MsDeformAttnInputs;
  const g = msDeformAttnGeometry(value.shape, samplingLocations.shape);
  const outShape = [g.batch, g.queries, g.heads, g.channels];
  if (util.sizeFromShape(outShape) === 0 || sampleCount(g) === 0) return zerosWebGPU(webgpu, outShape);
  const hasValue = util.sizeFromShape(value.shape) > 0;
  return webgpu.runWebGPUProgram(new MsDeformAttnProgram(outShape, hasValue),
      [...(hasValue ? [value] : []), spatialShapes, levelStartIndex, samplingLocations, attentionWeights], 'float32',
      msDeformUniforms(g));
};

import {KernelFunc, util} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {MsDeformAttnInputs} from '../../src/kernel_names.ts';
import {msDeformAttnGeometry, MsDeformAttnGeometry} from '../reference/ms_deform_attn.ts';
import {CornerBitsProgram, MsDeformAttnProgram, msDeformUniforms} from './ms_deform_attn_webgpu.ts';
import {zerosWebGPU} from './webgpu_util.ts';

/** Samples of the geometry: N = B Q M L P. */
export function sampleCount(g: MsDeformAttnGeometry) {
  return g.batch * g.queries * g.heads * g.levels * g.points;
}

/** Two programs: which corners of each sample read, then a gather of 4 channels per invocation. */
export const msDeformAttnWebGPU: KernelFunc = ({inputs, backend}) => {
  const webgpu = backend as WebGPUBackend;
  const {value, spatialShapes, levelStartIndex, samplingLocations, attentionWeights} = inputs as MsDeformAttnInputs;
  const g = msDeformAttnGeometry(value.shape, samplingLocations.shape);
  const outShape = [g.batch, g.queries, g.heads, g.channels];
  if (util.sizeFromShape(outShape) === 0 || sampleCount(g) === 0) return zerosWebGPU(webgpu, outShape);
  const hasValue = util.sizeFromShape(value.shape) > 0;
  const uniforms = msDeformUniforms(g);
  const bits = webgpu.runWebGPUProgram(new CornerBitsProgram(sampleCount(g)),
      [spatialShapes, levelStartIndex, samplingLocations], 'float32', uniforms);
  const out = webgpu.runWebGPUProgram(new MsDeformAttnProgram(g, hasValue), [...(hasValue ? [value] : []),
    spatialShapes, levelStartIndex, samplingLocations, attentionWeights, bits], 'float32', uniforms);
  webgpu.disposeData(bits.dataId);
  return out;
};

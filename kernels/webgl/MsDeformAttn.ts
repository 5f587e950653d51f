import {KernelFunc, Reshape, TensorInfo, util} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {MsDeformAttn, MsDeformAttnInputs} from '../../src/kernel_names.ts';
import {msDeformAttnGeometry, MsDeformAttnGeometry} from '../reference/ms_deform_attn.ts';
import {CornerBitsProgram, MsDeformAttnProgram, msDeformUniforms} from './ms_deform_attn_gpu.ts';
import {assertWebGL2, disposeAll, runBackendKernel, zerosWebGL} from './webgl_util.ts';

/** Samples of the geometry: N = B Q M L P. */
export function sampleCount(g: MsDeformAttnGeometry) {
  return g.batch * g.queries * g.heads * g.levels * g.points;
}

/**
 * The inputs of the programs of ms_deform_attn_gpu.ts after [Value] (when
 * not empty): the tables, SamplingLocations as [N, 2] and AttentionWeights as
 * [N] (rank-5 and -6 getters would bake the shapes into the shader); the
 * caller disposes `views`.
 */
export function sampleInputs(
    webgl: MathBackendWebGL, inputs: Omit<MsDeformAttnInputs, 'value'>, g: MsDeformAttnGeometry):
    {programInputs: TensorInfo[], views: TensorInfo[]} {
  const n = sampleCount(g);
  const locations = runBackendKernel(webgl, Reshape, {x: inputs.samplingLocations}, {shape: [n, 2]});
  const weights = runBackendKernel(webgl, Reshape, {x: inputs.attentionWeights}, {shape: [n]});
  return {programInputs: [inputs.spatialShapes, inputs.levelStartIndex, locations, weights],
    views: [locations, weights]};
}

/** Two programs: which corners of each sample read, then a gather of 4 channels per invocation. */
export const msDeformAttnWebGL: KernelFunc = ({inputs, backend}) => {
  const webgl = backend as MathBackendWebGL;
  const attnInputs = inputs as MsDeformAttnInputs;
  const {value, samplingLocations} = attnInputs;
  assertWebGL2(MsDeformAttn);
  const g = msDeformAttnGeometry(value.shape, samplingLocations.shape);
  const outShape = [g.batch, g.queries, g.heads, g.channels];
  if (util.sizeFromShape(outShape) === 0 || sampleCount(g) === 0) return zerosWebGL(webgl, outShape);
  const hasValue = util.sizeFromShape(value.shape) > 0;
  const uniforms = msDeformUniforms(g);
  const {programInputs, views} = sampleInputs(webgl, attnInputs, g);
  const bits = webgl.runWebGLProgram(new CornerBitsProgram(sampleCount(g)), programInputs.slice(0, 3), 'float32',
      uniforms);
  const packed = webgl.runWebGLProgram(new MsDeformAttnProgram(g, hasValue),
      [...(hasValue ? [value] : []), ...programInputs, bits], 'float32', uniforms, true);
  // Unpacked at once: the op's reshape and a readback are then free.
  const unpacked = webgl.unpackTensor(packed);
  const out = runBackendKernel(webgl, Reshape, {x: unpacked}, {shape: outShape});
  disposeAll(webgl, [...views, bits, packed, unpacked]);
  return out;
};

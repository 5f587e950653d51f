import {TensorInfo, util} from '@tensorflow/tfjs-core';
import {MsDeformAttn, MsDeformAttnInputs} from '../../src/kernel_names.ts';
import {MsDeformAttnGeometry, msDeformAttnGeometry} from '../reference/ms_deform_attn.ts';
import {assertFloat32, int32Fields, ModuleKernel, ModuleRunner} from './call.ts';

/**
 * Checks dtypes and shapes (the module reads the level tables by L and trusts
 * every extent) and returns the geometry.
 */
export function msDeformAttnModuleGeometry(run: ModuleRunner, kernel: string, inputs: MsDeformAttnInputs):
    MsDeformAttnGeometry {
  const {value, spatialShapes, levelStartIndex, samplingLocations, attentionWeights} = inputs;
  for (const [name, t] of Object.entries({value, samplingLocations, attentionWeights})) assertFloat32(run, kernel, name, t);
  for (const [name, t] of Object.entries({spatialShapes, levelStartIndex})) {
    if (t.dtype !== 'int32') throw new Error(`${kernel} (${run.backendName}): '${name}' must be int32, got ${t.dtype}`);
  }
  util.assert(value.shape.length === 4, () => `${kernel} (${run.backendName}): 'value' must have rank 4, got [${value.shape}]`);
  const g = msDeformAttnGeometry(value.shape, samplingLocations.shape);
  const {batch, heads, queries, levels, points} = g;
  const locationShape = [batch, queries, heads, levels, points, 2];
  const expected: Array<[string, TensorInfo, number[]]> = [['samplingLocations', samplingLocations, locationShape],
    ['attentionWeights', attentionWeights, locationShape.slice(0, 5)], ['spatialShapes', spatialShapes, [levels, 2]],
    ['levelStartIndex', levelStartIndex, [levels]]];
  for (const [name, t, shape] of expected) {
    util.assert(util.arraysEqual(t.shape, shape),
        () => `${kernel} (${run.backendName}): '${name}' must have shape [${shape}], got [${t.shape}]`);
  }
  return g;
}

/** The module's trailing int arguments, in its order. */
export function msDeformAttnArgs(kernel: string, g: MsDeformAttnGeometry): number[] {
  const {batch, spatialSize, heads, channels, queries, levels, points} = g;
  return int32Fields(kernel, {batch, spatialSize, heads, channels, queries, levels, points});
}

/** One pass over the samples, f32x4 over channels (kernels/c/ms_deform_attn.c). */
export const msDeformAttnModule: ModuleKernel = (run, {inputs}) => {
  const t = inputs as MsDeformAttnInputs;
  const g = msDeformAttnModuleGeometry(run, MsDeformAttn, t);
  const outShape = [g.batch, g.queries, g.heads, g.channels];
  if (util.sizeFromShape(outShape) === 0) return run.zeros(outShape, 'float32');
  return run.run({
    fn: 'ms_deform_attn',
    args: [{input: t.value}, {input: t.spatialShapes}, {input: t.levelStartIndex}, {input: t.samplingLocations},
      {input: t.attentionWeights}, {output: 0}, ...msDeformAttnArgs(MsDeformAttn, g)],
    outputs: [{shape: outShape, dtype: 'float32', what: 'ms_deform_attn output'}],
  }).outputs[0];
};

import {KernelFunc, TensorInfo, util} from '@tensorflow/tfjs-core';
import {MsDeformAttn, MsDeformAttnInputs} from '../../src/kernel_names.ts';
import {MsDeformAttnGeometry, msDeformAttnGeometry} from '../reference/ms_deform_attn.ts';
import {dataOffset} from './DeformConv2d.ts';
import {allocOutput, assertFloat32, int32Fields, visionOpsWasm, WasmBackendLike} from './module.ts';

/**
 * Checks dtypes and shapes (the module reads the level tables by L and trusts
 * every extent) and returns the geometry.
 */
export function msDeformAttnWasmGeometry(kernel: string, inputs: MsDeformAttnInputs): MsDeformAttnGeometry {
  const {value, spatialShapes, levelStartIndex, samplingLocations, attentionWeights} = inputs;
  for (const [name, t] of Object.entries({value, samplingLocations, attentionWeights})) assertFloat32(kernel, name, t);
  for (const [name, t] of Object.entries({spatialShapes, levelStartIndex})) {
    if (t.dtype !== 'int32') throw new Error(`${kernel} (wasm): '${name}' must be int32, got ${t.dtype}`);
  }
  util.assert(value.shape.length === 4, () => `${kernel} (wasm): 'value' must have rank 4, got [${value.shape}]`);
  const g = msDeformAttnGeometry(value.shape, samplingLocations.shape);
  const {batch, heads, queries, levels, points} = g;
  const locationShape = [batch, queries, heads, levels, points, 2];
  const expected: Array<[string, TensorInfo, number[]]> = [['samplingLocations', samplingLocations, locationShape],
    ['attentionWeights', attentionWeights, locationShape.slice(0, 5)], ['spatialShapes', spatialShapes, [levels, 2]],
    ['levelStartIndex', levelStartIndex, [levels]]];
  for (const [name, t, shape] of expected) {
    util.assert(util.arraysEqual(t.shape, shape),
        () => `${kernel} (wasm): '${name}' must have shape [${shape}], got [${t.shape}]`);
  }
  return g;
}

/** The module's trailing int arguments, in its order. */
export function msDeformAttnArgs(kernel: string, g: MsDeformAttnGeometry): number[] {
  const {batch, spatialSize, heads, channels, queries, levels, points} = g;
  return int32Fields(kernel, {batch, spatialSize, heads, channels, queries, levels, points});
}

/** Zero copy: one pass over the samples, f32x4 over channels (assembly/ms_deform_attn.ts). */
export const msDeformAttnWasm: KernelFunc = ({inputs, backend}) => {
  const b = backend as unknown as WasmBackendLike;
  const t = inputs as MsDeformAttnInputs;
  const g = msDeformAttnWasmGeometry(MsDeformAttn, t);
  const outShape = [g.batch, g.queries, g.heads, g.channels];
  if (util.sizeFromShape(outShape) === 0) return b.makeOutput(outShape, 'float32');
  const mod = visionOpsWasm(b);
  const args = msDeformAttnArgs(MsDeformAttn, g);
  const out = allocOutput(b, outShape, 'float32', 'ms_deform_attn output');
  const at = (x: TensorInfo) => dataOffset(b, x);
  mod.ms_deform_attn(at(t.value), at(t.spatialShapes), at(t.levelStartIndex), at(t.samplingLocations),
      at(t.attentionWeights), out.offset, ...args);
  return out.info;
};

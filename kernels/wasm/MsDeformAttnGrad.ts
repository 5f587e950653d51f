import {KernelFunc, TensorInfo, util} from '@tensorflow/tfjs-core';
import {MsDeformAttnGrad, MsDeformAttnGradInputs} from '../../src/kernel_names.ts';
import {dataOffset} from './DeformConv2d.ts';
import {allocOutput, assertFloat32, backendMemory, visionOpsWasm, WasmBackendLike} from './module.ts';
import {msDeformAttnArgs, msDeformAttnWasmGeometry} from './MsDeformAttn.ts';

/** Zero copy: [dValue, dSamplingLocations, dAttentionWeights], the value gradient scattered in order. */
export const msDeformAttnGradWasm: KernelFunc = ({inputs, backend}) => {
  const b = backend as unknown as WasmBackendLike;
  const t = inputs as MsDeformAttnGradInputs;
  const g = msDeformAttnWasmGeometry(MsDeformAttnGrad, t);
  assertFloat32(MsDeformAttnGrad, 'dy', t.dy);
  const dyShape = [g.batch, g.queries, g.heads, g.channels];
  util.assert(util.arraysEqual(t.dy.shape, dyShape),
      () => `${MsDeformAttnGrad} (wasm): 'dy' must have shape [${dyShape}], got [${t.dy.shape}]`);
  const mod = visionOpsWasm(b);
  const args = msDeformAttnArgs(MsDeformAttnGrad, g);
  const grads: Array<ReturnType<typeof allocOutput>> = [];
  try {
    for (const [name, x] of [['dValue', t.value], ['dSamplingLocations', t.samplingLocations],
      ['dAttentionWeights', t.attentionWeights]] as const) {
      grads.push(allocOutput(b, x.shape, 'float32', `ms_deform_attn_grad ${name}`));
    }
  } catch (e) {
    for (const x of grads) b.disposeData(x.info.dataId);
    throw e;
  }
  const [dValue, dLocations, dWeights] = grads.map(x => x.info);
  const at = (x: TensorInfo) => dataOffset(b, x);
  if (util.sizeFromShape(dyShape) === 0) {
    // Nothing flows back (as the cpu kernel): zeros, NaN locations included.
    const heap = backendMemory(b).buffer;
    for (const x of [dValue, dLocations, dWeights]) {
      const n = util.sizeFromShape(x.shape);
      if (n > 0) new Float32Array(heap, at(x), n).fill(0);
    }
  } else {
    mod.ms_deform_attn_grad(at(t.dy), at(t.value), at(t.spatialShapes), at(t.levelStartIndex),
        at(t.samplingLocations), at(t.attentionWeights), at(dValue), at(dLocations), at(dWeights), ...args);
  }
  return [dValue, dLocations, dWeights];
};

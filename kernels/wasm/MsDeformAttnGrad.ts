import {util} from '@tensorflow/tfjs-core';
import {MsDeformAttnGrad, MsDeformAttnGradInputs} from '../../src/kernel_names.ts';
import {assertFloat32, ModuleKernel} from './call.ts';
import {msDeformAttnArgs, msDeformAttnModuleGeometry} from './MsDeformAttn.ts';

/** [dValue, dSamplingLocations, dAttentionWeights], the value gradient scattered in order. */
export const msDeformAttnGradModule: ModuleKernel = (run, {inputs}) => {
  const t = inputs as MsDeformAttnGradInputs;
  const g = msDeformAttnModuleGeometry(run, MsDeformAttnGrad, t);
  assertFloat32(run, MsDeformAttnGrad, 'dy', t.dy);
  const dyShape = [g.batch, g.queries, g.heads, g.channels];
  util.assert(util.arraysEqual(t.dy.shape, dyShape),
      () => `${MsDeformAttnGrad} (${run.backendName}): 'dy' must have shape [${dyShape}], got [${t.dy.shape}]`);
  const grads = [['dValue', t.value], ['dSamplingLocations', t.samplingLocations],
    ['dAttentionWeights', t.attentionWeights]] as const;
  // Nothing flows back (as the cpu kernel): zeros, NaN locations included.
  if (util.sizeFromShape(dyShape) === 0) return grads.map(([, x]) => run.zeros(x.shape, 'float32'));
  return run.run({
    fn: 'ms_deform_attn_grad',
    args: [{input: t.dy}, {input: t.value}, {input: t.spatialShapes}, {input: t.levelStartIndex},
      {input: t.samplingLocations}, {input: t.attentionWeights}, {output: 0}, {output: 1}, {output: 2},
      ...msDeformAttnArgs(MsDeformAttnGrad, g)],
    outputs: grads.map(([name, x]) => ({shape: x.shape, dtype: 'float32', what: `ms_deform_attn_grad ${name}`})),
  }).outputs;
};

import {KernelFunc, util} from '@tensorflow/tfjs-core';
import {MsDeformAttnInputs} from '../../src/kernel_names.ts';
import {newValues, output, readValues} from '../host_kernel.ts';
import {msDeformAttnGeometry, msDeformAttnValues} from '../reference/ms_deform_attn.ts';

export const msDeformAttnHost: KernelFunc = ({inputs, backend}) => {
  const {value, spatialShapes, levelStartIndex, samplingLocations, attentionWeights} = inputs as MsDeformAttnInputs;
  const g = msDeformAttnGeometry(value.shape, samplingLocations.shape);
  const outShape = [g.batch, g.queries, g.heads, g.channels];
  const out = newValues(util.sizeFromShape(outShape));
  if (out.length > 0) {
    msDeformAttnValues(readValues(backend, value), readValues(backend, spatialShapes),
        readValues(backend, levelStartIndex), readValues(backend, samplingLocations),
        readValues(backend, attentionWeights), g, out);
  }
  return output(backend, outShape, 'float32', out);
};

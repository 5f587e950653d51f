import {KernelFunc, TensorInfo, util} from '@tensorflow/tfjs-core';
import {MsDeformAttnGradInputs} from '../../src/kernel_names.ts';
import {newValues, output, readValues} from '../host_kernel.ts';
import {msDeformAttnGeometry, msDeformAttnGradValues} from '../reference/ms_deform_attn.ts';

/** Outputs [dValue, dSamplingLocations, dAttentionWeights] in the shapes of those inputs. */
export const msDeformAttnGradHost: KernelFunc = ({inputs, backend}) => {
  const {dy, value, spatialShapes, levelStartIndex, samplingLocations, attentionWeights} =
      inputs as MsDeformAttnGradInputs;
  const g = msDeformAttnGeometry(value.shape, samplingLocations.shape);
  const shapes = [value.shape, samplingLocations.shape, attentionWeights.shape];
  const [dValue, dLocations, dWeights] = shapes.map(s => newValues(util.sizeFromShape(s)));
  if (util.sizeFromShape(dy.shape) > 0) {
    msDeformAttnGradValues(readValues(backend, dy), readValues(backend, value), readValues(backend, spatialShapes),
        readValues(backend, levelStartIndex), readValues(backend, samplingLocations),
        readValues(backend, attentionWeights), g, dValue, dLocations, dWeights);
  }
  return [dValue, dLocations, dWeights].map((v, i) => output(backend, shapes[i], 'float32', v)) as TensorInfo[];
};

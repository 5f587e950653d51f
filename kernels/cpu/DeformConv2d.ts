import {KernelFunc, util} from '@tensorflow/tfjs-core';
import {DeformConv2dAttrs, DeformConv2dInputs} from '../../src/kernel_names.ts';
import {newValues, output, readValues} from '../host_kernel.ts';
import {deformConv2dValues, deformGeometry} from '../reference/deform_conv2d.ts';

export const deformConv2dHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, offset, mask, weight} = inputs as DeformConv2dInputs;
  const g = deformGeometry(x.shape, weight.shape, attrs as unknown as DeformConv2dAttrs);
  const outShape = [g.batch, g.outHeight, g.outWidth, g.outChannels];
  const out = newValues(util.sizeFromShape(outShape));
  if (out.length > 0) {
    deformConv2dValues(readValues(backend, x), readValues(backend, offset), readValues(backend, mask),
        readValues(backend, weight), g, out);
  }
  return output(backend, outShape, 'float32', out);
};

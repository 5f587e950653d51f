import {KernelFunc, TensorInfo, util} from '@tensorflow/tfjs-core';
import {DeformConv2dGradAttrs, DeformConv2dGradInputs} from '../../src/kernel_names.ts';
import {newValues, output, readValues} from '../host_kernel.ts';
import {deformConv2dGradValues, deformGeometry} from '../reference/deform_conv2d.ts';

/** Outputs [dx, dOffset, dMask, dWeight] in the shapes of x, offset, mask and weight. */
export const deformConv2dGradHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, x, offset, mask, weight} = inputs as DeformConv2dGradInputs;
  const g = deformGeometry(x.shape, weight.shape, attrs as unknown as DeformConv2dGradAttrs);
  const shapes = [x.shape, offset.shape, mask.shape, weight.shape];
  const [dx, dOffset, dMask, dWeight] = shapes.map(s => newValues(util.sizeFromShape(s)));
  if (util.sizeFromShape(dy.shape) > 0) {
    deformConv2dGradValues(readValues(backend, dy), readValues(backend, x), readValues(backend, offset),
        readValues(backend, mask), readValues(backend, weight), g, dx, dOffset, dMask, dWeight);
  }
  return [dx, dOffset, dMask, dWeight].map((v, i) => output(backend, shapes[i], 'float32', v)) as TensorInfo[];
};

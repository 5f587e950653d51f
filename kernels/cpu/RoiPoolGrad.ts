import {KernelFunc, util} from '@tensorflow/tfjs-core';
import {RoiPoolGradAttrs, RoiPoolGradInputs} from '../../src/kernel_names.ts';
import {newValues, output, readValues} from '../host_kernel.ts';
import {roiPoolGradValues} from '../reference/roi_pool.ts';

export const roiPoolGradHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, x, boxes} = inputs as RoiPoolGradInputs;
  const params = attrs as unknown as RoiPoolGradAttrs;
  const dx = newValues(util.sizeFromShape(x.shape));
  if (dx.length > 0 && boxes.shape[0] > 0) {
    roiPoolGradValues(readValues(backend, dy), readValues(backend, x), x.shape, readValues(backend, boxes),
        boxes.shape[0], params, dx);
  }
  return output(backend, x.shape, 'float32', dx);
};

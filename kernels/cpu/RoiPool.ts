import {KernelConfig, KernelFunc, util} from '@tensorflow/tfjs-core';
import {RoiPool, RoiPoolAttrs, RoiPoolInputs} from '../../src/kernel_names';
import {newValues, output, readValues} from '../host_kernel';
import {roiPoolValues} from '../reference/roi_pool';

export const roiPoolHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as RoiPoolInputs;
  const params = attrs as unknown as RoiPoolAttrs;
  const numBoxes = boxes.shape[0];
  const outShape = [numBoxes, params.pooledHeight, params.pooledWidth, x.shape[3]];
  const out = newValues(util.sizeFromShape(outShape));
  if (out.length > 0) {
    roiPoolValues(readValues(backend, x), x.shape, readValues(backend, boxes), numBoxes, params, out);
  }
  return output(backend, outShape, 'float32', out);
};

export const roiPoolConfig: KernelConfig = {
  kernelName: RoiPool,
  backendName: 'cpu',
  kernelFunc: roiPoolHost,
};

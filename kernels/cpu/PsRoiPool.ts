import {KernelConfig, KernelFunc, util} from '@tensorflow/tfjs-core';
import {PsRoiPool, PsRoiPoolAttrs, PsRoiPoolInputs} from '../../src/kernel_names';
import {newValues, output, readValues} from '../host_kernel';
import {psRoiPoolValues} from '../reference/ps_roi';

export const psRoiPoolHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as PsRoiPoolInputs;
  const params = attrs as unknown as PsRoiPoolAttrs;
  const numBoxes = boxes.shape[0];
  const outChannels = x.shape[3] / (params.pooledHeight * params.pooledWidth);
  const outShape = [numBoxes, params.pooledHeight, params.pooledWidth, outChannels];
  const out = newValues(util.sizeFromShape(outShape));
  if (out.length > 0) {
    psRoiPoolValues(readValues(backend, x), x.shape, readValues(backend, boxes), numBoxes, params, out);
  }
  return output(backend, outShape, 'float32', out);
};

export const psRoiPoolConfig: KernelConfig = {
  kernelName: PsRoiPool,
  backendName: 'cpu',
  kernelFunc: psRoiPoolHost,
};

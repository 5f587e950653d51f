import {KernelConfig, KernelFunc, util} from '@tensorflow/tfjs-core';
import {PsRoiAlign, PsRoiAlignAttrs, PsRoiAlignInputs} from '../../src/kernel_names';
import {newValues, output, readValues} from '../host_kernel';
import {psRoiAlignValues} from '../reference/ps_roi';

export const psRoiAlignHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as PsRoiAlignInputs;
  const params = attrs as unknown as PsRoiAlignAttrs;
  const numBoxes = boxes.shape[0];
  const outChannels = x.shape[3] / (params.pooledHeight * params.pooledWidth);
  const outShape = [numBoxes, params.pooledHeight, params.pooledWidth, outChannels];
  const out = newValues(util.sizeFromShape(outShape));
  if (out.length > 0) {
    psRoiAlignValues(readValues(backend, x), x.shape, readValues(backend, boxes), numBoxes, params, out);
  }
  return output(backend, outShape, 'float32', out);
};

export const psRoiAlignConfig: KernelConfig = {
  kernelName: PsRoiAlign,
  backendName: 'cpu',
  kernelFunc: psRoiAlignHost,
};

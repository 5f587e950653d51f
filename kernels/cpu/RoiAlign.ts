import {KernelConfig, KernelFunc, util} from '@tensorflow/tfjs-core';
import {RoiAlign, RoiAlignAttrs, RoiAlignInputs} from '../../src/kernel_names';
import {newValues, output, readValues} from '../host_kernel';
import {roiAlignValues} from '../reference/roi_align';

export const roiAlignHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as RoiAlignInputs;
  const params = attrs as unknown as RoiAlignAttrs;
  const numBoxes = boxes.shape[0];
  const outShape = [numBoxes, params.pooledHeight, params.pooledWidth, x.shape[3]];
  const out = newValues(util.sizeFromShape(outShape));
  if (out.length > 0) {
    roiAlignValues(readValues(backend, x), x.shape, readValues(backend, boxes), numBoxes, params, out);
  }
  return output(backend, outShape, 'float32', out);
};

export const roiAlignConfig: KernelConfig = {
  kernelName: RoiAlign,
  backendName: 'cpu',
  kernelFunc: roiAlignHost,
};

import {KernelConfig, KernelFunc, util} from '@tensorflow/tfjs-core';
import {RoiAlignGrad, RoiAlignGradAttrs, RoiAlignGradInputs} from '../../src/kernel_names';
import {newValues, output, readValues} from '../host_kernel';
import {roiAlignGradValues} from '../reference/roi_align';

export const roiAlignGradHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, boxes} = inputs as RoiAlignGradInputs;
  const params = attrs as unknown as RoiAlignGradAttrs;
  const dx = newValues(util.sizeFromShape(params.xShape));
  if (dx.length > 0 && boxes.shape[0] > 0) {
    roiAlignGradValues(readValues(backend, dy), readValues(backend, boxes), boxes.shape[0], params,
        params.xShape, dx);
  }
  return output(backend, params.xShape, 'float32', dx);
};

export const roiAlignGradConfig: KernelConfig = {
  kernelName: RoiAlignGrad,
  backendName: 'cpu',
  kernelFunc: roiAlignGradHost,
};

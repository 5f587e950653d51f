import {KernelConfig, KernelFunc, util} from '@tensorflow/tfjs-core';
import {PsRoiAlignGrad, PsRoiAlignGradAttrs, PsRoiAlignGradInputs} from '../../src/kernel_names';
import {newValues, output, readValues} from '../host_kernel';
import {psRoiAlignGradValues} from '../reference/ps_roi';

export const psRoiAlignGradHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, boxes} = inputs as PsRoiAlignGradInputs;
  const params = attrs as unknown as PsRoiAlignGradAttrs;
  const dx = newValues(util.sizeFromShape(params.xShape));
  if (dx.length > 0 && boxes.shape[0] > 0) {
    psRoiAlignGradValues(readValues(backend, dy), readValues(backend, boxes), boxes.shape[0], params,
        params.xShape, dx);
  }
  return output(backend, params.xShape, 'float32', dx);
};

export const psRoiAlignGradConfig: KernelConfig = {
  kernelName: PsRoiAlignGrad,
  backendName: 'cpu',
  kernelFunc: psRoiAlignGradHost,
};

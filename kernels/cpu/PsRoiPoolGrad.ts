import {KernelConfig, KernelFunc, util} from '@tensorflow/tfjs-core';
import {PsRoiPoolGrad, PsRoiPoolGradAttrs, PsRoiPoolGradInputs} from '../../src/kernel_names';
import {newValues, output, readValues} from '../host_kernel';
import {psRoiPoolGradValues} from '../reference/ps_roi';

export const psRoiPoolGradHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, boxes} = inputs as PsRoiPoolGradInputs;
  const params = attrs as unknown as PsRoiPoolGradAttrs;
  const dx = newValues(util.sizeFromShape(params.xShape));
  if (dx.length > 0 && boxes.shape[0] > 0) {
    psRoiPoolGradValues(readValues(backend, dy), readValues(backend, boxes), boxes.shape[0], params,
        params.xShape, dx);
  }
  return output(backend, params.xShape, 'float32', dx);
};

export const psRoiPoolGradConfig: KernelConfig = {
  kernelName: PsRoiPoolGrad,
  backendName: 'cpu',
  kernelFunc: psRoiPoolGradHost,
};

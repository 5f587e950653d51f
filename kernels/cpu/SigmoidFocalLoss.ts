import {KernelFunc, util} from '@tensorflow/tfjs-core';
import {SigmoidFocalLossAttrs, SigmoidFocalLossInputs} from '../../src/kernel_names.ts';
import {newValues, output, readValues} from '../host_kernel.ts';
import {sigmoidFocalLossValues} from '../reference/sigmoid_focal_loss.ts';

export const sigmoidFocalLossHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {inputs: x, targets} = inputs as SigmoidFocalLossInputs;
  const {alpha, gamma} = attrs as unknown as SigmoidFocalLossAttrs;
  const out = newValues(util.sizeFromShape(x.shape));
  sigmoidFocalLossValues(readValues(backend, x), readValues(backend, targets), alpha, gamma, out);
  return output(backend, x.shape, 'float32', out);
};

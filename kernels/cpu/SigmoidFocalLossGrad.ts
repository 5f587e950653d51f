import {KernelFunc, util} from '@tensorflow/tfjs-core';
import {SigmoidFocalLossGradAttrs, SigmoidFocalLossGradInputs} from '../../src/kernel_names.ts';
import {newValues, output, readValues} from '../host_kernel.ts';
import {sigmoidFocalLossGradValues} from '../reference/sigmoid_focal_loss.ts';

export const sigmoidFocalLossGradHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, inputs: x, targets} = inputs as SigmoidFocalLossGradInputs;
  const {alpha, gamma} = attrs as unknown as SigmoidFocalLossGradAttrs;
  const size = util.sizeFromShape(x.shape);
  const dx = newValues(size), dt = newValues(size);
  sigmoidFocalLossGradValues(
      readValues(backend, dy), readValues(backend, x), readValues(backend, targets), alpha, gamma, dx, dt);
  return [output(backend, x.shape, 'float32', dx), output(backend, x.shape, 'float32', dt)];
};

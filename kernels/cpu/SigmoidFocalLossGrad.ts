import {KernelFunc, util} from '@tensorflow/tfjs-core';
import {SigmoidFocalLossGrad, SigmoidFocalLossGradAttrs, SigmoidFocalLossGradInputs} from '../../src/kernel_names.ts';
import {newValues, output, readValues} from '../host_kernel.ts';
import {sigmoidFocalLossGradValues} from '../reference/sigmoid_focal_loss.ts';

/** dy has the inputs' size, or one element (broadcast: the gradient of a sum or a mean). */
export const sigmoidFocalLossGradHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, inputs: x, targets} = inputs as SigmoidFocalLossGradInputs;
  const {alpha, gamma} = attrs as unknown as SigmoidFocalLossGradAttrs;
  const size = util.sizeFromShape(x.shape);
  const dySize = util.sizeFromShape(dy.shape);
  util.assert(dySize === size || dySize === 1,
      () => `${SigmoidFocalLossGrad}: dy of shape [${dy.shape}] is neither the inputs' size (${size}) nor one value`);
  const dx = newValues(size), dt = newValues(size);
  sigmoidFocalLossGradValues(
      readValues(backend, dy), readValues(backend, x), readValues(backend, targets), alpha, gamma, dx, dt);
  return [output(backend, x.shape, 'float32', dx), output(backend, x.shape, 'float32', dt)];
};

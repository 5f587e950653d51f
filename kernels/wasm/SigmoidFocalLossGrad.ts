import {util} from '@tensorflow/tfjs-core';
import {
  SigmoidFocalLossGrad, SigmoidFocalLossGradAttrs, SigmoidFocalLossGradInputs, sigmoidFocalLossKernel,
} from '../../src/kernel_names.ts';
import {attrArgs} from './args.ts';
import {assertFloat32, ModuleKernel} from './call.ts';

/**
 * Both gradients in one pass. Outputs [dInputs, dTargets]. dy has the inputs'
 * size, or one element: a broadcast value (the gradient of a sum or a mean).
 */
export const sigmoidFocalLossGradModule: ModuleKernel = (run, {inputs, attrs}) => {
  const {dy, inputs: x, targets} = inputs as SigmoidFocalLossGradInputs;
  const p = attrs as unknown as SigmoidFocalLossGradAttrs;
  assertFloat32(run, SigmoidFocalLossGrad, 'dy', dy);
  assertFloat32(run, SigmoidFocalLossGrad, 'inputs', x);
  assertFloat32(run, SigmoidFocalLossGrad, 'targets', targets);
  const size = util.sizeFromShape(x.shape);
  const dySize = util.sizeFromShape(dy.shape);
  util.assert(util.sizeFromShape(targets.shape) === size && (dySize === size || dySize === 1),
      () => `${SigmoidFocalLossGrad} (${run.backendName}): inputs and targets differ in size, ` +
          'or dy has neither their size nor one element');
  if (size === 0) return [run.zeros(x.shape, 'float32'), run.zeros(x.shape, 'float32')];
  const dyBroadcast = dySize === size ? 0 : 1;
  return run.run({
    fn: 'sigmoid_focal_loss_grad',
    args: [{input: dy}, {input: x}, {input: targets}, {output: 0}, {output: 1}, size, dyBroadcast,
      ...attrArgs(SigmoidFocalLossGrad, sigmoidFocalLossKernel.grad, p)],
    outputs: [{shape: x.shape, dtype: 'float32', what: 'sigmoid_focal_loss_grad dInputs'},
      {shape: x.shape, dtype: 'float32', what: 'sigmoid_focal_loss_grad dTargets'}],
  }).outputs;
};

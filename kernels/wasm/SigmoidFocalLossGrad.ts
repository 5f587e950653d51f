import {util} from '@tensorflow/tfjs-core';
import {
  SigmoidFocalLossGrad, SigmoidFocalLossGradAttrs, SigmoidFocalLossGradInputs, sigmoidFocalLossKernel,
} from '../../src/kernel_names.ts';
import {attrArgs} from './args.ts';
import {assertFloat32, ModuleKernel} from './call.ts';

/** Both gradients in one pass. Outputs [dInputs, dTargets]. */
export const sigmoidFocalLossGradModule: ModuleKernel = (run, {inputs, attrs}) => {
  const {dy, inputs: x, targets} = inputs as SigmoidFocalLossGradInputs;
  const p = attrs as unknown as SigmoidFocalLossGradAttrs;
  assertFloat32(run, SigmoidFocalLossGrad, 'dy', dy);
  assertFloat32(run, SigmoidFocalLossGrad, 'inputs', x);
  assertFloat32(run, SigmoidFocalLossGrad, 'targets', targets);
  const size = util.sizeFromShape(x.shape);
  util.assert(
      util.sizeFromShape(targets.shape) === size && util.sizeFromShape(dy.shape) === size,
      () => `${SigmoidFocalLossGrad} (${run.backendName}): dy, inputs and targets differ in size`);
  if (size === 0) return [run.zeros(x.shape, 'float32'), run.zeros(x.shape, 'float32')];
  return run.run({
    fn: 'sigmoid_focal_loss_grad',
    args: [{input: dy}, {input: x}, {input: targets}, {output: 0}, {output: 1}, size,
      ...attrArgs(SigmoidFocalLossGrad, sigmoidFocalLossKernel.grad, p)],
    outputs: [{shape: x.shape, dtype: 'float32', what: 'sigmoid_focal_loss_grad dInputs'},
      {shape: x.shape, dtype: 'float32', what: 'sigmoid_focal_loss_grad dTargets'}],
  }).outputs;
};

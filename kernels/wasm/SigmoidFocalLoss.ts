import {util} from '@tensorflow/tfjs-core';
import {SigmoidFocalLoss, SigmoidFocalLossAttrs, sigmoidFocalLossKernel, SigmoidFocalLossInputs} from '../../src/kernel_names.ts';
import {attrArgs} from './args.ts';
import {assertFloat32, ModuleKernel} from './call.ts';

/** Reads the inputs and writes the loss in place. */
export const sigmoidFocalLossModule: ModuleKernel = (run, {inputs, attrs}) => {
  const {inputs: x, targets} = inputs as SigmoidFocalLossInputs;
  const p = attrs as unknown as SigmoidFocalLossAttrs;
  assertFloat32(run, SigmoidFocalLoss, 'inputs', x);
  assertFloat32(run, SigmoidFocalLoss, 'targets', targets);
  const size = util.sizeFromShape(x.shape);
  util.assert(util.sizeFromShape(targets.shape) === size,
      () => `${SigmoidFocalLoss} (${run.backendName}): inputs and targets differ in size`);
  if (size === 0) return run.zeros(x.shape, 'float32');
  return run.run({
    fn: 'sigmoid_focal_loss',
    args: [{input: x}, {input: targets}, {output: 0}, size, ...attrArgs(SigmoidFocalLoss, sigmoidFocalLossKernel, p)],
    outputs: [{shape: x.shape, dtype: 'float32', what: 'sigmoid_focal_loss output'}],
  }).outputs[0];
};

import {engine, GradConfig, NamedAttrMap, Tensor} from '@tensorflow/tfjs-core';
import {SigmoidFocalLoss, SigmoidFocalLossGrad} from '../src/kernel_names.ts';

export const sigmoidFocalLossGradConfig: GradConfig = {
  kernelName: SigmoidFocalLoss,
  inputsToSave: ['inputs', 'targets'],
  gradFunc: (dy: Tensor|Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [inputs, targets] = saved;
    // One kernel call gives both gradients; the backward scope disposes the unused one.
    const [dInputs, dTargets] = engine().runKernel(
        SigmoidFocalLossGrad, {dy: dy as Tensor, inputs, targets}, attrs) as Tensor[];
    return {inputs: () => dInputs, targets: () => dTargets};
  },
};

import {KernelFunc, util} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {SigmoidFocalLossGrad, SigmoidFocalLossGradAttrs, SigmoidFocalLossGradInputs} from '../../src/kernel_names.ts';
import {FOCAL_GRAD_FIELDS} from '../gpu/uniforms.ts';
import {assertSameSize, runFlat} from './flat.ts';
import {SigmoidFocalLossGradProgram} from './sigmoid_focal_loss_webgpu.ts';
import {wgslValues} from './uniforms.ts';

/**
 * Outputs [dInputs, dTargets]: one pipeline, dispatched twice (uniform
 * gradOfTargets = 0, 1). dy has the inputs' size, or one element: a broadcast
 * value (the gradient of a sum or a mean), which the pipeline's variant reads at 0.
 */
export const sigmoidFocalLossGradWebGPU: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, inputs: x, targets} = inputs as SigmoidFocalLossGradInputs;
  const p = attrs as unknown as SigmoidFocalLossGradAttrs;
  assertSameSize(SigmoidFocalLossGrad, x, ['targets'], [targets]);
  const size = util.sizeFromShape(x.shape);
  const broadcastDy = util.sizeFromShape(dy.shape) === 1 && size !== 1;
  if (!broadcastDy) assertSameSize(SigmoidFocalLossGrad, x, ['dy'], [dy]);
  return [0, 1].map(gradOfTargets => runFlat(
      backend as WebGPUBackend, size === 0 ? null : new SigmoidFocalLossGradProgram(size, broadcastDy),
      [dy, x, targets], x.shape,
      wgslValues(SigmoidFocalLossGrad, FOCAL_GRAD_FIELDS, {...p, gradOfTargets})));
};

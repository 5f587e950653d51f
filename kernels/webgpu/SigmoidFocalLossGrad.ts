import {KernelFunc, util} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {SigmoidFocalLossGrad, SigmoidFocalLossGradAttrs, SigmoidFocalLossGradInputs} from '../../src/kernel_names.ts';
import {FOCAL_GRAD_FIELDS} from '../gpu/uniforms.ts';
import {assertSameSize, runFlat} from './flat.ts';
import {SigmoidFocalLossGradProgram} from './sigmoid_focal_loss_webgpu.ts';
import {wgslValues} from './uniforms.ts';

/** Outputs [dInputs, dTargets]: one pipeline, dispatched twice (uniform gradOfTargets = 0, 1). */
export const sigmoidFocalLossGradWebGPU: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, inputs: x, targets} = inputs as SigmoidFocalLossGradInputs;
  const p = attrs as unknown as SigmoidFocalLossGradAttrs;
  assertSameSize(SigmoidFocalLossGrad, x, ['dy', 'targets'], [dy, targets]);
  const size = util.sizeFromShape(x.shape);
  return [0, 1].map(gradOfTargets => runFlat(
      backend as WebGPUBackend, size === 0 ? null : new SigmoidFocalLossGradProgram(size),
      [dy, x, targets], x.shape,
      wgslValues(SigmoidFocalLossGrad, FOCAL_GRAD_FIELDS, {...p, gradOfTargets})));
};

import {KernelFunc, util} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {SigmoidFocalLoss, SigmoidFocalLossAttrs, SigmoidFocalLossInputs} from '../../src/kernel_names.ts';
import {FOCAL_FIELDS} from '../gpu/uniforms.ts';
import {assertSameSize, runFlat} from './flat.ts';
import {SigmoidFocalLossProgram} from './sigmoid_focal_loss_webgpu.ts';
import {wgslValues} from './uniforms.ts';

export const sigmoidFocalLossWebGPU: KernelFunc = ({inputs, backend, attrs}) => {
  const {inputs: x, targets} = inputs as SigmoidFocalLossInputs;
  const p = attrs as unknown as SigmoidFocalLossAttrs;
  assertSameSize(SigmoidFocalLoss, x, ['targets'], [targets]);
  const size = util.sizeFromShape(x.shape);
  const program = size === 0 ? null : new SigmoidFocalLossProgram(size);
  return runFlat(backend as WebGPUBackend, program, [x, targets], x.shape,
      wgslValues(SigmoidFocalLoss, FOCAL_FIELDS, p));
};

import {KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {SigmoidFocalLossGrad, SigmoidFocalLossGradAttrs, SigmoidFocalLossGradInputs} from '../../src/kernel_names.ts';
import {FOCAL_GRAD_FIELDS} from '../gpu/uniforms.ts';
import {assertSameSize, disposeViews, emptyOutput, programShape, reshapeTo} from './elementwise.ts';
import {SigmoidFocalLossGradProgram} from './sigmoid_focal_loss_gpu.ts';
import {glslValues} from './uniforms.ts';

/** Outputs [dInputs, dTargets]: one shader, run twice (uniform gradOfTargets = 0, 1). */
export const sigmoidFocalLossGradWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, inputs: x, targets} = inputs as SigmoidFocalLossGradInputs;
  const p = attrs as unknown as SigmoidFocalLossGradAttrs;
  const webgl = backend as MathBackendWebGL;
  assertSameSize(SigmoidFocalLossGrad, x, ['dy', 'targets'], [dy, targets]);
  if (x.shape.some(d => d === 0)) return [emptyOutput(webgl, x.shape), emptyOutput(webgl, x.shape)];

  const shape = programShape(x.shape);
  const originals = [dy, x, targets];
  const views = originals.map(t => reshapeTo(webgl, t, shape));
  const program = new SigmoidFocalLossGradProgram(shape);
  const outs = [0, 1].map(gradOfTargets => {
    const out = webgl.runWebGLProgram(program, views, 'float32',
        glslValues(SigmoidFocalLossGrad, FOCAL_GRAD_FIELDS, {...p, gradOfTargets}));
    const result: TensorInfo = reshapeTo(webgl, out, x.shape);
    if (result !== out) webgl.disposeIntermediateTensorInfo(out);
    return result;
  });
  disposeViews(webgl, views, originals);
  return outs;
};

import {KernelFunc, TensorInfo, util} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {SigmoidFocalLossGrad, SigmoidFocalLossGradAttrs, SigmoidFocalLossGradInputs} from '../../src/kernel_names.ts';
import {FOCAL_GRAD_FIELDS} from '../gpu/uniforms.ts';
import {assertSameSize, disposeViews, emptyOutput, programShape, reshapeTo} from './elementwise.ts';
import {SigmoidFocalLossGradProgram} from './sigmoid_focal_loss_gpu.ts';
import {glslValues} from './uniforms.ts';

/**
 * Outputs [dInputs, dTargets]: one shader, run twice (uniform gradOfTargets =
 * 0, 1). dy has the inputs' size, or one element: a broadcast value (the
 * gradient of a sum or a mean), viewed as a scalar by the shader's variant.
 */
export const sigmoidFocalLossGradWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, inputs: x, targets} = inputs as SigmoidFocalLossGradInputs;
  const p = attrs as unknown as SigmoidFocalLossGradAttrs;
  const webgl = backend as MathBackendWebGL;
  assertSameSize(SigmoidFocalLossGrad, x, ['targets'], [targets]);
  const broadcastDy = util.sizeFromShape(dy.shape) === 1 && util.sizeFromShape(x.shape) !== 1;
  if (!broadcastDy) assertSameSize(SigmoidFocalLossGrad, x, ['dy'], [dy]);
  if (x.shape.some(d => d === 0)) return [emptyOutput(webgl, x.shape), emptyOutput(webgl, x.shape)];

  const shape = programShape(x.shape);
  const originals = [dy, x, targets];
  const views = originals.map((t, i) => reshapeTo(webgl, t, i === 0 && broadcastDy ? [] : shape));
  const program = new SigmoidFocalLossGradProgram(shape, broadcastDy);
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

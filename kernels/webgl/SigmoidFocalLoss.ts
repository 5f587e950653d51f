import {KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {SigmoidFocalLoss, SigmoidFocalLossAttrs, SigmoidFocalLossInputs} from '../../src/kernel_names.ts';
import {FOCAL_FIELDS} from '../gpu/uniforms.ts';
import {assertSameSize, disposeViews, emptyOutput, programShape, reshapeTo} from './elementwise.ts';
import {SigmoidFocalLossProgram} from './sigmoid_focal_loss_gpu.ts';
import {glslValues} from './uniforms.ts';

export const sigmoidFocalLossWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const {inputs: x, targets} = inputs as SigmoidFocalLossInputs;
  const p = attrs as unknown as SigmoidFocalLossAttrs;
  const webgl = backend as MathBackendWebGL;
  assertSameSize(SigmoidFocalLoss, x, ['targets'], [targets]);
  if (x.shape.some(d => d === 0)) return emptyOutput(webgl, x.shape);

  const shape = programShape(x.shape);
  const originals = [x, targets];
  const views = originals.map(t => reshapeTo(webgl, t, shape));
  const out = webgl.runWebGLProgram(
      new SigmoidFocalLossProgram(shape), views, 'float32', glslValues(SigmoidFocalLoss, FOCAL_FIELDS, p));
  disposeViews(webgl, views, originals);
  const result: TensorInfo = reshapeTo(webgl, out, x.shape);
  if (result !== out) webgl.disposeIntermediateTensorInfo(out);
  return result;
};

import {util} from '@tensorflow/tfjs-core';
import {PsRoiPoolGrad, PsRoiPoolGradAttrs, PsRoiPoolGradInputs, psRoiPoolKernel} from '../../src/kernel_names.ts';
import {attrArgs} from './args.ts';
import {assertFloat32, int32Fields, ModuleKernel} from './call.ts';

export const psRoiPoolGradModule: ModuleKernel = (run, {inputs, attrs}) => {
  const {dy, boxes} = inputs as PsRoiPoolGradInputs;
  const p = attrs as unknown as PsRoiPoolGradAttrs;
  assertFloat32(run, PsRoiPoolGrad, 'dy', dy);
  assertFloat32(run, PsRoiPoolGrad, 'boxes', boxes);
  if (util.sizeFromShape(p.xShape) === 0) return run.zeros(p.xShape, 'float32');
  const [batch, height, width, channels] = p.xShape;
  const ints = int32Fields('ps_roi_pool_grad', {batch, height, width, channels, numBoxes: boxes.shape[0]});
  return run.run({
    fn: 'ps_roi_pool_grad',
    args: [{input: dy}, {input: boxes}, {output: 0}, ...ints, ...attrArgs(PsRoiPoolGrad, psRoiPoolKernel.grad, p)],
    outputs: [{shape: p.xShape, dtype: 'float32', what: 'ps_roi_pool_grad dx'}],
  }).outputs[0];
};

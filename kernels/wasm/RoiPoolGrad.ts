import {util} from '@tensorflow/tfjs-core';
import {RoiPoolGrad, RoiPoolGradAttrs, RoiPoolGradInputs, roiPoolKernel} from '../../src/kernel_names.ts';
import {attrArgs} from './args.ts';
import {assertFloat32, int32Fields, ModuleKernel} from './call.ts';

/** Zeroes dx, recomputes each bin's argmax per lane and adds dy there. */
export const roiPoolGradModule: ModuleKernel = (run, {inputs, attrs}) => {
  const {dy, x, boxes} = inputs as RoiPoolGradInputs;
  const p = attrs as unknown as RoiPoolGradAttrs;
  for (const [name, t] of [['dy', dy], ['x', x], ['boxes', boxes]] as const) assertFloat32(run, RoiPoolGrad, name, t);
  if (util.sizeFromShape(x.shape) === 0) return run.zeros(x.shape, 'float32');
  const [batch, height, width, channels] = x.shape;
  const ints = int32Fields('roi_pool_grad', {batch, height, width, channels, numBoxes: boxes.shape[0]});
  return run.run({
    fn: 'roi_pool_grad',
    args: [{input: dy}, {input: x}, {input: boxes}, {output: 0}, ...ints, ...attrArgs(RoiPoolGrad, roiPoolKernel.grad, p)],
    outputs: [{shape: x.shape, dtype: 'float32', what: 'roi_pool_grad dx'}],
  }).outputs[0];
};

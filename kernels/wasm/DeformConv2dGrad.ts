import {DeformConv2dGrad, DeformConv2dGradAttrs, DeformConv2dGradInputs} from '../../src/kernel_names.ts';
import {deformGeometry} from '../reference/deform_conv2d.ts';
import {ModuleKernel} from './call.ts';
import {assertDeformInputs, deformScratch} from './DeformConv2d.ts';

/**
 * Per sample, per chunk of its positions: dcol = dy W^T, one sampling pass (dx,
 * dOffset, dMask, columns), partial += col^T dy; dW = the partials added in
 * sample order (kernels/c/deform_conv2d.c).
 */
export const deformConv2dGradModule: ModuleKernel = (run, {inputs, attrs}) => {
  const {dy, x, offset, mask, weight} = inputs as DeformConv2dGradInputs;
  assertDeformInputs(run, DeformConv2dGrad, {dy, x, offset, mask, weight});
  const g = deformGeometry(x.shape, weight.shape, attrs as unknown as DeformConv2dGradAttrs);
  const grads = [['dx', x], ['dOffset', offset], ['dMask', mask], ['dWeight', weight]] as const;
  return run.run({
    fn: 'deform_conv2d_grad',
    args: [{input: dy}, {input: x}, {input: offset}, {input: mask}, {input: weight}, {output: 0}, {output: 1},
      {output: 2}, {output: 3}, {scratch: 0}],
    outputs: grads.map(([name, t]) => ({shape: t.shape, dtype: 'float32', what: `deform_conv2d_grad ${name}`})),
    ...deformScratch(g, true),
  }).outputs;
};

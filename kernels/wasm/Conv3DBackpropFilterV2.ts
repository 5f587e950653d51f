import {backend_util, Conv3DBackpropFilterV2, Conv3DBackpropFilterV2Attrs, TensorInfo, util} from '@tensorflow/tfjs-core';
import {assertFloat32, ModuleKernel} from './call.ts';
import {conv3dGeometryArgs} from './Conv3DBackpropInputV2.ts';

/**
 * The filter gradient of conv3d. Replaces tfjs-backend-wasm 4.22's own
 * kernel, which drops terms when a stride is > 1. NDHWC.
 */
export const conv3DBackpropFilterModule: ModuleKernel = (run, {inputs, attrs}) => {
  const {x, dy} = inputs as {x: TensorInfo, dy: TensorInfo};
  const {strides, pad, filterShape} = attrs as unknown as Conv3DBackpropFilterV2Attrs;
  assertFloat32(run, Conv3DBackpropFilterV2, 'x', x);
  assertFloat32(run, Conv3DBackpropFilterV2, 'dy', dy);
  const info = backend_util.computeConv3DInfo(x.shape as [number, number, number, number, number], filterShape,
      strides, 1, pad);
  if (util.sizeFromShape(filterShape) === 0) return run.zeros(filterShape, 'float32');
  // Empty x or dy: the kernel only zeroes dw.
  return run.run({
    fn: 'conv3d_backprop_filter',
    args: [{input: x}, {input: dy}, {output: 0}, ...conv3dGeometryArgs(info)],
    outputs: [{shape: filterShape, dtype: 'float32', what: 'conv3d_backprop_filter dw'}],
  }).outputs[0];
};

import {backend_util, Conv3DBackpropInputV2, Conv3DBackpropInputV2Attrs, TensorInfo, util} from '@tensorflow/tfjs-core';
import {assertFloat32, ModuleKernel} from './call.ts';

/** The geometry arguments of both conv3d gradient exports, in their order. */
export function conv3dGeometryArgs(info: backend_util.Conv3DInfo): number[] {
  return [info.batchSize, info.inDepth, info.inHeight, info.inWidth, info.inChannels, info.outDepth, info.outHeight,
    info.outWidth, info.outChannels, info.strideDepth, info.strideHeight, info.strideWidth, info.padInfo.front,
    info.padInfo.top, info.padInfo.left, info.filterDepth, info.filterHeight, info.filterWidth];
}

/**
 * The input gradient of conv3d. Replaces tfjs-backend-wasm 4.22's own
 * kernel, which accumulates into an output it never zeroes (its results
 * depend on what the heap held before). NDHWC.
 */
export const conv3DBackpropInputModule: ModuleKernel = (run, {inputs, attrs}) => {
  const {dy, filter} = inputs as {dy: TensorInfo, filter: TensorInfo};
  const {strides, pad, inputShape} = attrs as unknown as Conv3DBackpropInputV2Attrs;
  assertFloat32(run, Conv3DBackpropInputV2, 'dy', dy);
  assertFloat32(run, Conv3DBackpropInputV2, 'filter', filter);
  const info = backend_util.computeConv3DInfo(inputShape, filter.shape as [number, number, number, number, number],
      strides, 1, pad);
  if (util.sizeFromShape(inputShape) === 0) return run.zeros(inputShape, 'float32');
  // Empty dy: the kernel only zeroes dx.
  return run.run({
    fn: 'conv3d_backprop_input',
    args: [{input: dy}, {input: filter}, {output: 0}, ...conv3dGeometryArgs(info)],
    outputs: [{shape: inputShape, dtype: 'float32', what: 'conv3d_backprop_input dx'}],
  }).outputs[0];
};

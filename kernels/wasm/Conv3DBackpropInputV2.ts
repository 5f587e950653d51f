import {backend_util, Conv3DBackpropInputV2, Conv3DBackpropInputV2Attrs, KernelFunc, TensorInfo,
  util} from '@tensorflow/tfjs-core';
import {allocOutput, assertFloat32, heapOffset, visionOpsWasm, WasmBackendLike} from './module.ts';

/**
 * The input gradient of conv3d. Replaces tfjs-backend-wasm 4.22's own
 * kernel, which accumulates into an output it never zeroes (its results
 * depend on what the heap held before). NDHWC, zero copy.
 */
export const conv3DBackpropInputWasm: KernelFunc = ({inputs, backend, attrs}) => {
  const b = backend as unknown as WasmBackendLike;
  const {dy, filter} = inputs as {dy: TensorInfo, filter: TensorInfo};
  const {strides, pad, inputShape} = attrs as unknown as Conv3DBackpropInputV2Attrs;
  assertFloat32(Conv3DBackpropInputV2, 'dy', dy);
  assertFloat32(Conv3DBackpropInputV2, 'filter', filter);
  const info = backend_util.computeConv3DInfo(inputShape, filter.shape as [number, number, number, number, number],
      strides, 1, pad);
  if (util.sizeFromShape(inputShape) === 0) return b.makeOutput(inputShape, 'float32');
  // Empty dy: the kernel only zeroes dx.
  const dyOffset = util.sizeFromShape(dy.shape) === 0 ? 0 : heapOffset(b, dy);
  const mod = visionOpsWasm(b);
  const dx = allocOutput(b, inputShape);
  mod.conv3d_backprop_input(dyOffset, heapOffset(b, filter), dx.offset, info.batchSize, info.inDepth,
      info.inHeight, info.inWidth, info.inChannels, info.outDepth, info.outHeight, info.outWidth, info.outChannels,
      info.strideDepth, info.strideHeight, info.strideWidth, info.padInfo.front, info.padInfo.top,
      info.padInfo.left, info.filterDepth, info.filterHeight, info.filterWidth);
  return dx.info;
};

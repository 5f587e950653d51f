import {backend_util, Conv3DBackpropFilterV2, Conv3DBackpropFilterV2Attrs, KernelFunc, TensorInfo,
  util} from '@tensorflow/tfjs-core';
import {allocOutput, assertFloat32, heapOffset, visionOpsWasm, WasmBackendLike} from './module.ts';

/**
 * The filter gradient of conv3d. Replaces tfjs-backend-wasm 4.22's own
 * kernel, which drops terms when a stride is > 1. NDHWC, zero copy.
 */
export const conv3DBackpropFilterWasm: KernelFunc = ({inputs, backend, attrs}) => {
  const b = backend as unknown as WasmBackendLike;
  const {x, dy} = inputs as {x: TensorInfo, dy: TensorInfo};
  const {strides, pad, filterShape} = attrs as unknown as Conv3DBackpropFilterV2Attrs;
  assertFloat32(Conv3DBackpropFilterV2, 'x', x);
  assertFloat32(Conv3DBackpropFilterV2, 'dy', dy);
  const info = backend_util.computeConv3DInfo(x.shape as [number, number, number, number, number], filterShape,
      strides, 1, pad);
  if (util.sizeFromShape(filterShape) === 0) return b.makeOutput(filterShape, 'float32');
  // Empty x or dy: the kernel only zeroes dw.
  const offset = (t: TensorInfo) => util.sizeFromShape(t.shape) === 0 ? 0 : heapOffset(b, t);
  const mod = visionOpsWasm(b);
  const dw = allocOutput(b, filterShape);
  mod.conv3d_backprop_filter(offset(x), offset(dy), dw.offset, info.batchSize, info.inDepth, info.inHeight,
      info.inWidth, info.inChannels, info.outDepth, info.outHeight, info.outWidth, info.outChannels,
      info.strideDepth, info.strideHeight, info.strideWidth, info.padInfo.front, info.padInfo.top,
      info.padInfo.left, info.filterDepth, info.filterHeight, info.filterWidth);
  return dw.info;
};

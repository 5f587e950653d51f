import {backend_util, Conv2DBackpropFilter, Conv2DBackpropFilterAttrs, KernelFunc, TensorInfo, util}
  from '@tensorflow/tfjs-core';
import {allocOutput, assertFloat32, heapOffset, visionOpsWasm, WasmBackendLike} from './module.ts';

/**
 * tfjs's Conv2DBackpropFilter (the filter gradient of conv2d), which
 * tfjs-backend-wasm 4.22 does not have; NHWC or NCHW, zero copy.
 */
export const conv2DBackpropFilterWasm: KernelFunc = ({inputs, backend, attrs}) => {
  const b = backend as unknown as WasmBackendLike;
  const {x, dy} = inputs as {x: TensorInfo, dy: TensorInfo};
  const {strides, pad, dataFormat, dimRoundingMode, filterShape} = attrs as unknown as Conv2DBackpropFilterAttrs;
  assertFloat32(Conv2DBackpropFilter, 'x', x);
  assertFloat32(Conv2DBackpropFilter, 'dy', dy);
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1,
      pad, dimRoundingMode, false, backend_util.convertConv2DDataFormat(dataFormat));
  if (util.sizeFromShape(filterShape) === 0) return b.makeOutput(filterShape, 'float32');
  // Empty x or dy: the kernel only zeroes dw (and reads nothing, so offset 0 is safe).
  const offset = (t: TensorInfo) => util.sizeFromShape(t.shape) === 0 ? 0 : heapOffset(b, t);
  const mod = visionOpsWasm(b);
  const dw = allocOutput(b, filterShape);
  const last = info.dataFormat === 'channelsLast';
  const strideOf = (shape: number[]) => {
    const s = util.computeStrides(shape);
    return last ? [s[0], s[1], s[2], 1] : [s[0], s[2], 1, s[1]];
  };
  mod.conv2d_backprop_filter(offset(x), offset(dy), dw.offset, info.batchSize, info.inHeight,
      info.inWidth, info.inChannels, info.outHeight, info.outWidth, info.outChannels, info.strideHeight,
      info.strideWidth, info.padInfo.top, info.padInfo.left, info.filterHeight, info.filterWidth,
      ...strideOf(x.shape), ...strideOf(dy.shape));
  return dw.info;
};

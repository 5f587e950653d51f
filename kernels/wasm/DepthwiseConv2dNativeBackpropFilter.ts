import {backend_util, DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropFilterAttrs, KernelFunc,
  TensorInfo, util} from '@tensorflow/tfjs-core';
import {allocOutput, assertFloat32, heapOffset, visionOpsWasm, WasmBackendLike} from './module.ts';

/**
 * tfjs's DepthwiseConv2dNativeBackpropFilter (the filter gradient of
 * depthwiseConv2d), which tfjs-backend-wasm 4.22 does not have; NHWC, any
 * channel multiplier, dilation 1, zero copy.
 */
export const depthwiseConv2dNativeBackpropFilterWasm: KernelFunc = ({inputs, backend, attrs}) => {
  const b = backend as unknown as WasmBackendLike;
  const {x, dy} = inputs as {x: TensorInfo, dy: TensorInfo};
  const {strides, dilations, pad, dimRoundingMode, filterShape} =
      attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const name = DepthwiseConv2dNativeBackpropFilter;
  assertFloat32(name, 'x', x);
  assertFloat32(name, 'dy', dy);
  util.assert(x.shape.length === 4 && filterShape.length === 4 && dy.shape.length === 4,
      () => `${name} (wasm): x [${x.shape}], filterShape [${filterShape}] and dy [${dy.shape}] must be rank 4`);
  util.assert(filterShape[2] === x.shape[3],
      () => `${name} (wasm): filterShape [${filterShape}] must have x's ${x.shape[3]} input channels`);
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides,
      dilations ?? 1, pad, dimRoundingMode, true);
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    throw new Error(`${name} (wasm): dilations must be 1 (as tfjs's gradient of depthwiseConv2d requires), ` +
        `got [${info.dilationHeight}, ${info.dilationWidth}]`);
  }
  util.assert(util.arraysEqual(dy.shape, info.outShape),
      () => `${name} (wasm): dy [${dy.shape}] must be depthwiseConv2d's output shape [${info.outShape}]`);
  if (util.sizeFromShape(filterShape) === 0) return b.makeOutput(filterShape, 'float32');
  // Empty x or dy: the kernel only zeroes dw (and reads nothing, so offset 0 is safe).
  const offset = (t: TensorInfo) => util.sizeFromShape(t.shape) === 0 ? 0 : heapOffset(b, t);
  const mod = visionOpsWasm(b);
  const dw = allocOutput(b, filterShape);
  mod.depthwise_conv2d_backprop_filter(offset(x), offset(dy), dw.offset, info.batchSize, info.inHeight,
      info.inWidth, info.inChannels, info.outHeight, info.outWidth, filterShape[3], info.strideHeight,
      info.strideWidth, info.padInfo.top, info.padInfo.left, info.filterHeight, info.filterWidth);
  return dw.info;
};

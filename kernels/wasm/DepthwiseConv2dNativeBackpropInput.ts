import {backend_util, DepthwiseConv2dNativeBackpropInput, DepthwiseConv2dNativeBackpropInputAttrs, KernelFunc,
  TensorInfo, util} from '@tensorflow/tfjs-core';
import {allocOutput, assertFloat32, heapOffset, visionOpsWasm, WasmBackendLike} from './module.ts';

/**
 * tfjs's DepthwiseConv2dNativeBackpropInput (the input gradient of
 * depthwiseConv2d), which tfjs-backend-wasm 4.22 does not have; NHWC, any
 * channel multiplier, dilation 1, zero copy.
 */
export const depthwiseConv2dNativeBackpropInputWasm: KernelFunc = ({inputs, backend, attrs}) => {
  const b = backend as unknown as WasmBackendLike;
  const {dy, filter} = inputs as {dy: TensorInfo, filter: TensorInfo};
  const {strides, dilations, pad, dimRoundingMode, inputShape} =
      attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const name = DepthwiseConv2dNativeBackpropInput;
  assertFloat32(name, 'dy', dy);
  assertFloat32(name, 'filter', filter);
  util.assert(inputShape.length === 4 && filter.shape.length === 4 && dy.shape.length === 4,
      () => `${name} (wasm): inputShape [${inputShape}], filter [${filter.shape}] and dy [${dy.shape}] must be rank 4`);
  util.assert(filter.shape[2] === inputShape[3],
      () => `${name} (wasm): filter [${filter.shape}] must have inputShape's ${inputShape[3]} input channels`);
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides,
      dilations ?? 1, pad, dimRoundingMode, true);
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    throw new Error(`${name} (wasm): dilations must be 1 (as tfjs's gradient of depthwiseConv2d requires), ` +
        `got [${info.dilationHeight}, ${info.dilationWidth}]`);
  }
  util.assert(util.arraysEqual(dy.shape, info.outShape),
      () => `${name} (wasm): dy [${dy.shape}] must be depthwiseConv2d's output shape [${info.outShape}]`);
  if (util.sizeFromShape(inputShape) === 0) return b.makeOutput(inputShape, 'float32');
  // Empty dy or filter: the kernel only zeroes dx (and reads nothing, so offset 0 is safe).
  const offset = (t: TensorInfo) => util.sizeFromShape(t.shape) === 0 ? 0 : heapOffset(b, t);
  const mod = visionOpsWasm(b);
  const dx = allocOutput(b, inputShape);
  mod.depthwise_conv2d_backprop_input(offset(dy), offset(filter), dx.offset, info.batchSize, info.inHeight,
      info.inWidth, info.inChannels, info.outHeight, info.outWidth, filter.shape[3], info.strideHeight,
      info.strideWidth, info.padInfo.top, info.padInfo.left, info.filterHeight, info.filterWidth);
  return dx.info;
};

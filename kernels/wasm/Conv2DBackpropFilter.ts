import {backend_util, Conv2DBackpropFilter, Conv2DBackpropFilterAttrs, TensorInfo, util} from '@tensorflow/tfjs-core';
import {assertFloat32, ModuleKernel} from './call.ts';

/**
 * tfjs's Conv2DBackpropFilter (the filter gradient of conv2d), which
 * tfjs-backend-wasm 4.22 does not have; NHWC or NCHW.
 */
export const conv2DBackpropFilterModule: ModuleKernel = (run, {inputs, attrs}) => {
  const {x, dy} = inputs as {x: TensorInfo, dy: TensorInfo};
  const {strides, pad, dataFormat, dimRoundingMode, filterShape} = attrs as unknown as Conv2DBackpropFilterAttrs;
  assertFloat32(run, Conv2DBackpropFilter, 'x', x);
  assertFloat32(run, Conv2DBackpropFilter, 'dy', dy);
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1,
      pad, dimRoundingMode, false, backend_util.convertConv2DDataFormat(dataFormat));
  if (util.sizeFromShape(filterShape) === 0) return run.zeros(filterShape, 'float32');
  const last = info.dataFormat === 'channelsLast';
  const strideOf = (shape: number[]) => {
    const s = util.computeStrides(shape);
    return last ? [s[0], s[1], s[2], 1] : [s[0], s[2], 1, s[1]];
  };
  // Empty x or dy: the kernel only zeroes dw.
  return run.run({
    fn: 'conv2d_backprop_filter',
    args: [{input: x}, {input: dy}, {output: 0}, info.batchSize, info.inHeight, info.inWidth, info.inChannels,
      info.outHeight, info.outWidth, info.outChannels, info.strideHeight, info.strideWidth, info.padInfo.top,
      info.padInfo.left, info.filterHeight, info.filterWidth, ...strideOf(x.shape), ...strideOf(dy.shape)],
    outputs: [{shape: filterShape, dtype: 'float32', what: 'conv2d_backprop_filter dw'}],
  }).outputs[0];
};

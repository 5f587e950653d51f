import {backend_util, DepthwiseConv2dNativeBackpropFilterAttrs, TensorInfo, util} from '@tensorflow/tfjs-core';
import {assertFloat32, ModuleKernel} from './call.ts';

type Shape4 = [number, number, number, number];

/**
 * The gradients of depthwiseConv2d that tfjs-backend-wasm 4.22 does not
 * have, one config for both (NHWC, any channel multiplier, dilation 1):
 * 'input' (DepthwiseConv2dNativeBackpropInput: inputs dy, filter; attr
 * inputShape) or 'filter' (DepthwiseConv2dNativeBackpropFilter: inputs
 * x, dy; attr filterShape). The shapes are checked against the forward's
 * before the kernel reads anything.
 */
export function depthwiseGradModule(name: string, of: 'input'|'filter'): ModuleKernel {
  return (run, {inputs, attrs}) => {
    const {dy} = inputs as {dy: TensorInfo};
    const a = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs & {inputShape: number[]};
    const other = of === 'input' ? (inputs as {filter: TensorInfo}).filter : (inputs as {x: TensorInfo}).x;
    const otherName = of === 'input' ? 'filter' : 'x';
    assertFloat32(run, name, 'dy', dy);
    assertFloat32(run, name, otherName, other);
    const xShape = (of === 'input' ? a.inputShape : other.shape) as Shape4;
    const filterShape = (of === 'input' ? other.shape : a.filterShape) as Shape4;
    util.assert(xShape.length === 4 && filterShape.length === 4 && dy.shape.length === 4,
        () => `${name} (${run.backendName}): input [${xShape}], filter [${filterShape}] and dy [${dy.shape}] must be rank 4`);
    util.assert(filterShape[2] === xShape[3],
        () => `${name} (${run.backendName}): filter [${filterShape}] must have the input's ${xShape[3]} channels`);
    const info = backend_util.computeConv2DInfo(xShape, filterShape, a.strides, a.dilations ?? 1, a.pad,
        a.dimRoundingMode, true);
    if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
      throw new Error(`${name} (${run.backendName}): dilations must be 1 (as tfjs's gradient of depthwiseConv2d requires), ` +
          `got [${info.dilationHeight}, ${info.dilationWidth}]`);
    }
    util.assert(util.arraysEqual(dy.shape, info.outShape),
        () => `${name} (${run.backendName}): dy [${dy.shape}] must be depthwiseConv2d's output shape [${info.outShape}]`);
    const outShape = of === 'input' ? xShape : filterShape;
    if (util.sizeFromShape(outShape) === 0) return run.zeros(outShape, 'float32');
    // Empty inputs: the kernel only zeroes its output.
    const [first, second] = of === 'input' ? [dy, other] : [other, dy];
    return run.run({
      fn: of === 'input' ? 'depthwise_conv2d_backprop_input' : 'depthwise_conv2d_backprop_filter',
      args: [{input: first}, {input: second}, {output: 0}, info.batchSize, info.inHeight, info.inWidth,
        info.inChannels, info.outHeight, info.outWidth, filterShape[3], info.strideHeight, info.strideWidth,
        info.padInfo.top, info.padInfo.left, info.filterHeight, info.filterWidth],
      outputs: [{shape: outShape, dtype: 'float32', what: `${name} output`}],
    }).outputs[0];
  };
}

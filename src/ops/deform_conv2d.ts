import * as tf from '@tensorflow/tfjs-core';
import {NamedAttrMap, Tensor, Tensor1D, Tensor4D, TensorLike} from '@tensorflow/tfjs-core';
import {DeformConv2d, DeformConv2dAttrs} from '../kernel_names.ts';
import {DATA_FORMATS, DataFormat, permute} from './roi_common.ts';
import {checkAtMost, checkElementCount, MAX_CONV_PARAM} from './limits.ts';
import {runVisionKernel} from './run_kernel.ts';
import {assertDtype, assertOneOf, assertRank, assertTensor, checkIntPair, checkOptions, fail, toTensor} from './validate.ts';

/** 'OIHW': torchvision's [Cout, Cin / groups, KH, KW]; 'HWIO': tfjs's [KH, KW, Cin / groups, Cout]. */
export type WeightFormat = 'OIHW'|'HWIO';
/** Every {@link WeightFormat}, for validation. */
export const WEIGHT_FORMATS: readonly WeightFormat[] = ['OIHW', 'HWIO'];

/** Options of {@link deformConv2d}. */
export interface DeformConv2dArgs {
  /** [Cout] (a tensor or TensorLike), added to every output position. Default null (no bias). */
  bias?: Tensor1D|TensorLike|null;
  /** One number or [height, width]; integers >= 1. Default 1. */
  stride?: number|[number, number];
  /** Zero padding on both sides, one number or [height, width]; integers >= 0. Default 0. */
  padding?: number|[number, number];
  /** One number or [height, width]; integers >= 1. Default 1. */
  dilation?: number|[number, number];
  /**
   * Modulation (DCNv2), [B, OH, OW, offsetGroups KH KW] (channelsFirst:
   * [B, offsetGroups KH KW, OH, OW]); channel g KH KW + i KW + j. Default null
   * (DCNv1, no modulation). A tensor or TensorLike.
   */
  mask?: Tensor4D|TensorLike|null;
  /** Layout of x, offset, mask and the output. Default 'channelsLast'. */
  dataFormat?: DataFormat;
  /** Default 'OIHW' (torchvision's). */
  weightFormat?: WeightFormat;
}

/** [B, H, W, C] dims of a 4-D tensor in either data format. */
function dims(t: Tensor, dataFormat: DataFormat): [number, number, number, number] {
  const [a, b, c, d] = t.shape;
  return dataFormat === 'channelsLast' ? [a, b, c, d] : [a, c, d, b];
}

function checkMap(op: string, arg: string, t: unknown): asserts t is Tensor4D {
  assertTensor(op, arg, t);
  assertRank(op, arg, t, [4]);
  assertDtype(op, arg, t, ['float32']);
}

/**
 * Deformable convolution v1/v2 (DCNv2 with `mask`). Kernel point (i, j) of
 * output position (oy, ox) samples x bilinearly (zero outside the map) at
 * (oy s - p + i d + dy, ox s - p + j d + dx), the (dy, dx) of offset channels
 * g 2 KH KW + 2 (i KW + j) + (0, 1) for the channels of offset group g; each
 * sample is multiplied by the mask (when given) and the weight. Weight groups
 * = Cin / weight's Cin / groups dimension; offset groups G = offset channels /
 * (2 KH KW). Differentiable for x, offset, mask, weight and bias.
 *
 * Shapes (channelsLast): x [B, H, W, Cin], offset [B, OH, OW, 2 G KH KW],
 * mask [B, OH, OW, G KH KW] -> [B, OH, OW, Cout]; channelsFirst: all four
 * NCHW. weight [Cout, Cin / groups, KH, KW] ('OIHW') or [KH, KW, Cin / groups,
 * Cout] ('HWIO'), bias [Cout]. Every tensor input (bias and mask too) may be
 * a TensorLike (nested arrays, typed arrays). The options object holds
 * torchvision's keyword arguments (a non-object options argument is an
 * Error). Defaults: bias null, stride 1, padding 0, dilation 1, mask null,
 * dataFormat 'channelsLast', weightFormat 'OIHW'.
 * torchvision: `deform_conv2d(input, offset, weight, bias=None, stride=(1, 1),
 * padding=(0, 0), dilation=(1, 1), mask=None)`.
 *
 * ```js
 * // x [1, 5, 5, 3] NHWC, 3x3 kernel, one offset group: offset [1, 5, 5, 18]
 * deformConv2d(x, offset, weight, {padding: 1})  // weight [Cout, 3, 3, 3] OIHW -> [1, 5, 5, Cout]
 * // torchvision's deform_conv2d(input, offset, weight, bias, padding=(1, 1), mask=mask), NCHW:
 * deformConv2d(input, offset, weight, {bias, padding: [1, 1], mask, dataFormat: 'channelsFirst'})
 * ```
 */
export function deformConv2d(
    x: Tensor4D|TensorLike, offset: Tensor4D|TensorLike, weight: Tensor4D|TensorLike,
    options: DeformConv2dArgs = {}): Tensor4D {
  const op = 'deformConv2d';
  const {bias = null, stride = 1, padding = 0, dilation = 1, mask = null, dataFormat = 'channelsLast',
    weightFormat = 'OIHW'} = checkOptions<DeformConv2dArgs>(op, 'options', options,
      ['bias', 'stride', 'padding', 'dilation', 'mask', 'dataFormat', 'weightFormat']);
  return tf.tidy(() => deformConv2dTensors(op, toTensor<Tensor4D>(op, 'x', x), toTensor<Tensor4D>(op, 'offset', offset),
      toTensor<Tensor4D>(op, 'weight', weight), bias == null ? null : toTensor<Tensor1D>(op, 'bias', bias),
      stride, padding, dilation, mask == null ? null : toTensor<Tensor4D>(op, 'mask', mask), dataFormat, weightFormat));
}

function deformConv2dTensors(
    op: string, x: Tensor4D, offset: Tensor4D, weight: Tensor4D, bias: Tensor1D|null, stride: unknown,
    padding: unknown, dilation: unknown, mask: Tensor4D|null, dataFormat: DataFormat,
    weightFormat: WeightFormat): Tensor4D {
  assertOneOf(op, 'dataFormat', dataFormat, DATA_FORMATS);
  assertOneOf(op, 'weightFormat', weightFormat, WEIGHT_FORMATS);
  checkMap(op, 'x', x);
  checkMap(op, 'offset', offset);
  checkMap(op, 'weight', weight);
  const strides = checkIntPair(op, 'stride', stride, 1);
  const pad = checkIntPair(op, 'padding', padding, 0);
  const dilations = checkIntPair(op, 'dilation', dilation, 1);
  checkAtMost(op, 'stride', strides, MAX_CONV_PARAM, ' per side');
  checkAtMost(op, 'padding', pad, MAX_CONV_PARAM, ' per side');
  checkAtMost(op, 'dilation', dilations, MAX_CONV_PARAM, ' per side');

  const [batch, height, width, channels] = dims(x, dataFormat);
  const [outChannels, groupChannels, kh, kw] = weightFormat === 'OIHW' ? weight.shape :
      [weight.shape[3], weight.shape[2], weight.shape[0], weight.shape[1]];
  if (![outChannels, groupChannels, kh, kw].every(d => d > 0)) {
    fail(op, 'weight', `must have no zero dimension, got shape [${weight.shape}] (${weightFormat})`);
  }
  if (channels % groupChannels !== 0) {
    fail(op, 'weight', `has ${groupChannels} input channels per group, which does not divide ` +
        `the ${channels} channels of x (shape [${weight.shape}], ${weightFormat})`);
  }
  checkAtMost(op, 'weight', [kh, kw], MAX_CONV_PARAM, ' per side of the kernel (KH, KW)');
  // The column buffer holds Cin KH KW floats per output position (at least one position per chunk).
  checkElementCount(op, 'weight', 'a column buffer row (Cin × KH × KW)', [channels, kh, kw]);
  const groups = channels / groupChannels;
  if (outChannels % groups !== 0) {
    fail(op, 'weight', `has ${outChannels} output channels, not divisible by the ${groups} weight groups`);
  }
  const outHeight = Math.floor((height + 2 * pad[0] - (dilations[0] * (kh - 1) + 1)) / strides[0]) + 1;
  const outWidth = Math.floor((width + 2 * pad[1] - (dilations[1] * (kw - 1) + 1)) / strides[1]) + 1;
  if (outHeight <= 0 || outWidth <= 0) {
    fail(op, 'x', `of size ${height}x${width} is too small for a ${kh}x${kw} kernel with padding ` +
        `[${pad}] and dilation [${dilations}] (output ${outHeight}x${outWidth})`);
  }
  const [offsetBatch, offsetHeight, offsetWidth, offsetChannels] = dims(offset, dataFormat);
  if (offsetChannels === 0 || offsetChannels % (2 * kh * kw) !== 0) {
    fail(op, 'offset', `must have a positive multiple of 2 * ${kh} * ${kw} = ${2 * kh * kw} channels ` +
        `(2 * offsetGroups * KH * KW), got ${offsetChannels}`);
  }
  const offsetGroups = offsetChannels / (2 * kh * kw);
  if (channels % offsetGroups !== 0) {
    fail(op, 'offset', `has ${offsetGroups} offset groups, which do not divide the ${channels} channels of x`);
  }
  const expected = `[${batch}, ${outHeight}, ${outWidth}] (batch, output height, output width)`;
  if (offsetBatch !== batch || offsetHeight !== outHeight || offsetWidth !== outWidth) {
    fail(op, 'offset', `must match ${expected}, got shape [${offset.shape}] (${dataFormat})`);
  }
  // offset [B, OH, OW, 2 G KH KW] exists, so only Cout can make the output too large.
  checkElementCount(op, 'weight', 'an output [B, OH, OW, Cout]', [batch, outHeight, outWidth, outChannels]);
  if (mask != null) {
    checkMap(op, 'mask', mask);
    const [mb, mh, mw, mc] = dims(mask, dataFormat);
    if (mc !== offsetGroups * kh * kw) {
      fail(op, 'mask', `must have offsetGroups * KH * KW = ${offsetGroups * kh * kw} channels, got ${mc}`);
    }
    if (mb !== batch || mh !== outHeight || mw !== outWidth) {
      fail(op, 'mask', `must match ${expected}, got shape [${mask.shape}] (${dataFormat})`);
    }
  }
  if (bias != null) {
    assertTensor(op, 'bias', bias);
    assertDtype(op, 'bias', bias, ['float32']);
    if (bias.rank !== 1 || bias.shape[0] !== outChannels) {
      fail(op, 'bias', `must have shape [${outChannels}], got [${bias.shape}]`);
    }
  }

  return tf.tidy(() => {
    const first = dataFormat === 'channelsFirst';
    const last = (t: Tensor4D) => first ? permute(t, [0, 2, 3, 1]) : t;
    const attrs: DeformConv2dAttrs = {strides, pad, dilations, groups, offsetGroups, useMask: mask != null};
    let out = runVisionKernel<Tensor4D>(op, DeformConv2d, {
      x: last(x),
      offset: last(offset),
      mask: mask != null ? last(mask) : tf.zeros([1]),
      weight: weightFormat === 'OIHW' ? tf.transpose(weight, [2, 3, 1, 0]) : weight,
    }, attrs as unknown as NamedAttrMap);
    if (bias != null) out = tf.add(out, bias);
    return first ? permute(out, [0, 3, 1, 2]) : out;
  });
}

/** Arguments shared by the RoI ops (roiAlign, roiPool, psRoiAlign, psRoiPool). */
import * as tf from '@tensorflow/tfjs-core';
import {NamedAttrMap, Tensor, Tensor2D, Tensor4D, TensorLike} from '@tensorflow/tfjs-core';
import {runVisionKernel} from './run_kernel.ts';
import {checkAtMost, checkElementCount, MAX_OUTPUT_SIZE, MAX_SAMPLING_RATIO} from './limits.ts';
import {assertDtype, assertLastDim, assertOneOf, assertRank, assertTensor, checkOptions, describe, fail, isPlainObject, toTensor} from './validate.ts';

/**
 * Layout of feature maps: 'channelsLast' (the default everywhere, tfjs's
 * NHWC / NDHWC) or 'channelsFirst' (torchvision's NCHW / NCDHW).
 */
export type DataFormat = 'channelsLast'|'channelsFirst';
export const DATA_FORMATS: readonly DataFormat[] = ['channelsLast', 'channelsFirst'];

/**
 * RoIs as torchvision takes them: one [K, 5] tensor of (batch index, x1, y1,
 * x2, y2), or one [L, 4] tensor of (x1, y1, x2, y2) per image. Each may be a
 * TensorLike instead of a tensor: a nested array of depth 2 ([[b, x1, y1, x2,
 * y2], ...]) is the [K, 5] form, an array of tensors or of depth-3 nested
 * arrays ([[[x1, y1, x2, y2], ...], ...]) the per-image form.
 */
export type RoiBoxes = Tensor2D|TensorLike|Array<Tensor2D|TensorLike>;

/** Options of roiPool and psRoiPool, and the base of the roiAlign and psRoiAlign options. */
export interface RoiOpArgs {
  /** Output size (pooled height and width): one number or [height, width]. Required. */
  outputSize: number|[number, number];
  /** Map coordinates = box coordinates * spatialScale (e.g. 1/8 at stride 8). Default 1. */
  spatialScale?: number;
  /** Default 'channelsLast': x [N, H, W, C] gives [K, oh, ow, C]; 'channelsFirst': [N, C, H, W] gives [K, C, oh, ow]. */
  dataFormat?: DataFormat;
}

export function checkFeatureMap(op: string, x: unknown, dataFormat: unknown): asserts x is Tensor4D {
  assertOneOf(op, 'dataFormat', dataFormat, DATA_FORMATS);
  assertTensor(op, 'x', x);
  assertRank(op, 'x', x, [4]);
  assertDtype(op, 'x', x, ['float32']);
}

/** Whether an array of boxes is the per-image list form (empty, holds a tensor, or nested 3 deep). */
function isPerImageList(boxes: unknown[]): boolean {
  if (boxes.length === 0 || boxes.some(b => b instanceof Tensor)) return true;
  const first = boxes[0];
  return Array.isArray(first) && first.length > 0 && (Array.isArray(first[0]) || ArrayBuffer.isView(first[0]));
}

/**
 * The boxes argument as tensors (TensorLike converted: call inside tf.tidy),
 * not yet checked: a [K, 5] tensor or a list of per-image tensors.
 */
export function toBoxes(op: string, boxes: unknown): Tensor2D|Tensor2D[] {
  if (Array.isArray(boxes) && isPerImageList(boxes)) {
    return boxes.map((b, i) => toTensor<Tensor2D>(op, `boxes[${i}]`, b));
  }
  if (boxes instanceof Tensor || Array.isArray(boxes) || ArrayBuffer.isView(boxes)) {
    return toTensor<Tensor2D>(op, 'boxes', boxes);
  }
  return fail(op, 'boxes', `must be a [K, 5] tf.Tensor or an array of [L, 4] tensors (or TensorLike), ` +
      `got ${describe(boxes)}`);
}

/**
 * The arguments of an RoI op called either way: (outputSize, options?)
 * (torchvision's positional output_size, a number or [height, width], the
 * rest in an options object) or one options object holding outputSize.
 * `keys` are the options other than outputSize, for the error messages.
 */
export function roiArgs<T extends RoiOpArgs>(
    op: string, outputSizeOrArgs: unknown, options: unknown, keys: readonly string[]): T {
  const usage = `pass it as the third argument (${op}(x, boxes, 7) or ${op}(x, boxes, [7, 7], ` +
      `{${keys.join(', ')}})) or as {outputSize, ...}`;
  if (outputSizeOrArgs == null) fail(op, 'outputSize', `is required: ${usage}`);
  if (typeof outputSizeOrArgs === 'number' || Array.isArray(outputSizeOrArgs)) {
    const rest = checkOptions<Partial<T>>(op, 'options', options, keys);
    if (rest.outputSize !== undefined) {
      fail(op, 'outputSize', 'is given twice: as the third argument and in the options object');
    }
    return {...rest, outputSize: outputSizeOrArgs} as T;
  }
  if (!isPlainObject(outputSizeOrArgs)) {
    fail(op, 'outputSize', `(the third argument) must be a positive integer, [height, width] or an options ` +
        `object {outputSize, ${keys.join(', ')}}, got ${describe(outputSizeOrArgs)}`);
  }
  if (options !== undefined) {
    fail(op, 'options', `must not follow an options object (the third argument already holds the options), ` +
        `got ${describe(options)}`);
  }
  if (outputSizeOrArgs.outputSize == null) {
    fail(op, 'outputSize', `is required: ${usage}; the options object has ` +
        `${Object.keys(outputSizeOrArgs).length === 0 ? 'no keys' : `keys ${Object.keys(outputSizeOrArgs).join(', ')}`}`);
  }
  return outputSizeOrArgs as unknown as T;
}

export function checkOutputSize(op: string, outputSize: unknown): [number, number] {
  const size = typeof outputSize === 'number' ? [outputSize, outputSize] : outputSize;
  if (!Array.isArray(size) || size.length !== 2 ||
      !size.every(v => typeof v === 'number' && Number.isInteger(v) && v > 0)) {
    fail(op, 'outputSize', `must be a positive integer or [height, width] of positive integers, ` +
        `got ${JSON.stringify(outputSize)}`);
  }
  checkAtMost(op, 'outputSize', size as number[], MAX_OUTPUT_SIZE, ' per side');
  return size as [number, number];
}

export function checkSpatialScale(op: string, spatialScale: unknown): number {
  if (typeof spatialScale !== 'number' || !Number.isFinite(spatialScale) || spatialScale <= 0) {
    fail(op, 'spatialScale', `must be a finite number > 0, got ${spatialScale}`);
  }
  return spatialScale;
}

/**
 * samplingRatio as the kernels take it: an integer <= MAX_SAMPLING_RATIO;
 * every value <= 0 (adaptive) becomes -1, so that no huge negative reaches an
 * int32 kernel argument.
 */
export function checkSamplingRatio(op: string, samplingRatio: unknown): number {
  if (typeof samplingRatio !== 'number' || !Number.isInteger(samplingRatio)) {
    fail(op, 'samplingRatio', `must be an integer (<= 0: adaptive), got ${samplingRatio}`);
  }
  checkAtMost(op, 'samplingRatio', [samplingRatio], MAX_SAMPLING_RATIO, ' samples per bin and axis');
  return samplingRatio > 0 ? samplingRatio : -1;
}

/** Checks the output [K, oh, ow, C] (K the number of boxes) against MAX_TENSOR_ELEMENTS. */
export function checkRoiOutput(
    op: string, boxes: Tensor2D|Tensor2D[], pooledHeight: number, pooledWidth: number, channels: number) {
  const numBoxes = Array.isArray(boxes) ? boxes.reduce((n, b) => n + b.shape[0], 0) : boxes.shape[0];
  checkElementCount(op, 'outputSize', 'an output [K, oh, ow, C]', [numBoxes, pooledHeight, pooledWidth, channels]);
}

/** The feature map and boxes of an RoI op, converted (call inside tf.tidy) and checked against each other. */
export function roiInputs(
    op: string, x: unknown, boxes: unknown, dataFormat: unknown): {map: Tensor4D, rois: Tensor2D|Tensor2D[]} {
  const map = toTensor<Tensor4D>(op, 'x', x);
  checkFeatureMap(op, map, dataFormat);
  const rois = toBoxes(op, boxes);
  checkBoxes(op, rois, map.shape[0]);
  return {map, rois};
}

/** Checks boxes against a map of `batch` images. */
export function checkBoxes(op: string, boxes: unknown, batch: number) {
  const numeric = ['float32', 'int32'];
  if (Array.isArray(boxes)) {
    if (boxes.length !== batch) {
      fail(op, 'boxes', `as a list must hold one [L, 4] tensor per image (${batch}), got ${boxes.length}`);
    }
    boxes.forEach((b, i) => {
      const arg = `boxes[${i}]`;
      assertTensor(op, arg, b);
      assertRank(op, arg, b, [2]);
      assertLastDim(op, arg, b, 4);
      assertDtype(op, arg, b, numeric);
    });
    return;
  }
  if (!(boxes instanceof Tensor)) {
    fail(op, 'boxes', `must be a [K, 5] tf.Tensor or an array of [L, 4] tensors, got ${typeof boxes}`);
  }
  assertRank(op, 'boxes', boxes, [2]);
  assertLastDim(op, 'boxes', boxes, 5);
  assertDtype(op, 'boxes', boxes, numeric);
}

/** [K, 5] float32 RoIs; a list gets its image index prepended. */
export function toRois(boxes: Tensor2D|Tensor2D[]): Tensor2D {
  if (!Array.isArray(boxes)) return tf.cast(boxes, 'float32');
  if (boxes.length === 0) return tf.zeros([0, 5]);
  return tf.concat(boxes.map((b, i) =>
      tf.concat([tf.fill([b.shape[0], 1], i), tf.cast(b, 'float32')], 1)), 0) as Tensor2D;
}

/** tf.transpose, except for empty tensors (tfjs-backend-wasm 4.22's Transpose divides by zero on them). */
export function permute<T extends Tensor>(t: T, perm: number[]): T {
  return t.size === 0 ? tf.reshape(t, perm.map(i => t.shape[i])) as T : tf.transpose(t, perm);
}

/** Runs an RoI kernel (channelsLast) for either data format. */
export function runRoiKernel(
    op: string, kernel: string, x: Tensor4D, boxes: Tensor2D|Tensor2D[], attrs: object,
    dataFormat: DataFormat): Tensor4D {
  return tf.tidy(() => {
    const first = dataFormat === 'channelsFirst';
    const out = runVisionKernel<Tensor4D>(op, kernel, {
      x: first ? permute(x, [0, 2, 3, 1]) : x,
      boxes: toRois(boxes),
    }, attrs as NamedAttrMap);
    return first ? permute(out, [0, 3, 1, 2]) : out;
  });
}

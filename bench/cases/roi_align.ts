/**
 * roiAlign as in a Faster R-CNN head: N=2, C=256, 64x64 map at stride 8,
 * K=512 boxes of 16-144 px, 7x7, samplingRatio 2, aligned, channelsLast;
 * beside tf.image.cropAndResize (14x14 then 2x2 average pooling, and 7x7
 * alone), which has no gradient in tfjs.
 */
import * as tf from '@tensorflow/tfjs-core';
import {roiAlign} from '../../src/index';
import {RoiAlignGrad} from '../../src/kernel_names';
import {roiAlignAttrs} from '../../src/ops/roi_align';
import {BenchCase, BenchSize, timeMedian, torchvisionRows} from '../harness';

const NAME = 'roi_align_2x64x64x256_k512_7x7';
const STRIDE = 8;
/** The map's batch and side, channels and boxes: full (the name's), and tiny (`--tiny`). */
export const ROI_DIMS = {full: {batch: 2, size: 64, channels: 256, boxes: 512},
  tiny: {batch: 2, size: 8, channels: 8, boxes: 8}};
const ARGS = {outputSize: 7, spatialScale: 1 / STRIDE, samplingRatio: 2, aligned: true};
/** More warm-up than the default: the cpu kernel's loops must reach V8's optimising tier. */
const TIMING = {warmup: 4, runs: 11};

/**
 * Image-space boxes [K, 4] (x1, y1, x2, y2) of 1/32 to 9/32 of the image
 * (16-144 px inside the full size's 512x512 image), and their images.
 */
function makeBoxes(count: number, batch: number, image: number) {
  return tf.tidy(() => {
    const wh = tf.randomUniform([count, 2], image / 32, image * 9 / 32, 'float32', 1);
    const xy = tf.mul(tf.randomUniform([count, 2], 0, 1, 'float32', 2), tf.sub(image, wh));
    const index = tf.floor(tf.randomUniform([count, 1], 0, batch, 'float32', 3));
    return {xyxy: tf.concat([xy, tf.add(xy, wh)], 1), index};
  });
}

/**
 * The map x [N, side, side, channels] (stride 8; N and side from ROI_DIMS[size])
 * and `count` RoIs [K, 5] on it (index, then xyxy: the parts from makeBoxes).
 */
export function makeRoiInputs(channels: number, count: number, size: BenchSize) {
  const {batch, size: side} = ROI_DIMS[size];
  const x = tf.randomNormal([batch, side, side, channels], 0, 1, 'float32', 0) as tf.Tensor4D;
  const {xyxy, index} = makeBoxes(count, batch, side * STRIDE);
  return {x, xyxy, index, rois: tf.concat([index, xyxy], 1) as tf.Tensor2D};
}

export const roiAlignCase: BenchCase = {
  name: NAME,
  torchvisionCases: [NAME],
  backends: ['cpu', 'wasm', 'tensorflow', 'webgl', 'webgpu'],
  async run(backend, torchvision, size) {
    const {channels: CHANNELS, boxes: NUM_BOXES} = ROI_DIMS[size];
    const {x, xyxy, index, rois} = makeRoiInputs(CHANNELS, NUM_BOXES, size);
    const imageSize = ROI_DIMS[size].size * STRIDE;
    // cropAndResize: normalised [y1, x1, y2, x2] on the map, int32 box indices.
    const [cropBoxes, boxInd] = tf.tidy(() => {
      const [x1, y1, x2, y2] = tf.split(tf.div(xyxy, imageSize), 4, 1);
      return [tf.concat([y1, x1, y2, x2], 1) as tf.Tensor2D, tf.cast(tf.squeeze(index, [1]), 'int32') as tf.Tensor1D];
    });

    const forward = (await timeMedian(() => roiAlign(x, rois, ARGS), TIMING)).median;
    const dy = tf.randomNormal([NUM_BOXES, 7, 7, CHANNELS], 0, 1, 'float32', 4);
    const gradAttrs = {...roiAlignAttrs('bench', ARGS.outputSize, ARGS.spatialScale, ARGS.samplingRatio, ARGS.aligned),
      xShape: x.shape};
    const backward = (await timeMedian(
        () => tf.engine().runKernel(RoiAlignGrad, {dy, boxes: rois}, gradAttrs) as tf.Tensor, TIMING)).median;
    const both = (await timeMedian(() => tf.grad(v => roiAlign(v as tf.Tensor4D, rois, ARGS))(x, dy), TIMING)).median;
    const crop14 = (await timeMedian(() => tf.tidy(() =>
        tf.avgPool(tf.image.cropAndResize(x, cropBoxes, boxInd, [14, 14]), 2, 2, 'valid')))).median;
    const crop7 = (await timeMedian(() => tf.image.cropAndResize(x, cropBoxes, boxInd, [7, 7]))).median;
    tf.dispose([x, xyxy, index, rois, cropBoxes, boxInd, dy]);

    return [
      {case: NAME, backend, variant: 'forward', median_ms: forward,
        baseline: 'cropAndResize 14x14 + avgPool 2x2', baseline_ms: crop14},
      {case: NAME, backend, variant: 'forward', median_ms: forward, baseline: 'cropAndResize 7x7', baseline_ms: crop7},
      {case: NAME, backend, variant: 'backward (RoiAlignGrad)', median_ms: backward},
      {case: NAME, backend, variant: 'forward+backward (tf.grad)', median_ms: both},
      ...torchvisionRows(NAME, backend, torchvision,
          [['forward', forward, 'forward_ms'], ['backward (RoiAlignGrad)', backward, 'backward_ms']]),
    ];
  },
};

/**
 * psRoiAlign as in an R-FCN head: N=2, C=490 (10 classes x 7x7), 64x64 map at
 * stride 8, K=256 boxes of 16-144 px, 7x7, samplingRatio 2, channelsLast;
 * forward and forward+backward (tf.grad). The gradient is 4M values, 32 times
 * the forward's output, so reading it all back would time mostly the transfer
 * on a GPU backend: both rows sync on one value (a training step keeps the
 * gradient on the GPU), and one more row reads the whole gradient back.
 */
import * as tf from '@tensorflow/tfjs-core';
import {psRoiAlign} from '../../src/index';
import {BenchCase, timeMedian, torchvisionRows} from '../harness';
import {makeRoiInputs} from './roi_align';

const NAME = 'ps_roi_align_2x64x64x490_k256_7x7';
/** Channels (classes x 7x7) and boxes: full (the name's), and tiny (`--tiny`). */
const DIMS = {full: {channels: 490, boxes: 256}, tiny: {channels: 49, boxes: 8}};
const ARGS = {outputSize: 7, spatialScale: 1 / 8, samplingRatio: 2};
const TIMING = {warmup: 4, runs: 11, readBack: 'one value' as const};

export const psRoiAlignCase: BenchCase = {
  name: NAME,
  torchvisionCases: [NAME],
  backends: ['cpu', 'wasm', 'tensorflow', 'webgl', 'webgpu'],
  async run(backend, torchvision, size) {
    const {channels: CHANNELS, boxes: NUM_BOXES} = DIMS[size];
    const {x, xyxy, index, rois} = makeRoiInputs(CHANNELS, NUM_BOXES, size);
    const dy = tf.randomNormal([NUM_BOXES, 7, 7, CHANNELS / 49], 0, 1, 'float32', 4);
    const forward = (await timeMedian(() => psRoiAlign(x, rois, ARGS), TIMING)).median;
    const grad = () => tf.grad(v => psRoiAlign(v as tf.Tensor4D, rois, ARGS))(x, dy);
    const both = (await timeMedian(grad, TIMING)).median;
    const readBack = (await timeMedian(grad, {...TIMING, readBack: 'all'})).median;
    tf.dispose([x, xyxy, index, rois, dy]);
    return [
      {case: NAME, backend, variant: 'forward', median_ms: forward},
      {case: NAME, backend, variant: 'forward+backward (tf.grad)', median_ms: both},
      {case: NAME, backend, variant: 'forward+backward (tf.grad, gradient read back)', median_ms: readBack},
      ...torchvisionRows(NAME, backend, torchvision,
          [['forward', forward, 'forward_ms'], ['forward+backward (tf.grad)', both, 'forward_backward_ms']]),
    ];
  },
};

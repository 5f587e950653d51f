/**
 * Which implementation runs this package's kernels on tfjs-node (the
 * 'tensorflow' backend): the TensorFlow op library ('native'), or with
 * TFJS_VISION_OPS_TENSORFLOW=wasm the fallback ('wasm on host copies'); the
 * rest of the spec set runs on whichever it is. Node's 'tensorflow'
 * environments only (the register module needs node:fs); everywhere the op
 * names the library registers.
 */
import * as tf from '@tensorflow/tfjs-core';
import {opName} from '../kernels/tensorflow/runners';
import {nms, roiAlign, sigmoidFocalLoss} from '../src/index';
import {expectClose} from './support/helpers';

const onTensorflow = typeof process !== 'undefined' && process.env?.TFJS_BACKEND === 'tensorflow';

describe('the op library\'s op names', () => {
  it('are Vision + the CamelCase export', () => {
    expect(opName('roi_align')).toBe('VisionRoiAlign');
    expect(opName('ms_deform_attn_grad')).toBe('VisionMsDeformAttnGrad');
    expect(opName('conv2d_backprop_filter')).toBe('VisionConv2dBackpropFilter');
  });
});

if (onTensorflow) describe('tensorflow backend kernels', () => {
  // A computed path: the browser bundle must not follow it.
  const register = ['..', 'kernels', 'tensorflow', 'register'].join('/');
  const {tensorflowImplementation} = require(register) as typeof import('../kernels/tensorflow/register');
  const expected = process.env.TFJS_VISION_OPS_TENSORFLOW === 'wasm' ? 'wasm on host copies' : 'native';

  it(`run ${expected}`, async () => {
    const x = tf.range(0, 2 * 5 * 5 * 3).reshape([2, 5, 5, 3]) as tf.Tensor4D;
    const y = roiAlign(x, [[1, 0, 0, 4, 4]], {outputSize: 2, samplingRatio: 1});
    expect(tensorflowImplementation()).toBe(expected);
    // Bin (0, 0) of image 1 samples (1, 1): 75 + 1 * 15 + 1 * 3 + channel.
    expect(Array.from(await y.data()).slice(0, 3)).toEqual([93, 94, 95]);
    tf.dispose([x, y]);
  });

  it('give the same bits on 1 thread and on 4 (rows split over threads: roiAlign over 256 boxes, focal loss elements)', async () => {
    if (expected !== 'native') return;
    const x = tf.randomNormal([2, 16, 16, 32], 0, 1, 'float32', 3) as tf.Tensor4D;
    const boxes = tf.tidy(() => tf.concat([tf.floor(tf.randomUniform([256, 1], 0, 2, 'float32', 4)),
      tf.randomUniform([256, 2], 0, 60, 'float32', 5), tf.randomUniform([256, 2], 60, 128, 'float32', 6)], 1)) as tf.Tensor2D;
    const logits = tf.randomNormal([300000], 0, 3, 'float32', 7);
    const targets = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([300000], 0, 1, 'float32', 8), 0.9), 'float32'));
    const run = async (threads: string) => {
      process.env.TFJS_VISION_OPS_THREADS = threads;
      const [pooled, loss] = [roiAlign(x, boxes, {outputSize: 7, spatialScale: 0.125, samplingRatio: 2}),
        sigmoidFocalLoss(logits, targets, {reduction: 'none'})];
      const bits = [new Uint32Array((await pooled.data() as Float32Array).buffer),
        new Uint32Array((await loss.data() as Float32Array).buffer)];
      tf.dispose([pooled, loss]);
      return bits;
    };
    try {
      // Four threads first, into fresh memory; then the cpu backend (the reference math) as a check that every
      // row was written, and one thread for the bits.
      const four = await run('4');
      await tf.setBackend('cpu');
      const reference = await run('4');
      await tf.setBackend('tensorflow');
      const one = await run('1');
      for (const i of [0, 1]) {
        expectClose(new Float32Array(four[i].buffer), new Float32Array(reference[i].buffer));
        expect(Buffer.from(four[i].buffer).equals(Buffer.from(one[i].buffer))).toBe(true);
      }
    } finally {
      delete process.env.TFJS_VISION_OPS_THREADS;
      tf.dispose([x, boxes, logits, targets]);
    }
  });

  it('read the kernels\' int32 return through the runner (nms keeps a count)', async () => {
    const boxes = tf.tensor2d([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]]);
    const scores = tf.tensor1d([0.9, 0.8, 0.7]);
    const keep = nms(boxes, scores, 0.5);
    expect(keep.shape).toEqual([2]);
    expect(Array.from(await keep.data())).toEqual([0, 2]);
    tf.dispose([boxes, scores, keep]);
  });
});

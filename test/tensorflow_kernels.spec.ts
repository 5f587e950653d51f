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
import {deformConv2d, nms, roiAlign, sigmoidFocalLoss} from '../src/index';
import {expectClose} from './support/helpers';

const onTensorflow = typeof process !== 'undefined' && process.env?.TFJS_BACKEND === 'tensorflow';

describe('the op library\'s op names', () => {
  it('are Vision + the CamelCase export', () => {
    expect(opName('roi_align')).toBe('VisionRoiAlign');
    expect(opName('ms_deform_attn_grad')).toBe('VisionMsDeformAttnGrad');
    expect(opName('conv2d_backprop_filter')).toBe('VisionConv2dBackpropFilter');
  });
});

/**
 * The bits of `run`'s results on 4 threads (first, into fresh memory), checked against the cpu backend (the
 * reference math: every row was written, once) and equal to those on each of `others` threads.
 */
async function sameBitsOnThreads(run: () => Promise<Uint32Array[]>, others: string[], dispose: () => void) {
  const on = (threads: string) => {
    process.env.TFJS_VISION_OPS_THREADS = threads;
    return run();
  };
  try {
    const four = await on('4');
    await tf.setBackend('cpu');
    const reference = await on('4');
    await tf.setBackend('tensorflow');
    four.forEach((b, i) => expectClose(new Float32Array(b.buffer), new Float32Array(reference[i].buffer),
        undefined, `result ${i}`));
    for (const threads of others) {
      const bits = await on(threads);
      four.forEach((b, i) => expect(Buffer.from(b.buffer).equals(Buffer.from(bits[i].buffer))).toBe(true));
    }
    return four;
  } finally {
    delete process.env.TFJS_VISION_OPS_THREADS;
    dispose();
  }
}

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
    const run = async () => {
      const [pooled, loss] = [roiAlign(x, boxes, {outputSize: 7, spatialScale: 0.125, samplingRatio: 2}),
        sigmoidFocalLoss(logits, targets, {reduction: 'none'})];
      const bits = [new Uint32Array((await pooled.data() as Float32Array).buffer),
        new Uint32Array((await loss.data() as Float32Array).buffer)];
      tf.dispose([pooled, loss]);
      return bits;
    };
    const bits = await sameBitsOnThreads(run, ['1'], () => tf.dispose([x, boxes, logits, targets]));
    expect(bits.length).toBe(2);
  });

  it('give the same bits on 1, 3 and 4 threads for deformConv2d and its gradients (samples split, dWeight summed in sample order)', async () => {
    if (expected !== 'native') return;
    // Uneven shares: 5 samples over 4 threads (1, 1, 1, 2) and over 3 (1, 2, 2); 3 samples without a mask (the
    // dummy mask and dMask). Offsets of a few pixels, some samples outside the map.
    const cases = [{batch: 5, useMask: true}, {batch: 3, useMask: false}];
    const inputs = cases.map(({batch, useMask}, c) => tf.tidy(() => ({
      x: tf.randomNormal([batch, 7, 6, 8], 0, 1, 'float32', 10 + c) as tf.Tensor4D,
      offset: tf.randomNormal([batch, 7, 6, 18], 0, 2, 'float32', 20 + c) as tf.Tensor4D,
      mask: useMask ? tf.randomUniform([batch, 7, 6, 9], 0, 1, 'float32', 30 + c) as tf.Tensor4D : null,
      weight: tf.randomNormal([6, 8, 3, 3], 0, 0.2, 'float32', 40 + c) as tf.Tensor4D,
      dy: tf.randomNormal([batch, 7, 6, 6], 0, 1, 'float32', 50 + c) as tf.Tensor4D,
    })));
    const run = async () => {
      const bits: Uint32Array[] = [];
      for (const {x, offset, mask, weight, dy} of inputs) {
        const f = (...t: tf.Tensor[]) => deformConv2d(t[0] as tf.Tensor4D, t[1] as tf.Tensor4D, t[2] as tf.Tensor4D,
            {padding: 1, mask: mask == null ? null : t[3] as tf.Tensor4D});
        const args = mask == null ? [x, offset, weight] : [x, offset, weight, mask];
        const outs = [f(...args), ...tf.grads(f)(args, dy)];  // out, dx, dOffset, dWeight (, dMask)
        for (const t of outs) bits.push(new Uint32Array((await t.data() as Float32Array).slice().buffer));
        tf.dispose(outs);
      }
      return bits;
    };
    // A dropped or doubled sample changes its rows, or dWeight, against the cpu backend.
    const bits = await sameBitsOnThreads(run, ['3', '1'],
        () => inputs.forEach(t => tf.dispose(Object.values(t).filter((v): v is tf.Tensor4D => v != null))));
    expect(bits.length).toBe(9);
  });

  it('read the kernels\' int32 return through the runner (nms keeps a count)', async () => {
    const boxes = tf.tensor2d([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]]);
    const scores = tf.tensor1d([0.9, 0.8, 0.7]);
    const keep = nms(boxes, scores, 0.5);
    expect(keep.shape).toEqual([2]);
    expect(Array.from(await keep.data())).toEqual([0, 2]);
    tf.dispose([boxes, scores, keep]);
  });

  it('fail a malformed call of the op library with an Error naming the op (the process lives)', () => {
    if (expected !== 'native') return;
    // VisionSigmoidFocalLoss: (const float *x, const float *t, float *out, int32_t n, double alpha, double gamma).
    const backend = tf.backend() as unknown as {
      binding: Record<string, number>,
      executeMultipleOutputs(name: string, attrs: unknown[], inputs: tf.Tensor[], n: number): tf.Tensor[],
    };
    const int = (name: string, value: number) => ({name, type: backend.binding.TF_ATTR_INT, value});
    const x = tf.tensor1d([0.5, -1, 2]);
    const alpha = [5, 0, 6, 0x3fd00000], gamma = [5, 0, 6, 0x40000000];  // 0.25, 2 as (low, high) words
    const args = [0, 0, 0, 1, 1, 0, 3, 3, ...alpha, ...gamma];
    const call = (values: number[], inputs = [x, x], outputs = 1) => {
      const described = tf.tensor1d(values, 'int32');
      try {
        const attrs = [int('n_inputs', inputs.length), int('n_int_inputs', 0), int('n_outputs', outputs),
          int('n_int_outputs', 0)];
        return backend.executeMultipleOutputs('VisionSigmoidFocalLoss', attrs, [...inputs, described], outputs);
      } finally {
        described.dispose();
      }
    };
    const valid = [args.length, ...args, 1, 3, 1, 1, 0, 0];
    const reference = sigmoidFocalLoss(x, x);  // (loads the library)
    const [loss] = call(valid);
    expectClose(loss.dataSync() as Float32Array, reference.dataSync() as Float32Array);
    tf.dispose([loss, reference]);
    const bad: Array<[string, number[]]> = [
      ['empty call', []],
      ['truncated args', [args.length, ...args.slice(0, 5)]],
      ['negative length', [-1]],
      ['length beyond the end', [1000, ...args]],
      ['no scratch_words', [args.length, ...args, 1, 3, 1, 1]],
      ['values after the header', [...valid, 7]],
      ['input out of range', [args.length, 0, 9, ...args.slice(2), 1, 3, 1, 1, 0, 0]],
      ['output not passed', [args.length, 0, 0, 0, 1, 2, 0, ...args.slice(6), 1, 3, 1, 1, 4, 0]],
      ['an input written', [args.length, 0, 0, 0, 1, 0, 0, ...args.slice(6), 1, 3, 1, 1, 0, 0]],
      ['scratch out of range', [args.length, 0, 0, 0, 1, 2, 4, ...args.slice(6), 1, 3, 1, 1, 4, 0]],
      ['negative dimension', [args.length, ...args, 1, -3, 1, 1, 0, 0]],
      ['huge output', [args.length, ...args, 2, 65536, 65536, 1, 2, 0, 0]],
      ['ranks do not add up', [args.length, ...args, 1, 3, 1, 2, 0, 0]],
      ['a double\'s high word missing', [args.length - 2, ...args.slice(0, -2), 1, 3, 1, 1, 0, 0]],
      ['negative scratch_words', [args.length, ...args, 1, 3, 1, 1, -1, 0]],
      ['header beyond scratch', [args.length, ...args, 1, 3, 1, 1, 0, 2, 1, 2]],
    ];
    for (const [what, values] of bad) {
      let message = `${what}: no error`;
      try {
        call(values);
      } catch (e) {
        message = String(e);
      }
      expect(`${what}: ${message}`).toMatch(/: .*VisionSigmoidFocalLoss \(sigmoid_focal_loss\): /);
    }
    expect(() => call(valid, [x])).toThrow(/VisionSigmoidFocalLoss/);
    x.dispose();
  });
});

/**
 * deformConv2d as in a DCNv2 block: N=2, 64 -> 64 channels, 64x64, 3x3,
 * padding 1, one offset group, with mask and bias, channelsLast; beside
 * tf.conv2d (+ bias) of the same shape on the same backend, and torchvision.
 * forward+backward takes the gradients of all five inputs. The memory row
 * gives the largest amount of backend data (tensors and kernel scratch) alive
 * at once during forward+backward beyond the inputs, the forward output and
 * the five gradients, for this input and a 4x larger batch (N=8): the
 * temporaries stay bounded.
 */
import * as tf from '@tensorflow/tfjs-core';
import {deformConv2d} from '../../src/index';
import {BenchCase, BenchRow, timeMedian} from '../harness';

const NAME = 'deform_conv2d_2x64x64x64_3x3';
const TORCH = 'torchvision 0.14, 1 thread';

function problem(batch: number) {
  return tf.tidy(() => ({
    x: tf.randomNormal([batch, 64, 64, 64], 0, 1, 'float32', 0) as tf.Tensor4D,
    offset: tf.randomNormal([batch, 64, 64, 18], 0, 1, 'float32', 1) as tf.Tensor4D,
    mask: tf.randomUniform([batch, 64, 64, 9], 0, 1, 'float32', 2) as tf.Tensor4D,
    weight: tf.randomNormal([64, 64, 3, 3], 0, 0.05, 'float32', 3) as tf.Tensor4D,
    bias: tf.randomNormal([64], 0, 0.1, 'float32', 4) as tf.Tensor1D,
    dy: tf.randomNormal([batch, 64, 64, 64], 0, 1, 'float32', 5) as tf.Tensor4D,
  }));
}

type Problem = ReturnType<typeof problem>;

function gradients(p: Problem) {
  return tf.grads((x, offset, mask, weight, bias) => deformConv2d(x as tf.Tensor4D, offset as tf.Tensor4D,
      weight as tf.Tensor4D, {padding: 1, mask: mask as tf.Tensor4D, bias: bias as tf.Tensor1D}))(
      [p.x, p.offset, p.mask, p.weight, p.bias], p.dy);
}

/**
 * Runs fn once and returns the peak bytes of backend data alive beyond what
 * was alive before, minus the bytes of what fn returns: backend.write/move
 * and disposeData are wrapped to count (the cpu kernels' own typed arrays are
 * added from the plan by the caller).
 */
function peakTemporaryBytes(fn: () => tf.Tensor[]): number {
  const b = tf.backend() as unknown as Record<string, (...a: unknown[]) => unknown>;
  const sizes = new Map<object, number>();
  let live = 0, peak = 0;
  const record = (dataId: object, shape: number[], dtype: tf.DataType) => {
    if (sizes.has(dataId)) return;
    const n = tf.util.sizeFromShape(shape) * (dtype === 'int32' || dtype === 'float32' ? 4 : 1);
    sizes.set(dataId, n);
    live += n;
    peak = Math.max(peak, live);
  };
  const original = {write: b.write, move: b.move, disposeData: b.disposeData};
  b.write = function(values: unknown, shape: number[], dtype: tf.DataType) {
    const id = original.write.call(this, values, shape, dtype) as object;
    record(id, shape, dtype);
    return id;
  } as typeof b.write;
  b.move = function(dataId: object, values: unknown, shape: number[], dtype: tf.DataType, refCount: number) {
    original.move.call(this, dataId, values, shape, dtype, refCount);
    record(dataId, shape, dtype);
  } as typeof b.move;
  b.disposeData = function(dataId: object, force?: boolean) {
    const freed = original.disposeData.call(this, dataId, force);
    if (freed && sizes.has(dataId)) {
      live -= sizes.get(dataId)!;
      sizes.delete(dataId);
    }
    return freed;
  } as typeof b.disposeData;
  try {
    const out = fn();
    const outBytes = out.reduce((s, t) => s + t.size * 4, 0);
    tf.dispose(out);
    return peak - outBytes;
  } finally {
    Object.assign(b, original);
  }
}

/** Float32Array/Float64Array temporaries of the cpu kernels (kernels/reference/deform_conv2d.ts), backward. */
function cpuTypedArrayBytes(batch: number) {
  const rowLength = 64 * 9, positions = batch * 64 * 64;
  const chunk = Math.max(1, Math.min(positions, Math.floor((1 << 20) / rowLength)));
  return 2 * chunk * rowLength * 4 + 64 * rowLength * 8;
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

export const deformConv2dCase: BenchCase = {
  name: NAME,
  torchvisionCases: [NAME],
  backends: ['cpu', 'wasm'],
  async run(backend, torchvision) {
    const timing = backend === 'cpu' ? {warmup: 1, runs: 3} : {warmup: 2, runs: 7};
    const p = problem(2);
    const hwio = tf.transpose(p.weight, [2, 3, 1, 0]) as tf.Tensor4D;
    const forward = (await timeMedian(() => deformConv2d(p.x, p.offset, p.weight,
        {padding: 1, mask: p.mask, bias: p.bias}), timing)).median;
    const both = (await timeMedian(() => gradients(p), timing)).median;
    const conv = (x: tf.Tensor, w: tf.Tensor) => tf.add(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), p.bias);
    const convForward = (await timeMedian(() => tf.tidy(() => conv(p.x, hwio)), timing)).median;
    // tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter: there, tf.conv2d's backward is dx only.
    const filterGrad = tf.getKernel('Conv2DBackpropFilter', backend) != null;
    const convBoth = (await timeMedian(() => filterGrad ?
        tf.grads((x, w) => conv(x, w))([p.x, hwio], p.dy) : [tf.grad(x => conv(x, hwio))(p.x, p.dy)], timing)).median;

    const extra = backend === 'cpu' ? cpuTypedArrayBytes : () => 0;
    const peak2 = peakTemporaryBytes(() => gradients(p)) - p.dy.size * 4 + extra(2);
    tf.dispose([p.x, p.offset, p.mask, p.weight, p.bias, p.dy, hwio]);
    const p8 = problem(8);
    const peak8 = peakTemporaryBytes(() => gradients(p8)) - p8.dy.size * 4 + extra(8);
    tf.dispose(Object.values(p8));

    const convBaseline = `tf.conv2d + bias${filterGrad ? '' : ' (backward: dx only)'}`;
    const rows: BenchRow[] = [
      {case: NAME, backend, variant: 'forward', median_ms: forward, baseline: 'tf.conv2d + bias', baseline_ms: convForward},
      {case: NAME, backend, variant: 'forward+backward (5 gradients)', median_ms: both, baseline: convBaseline,
        baseline_ms: convBoth},
      {case: NAME, backend, variant: `forward+backward; peak temporaries N=2 ${mb(peak2)} MiB, N=8 ${mb(peak8)} MiB`,
        median_ms: both},
    ];
    const torch = torchvision[NAME];
    if (torch != null) {
      rows.push({case: NAME, backend, variant: 'forward', median_ms: forward, baseline: TORCH,
        baseline_ms: torch.forward_ms});
      rows.push({case: NAME, backend, variant: 'forward+backward (5 gradients)', median_ms: both, baseline: TORCH,
        baseline_ms: torch.forward_backward_ms});
    }
    return rows;
  },
};

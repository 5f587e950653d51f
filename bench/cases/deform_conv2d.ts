/**
 * deformConv2d as in a DCNv2 block: N=2, 64 -> 64 channels, 64x64, 3x3,
 * padding 1, one offset group, with mask and bias, channelsLast; beside
 * tf.conv2d (+ bias) of the same shape on the same backend, and torchvision.
 * forward+backward takes the gradients of all five inputs. The memory row,
 * for this input and a 4x larger batch (N=8): the kernels' temporaries (the
 * column chunks: constant), and the peak of all backend data alive during
 * forward+backward beyond the inputs (measured; it grows with the tensors:
 * output, bias sum, gradients, and on wasm tfjs's copies of saved inputs).
 */
import * as tf from '@tensorflow/tfjs-core';
import {deformConv2d} from '../../src/index';
import {chunkPositions, columnLength, deformGeometry} from '../../kernels/reference/deform_conv2d';
import {deformScratchFloats} from '../../kernels/wasm/DeformConv2d';
import {BenchCase, BenchRow, BenchSize, timeMedian} from '../harness';

const NAME = 'deform_conv2d_2x64x64x64_3x3';
const TORCH = 'torchvision 0.14, 1 thread';
/**
 * Batch, the memory row's larger batch, channels (in = out) and side: full
 * (the name's), and tiny (`--tiny`).
 */
const DIMS: Record<BenchSize, {batch: number, bigBatch: number, channels: number, side: number}> = {
  full: {batch: 2, bigBatch: 8, channels: 64, side: 64},
  tiny: {batch: 1, bigBatch: 2, channels: 4, side: 8},
};

function problem(batch: number, size: BenchSize) {
  const {channels: c, side} = DIMS[size];
  return tf.tidy(() => ({
    x: tf.randomNormal([batch, side, side, c], 0, 1, 'float32', 0) as tf.Tensor4D,
    offset: tf.randomNormal([batch, side, side, 18], 0, 1, 'float32', 1) as tf.Tensor4D,
    mask: tf.randomUniform([batch, side, side, 9], 0, 1, 'float32', 2) as tf.Tensor4D,
    weight: tf.randomNormal([c, c, 3, 3], 0, 0.05, 'float32', 3) as tf.Tensor4D,
    bias: tf.randomNormal([c], 0, 0.1, 'float32', 4) as tf.Tensor1D,
    dy: tf.randomNormal([batch, side, side, c], 0, 1, 'float32', 5) as tf.Tensor4D,
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
 * was alive before (backend.write/move and disposeData are wrapped to count).
 */
function peakBackendBytes(fn: () => tf.Tensor[]): number {
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
  b.write = function(this: unknown, values: unknown, shape: number[], dtype: tf.DataType) {
    const id = original.write.call(this, values, shape, dtype) as object;
    record(id, shape, dtype);
    return id;
  } as typeof b.write;
  b.move = function(this: unknown, dataId: object, values: unknown, shape: number[], dtype: tf.DataType, refCount: number) {
    original.move.call(this, dataId, values, shape, dtype, refCount);
    record(dataId, shape, dtype);
  } as typeof b.move;
  b.disposeData = function(this: unknown, dataId: object, force?: boolean) {
    const freed = original.disposeData.call(this, dataId, force);
    if (freed && sizes.has(dataId)) {
      live -= sizes.get(dataId)!;
      sizes.delete(dataId);
    }
    return freed;
  } as typeof b.disposeData;
  try {
    tf.dispose(fn());
    return peak;
  } finally {
    Object.assign(b, original);
  }
}

/**
 * Bytes of the backward kernel's temporaries: the cpu kernel's typed arrays
 * (two column chunks, dW in float64), the wasm kernel's scratch tensor.
 */
function gradScratchBytes(backend: string, batch: number, size: BenchSize) {
  const {channels: c, side} = DIMS[size];
  const g = deformGeometry([batch, side, side, c], [3, 3, c, c],
      {strides: [1, 1], pad: [1, 1], dilations: [1, 1], groups: 1, offsetGroups: 1, useMask: true});
  const rowLength = columnLength(g), chunk = chunkPositions(batch * side * side, rowLength);
  return backend === 'wasm' ? deformScratchFloats(g, chunk, true) * 4 :
      2 * chunk * rowLength * 4 + rowLength * c * 8;
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

export const deformConv2dCase: BenchCase = {
  name: NAME,
  torchvisionCases: [NAME],
  backends: ['cpu', 'wasm', 'tensorflow', 'webgl', 'webgpu'],
  async run(backend, torchvision, size) {
    const {batch, bigBatch} = DIMS[size];
    const slow = ['cpu', 'webgl', 'webgpu'].includes(backend);  // ~1 s or more per run (webgl, webgpu: SwiftShader)
    const timing = slow ? {warmup: 1, runs: 3} : {warmup: 2, runs: 7};
    const p = problem(batch, size);
    const hwio = tf.transpose(p.weight, [2, 3, 1, 0]) as tf.Tensor4D;
    const forward = (await timeMedian(() => deformConv2d(p.x, p.offset, p.weight,
        {padding: 1, mask: p.mask, bias: p.bias}), timing)).median;
    const both = (await timeMedian(() => gradients(p), timing)).median;
    const conv = (x: tf.Tensor, w: tf.Tensor) => tf.add(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), p.bias);
    const convForward = (await timeMedian(() => tf.tidy(() => conv(p.x, hwio)), timing)).median;
    // tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter: there, tf.conv2d's backward is dx only.
    const filterGrad = tf.getKernel('Conv2DBackpropFilter', backend) != null;
    // tfjs-backend-cpu's conv2d backward takes about a minute here: one run.
    const convTiming = backend === 'cpu' ? {warmup: 0, runs: 1} : timing;
    const convBoth = (await timeMedian(() => filterGrad ?
        tf.grads((x, w) => conv(x, w))([p.x, hwio], p.dy) : [tf.grad(x => conv(x, hwio))(p.x, p.dy)],
        convTiming)).median;

    const rows: BenchRow[] = [];
    if (backend === 'cpu' || backend === 'wasm') {
      const peak = peakBackendBytes(() => gradients(p));
      const big = problem(bigBatch, size);
      const peakBig = peakBackendBytes(() => gradients(big));
      tf.dispose(Object.values(big));
      const memory = `kernel temporaries N=${batch} ${mb(gradScratchBytes(backend, batch, size))} MiB, ` +
          `N=${bigBatch} ${mb(gradScratchBytes(backend, bigBatch, size))} MiB; all backend data ` +
          `N=${batch} ${mb(peak)} MiB, N=${bigBatch} ${mb(peakBig)} MiB`;
      rows.push({case: NAME, backend, variant: `forward+backward peak memory: ${memory}`, median_ms: both});
    }
    tf.dispose([p.x, p.offset, p.mask, p.weight, p.bias, p.dy, hwio]);

    const convBaseline = `tf.conv2d + bias${filterGrad ? '' : ' (backward: dx only)'}`;
    rows.unshift(
      {case: NAME, backend, variant: 'forward', median_ms: forward, baseline: 'tf.conv2d + bias', baseline_ms: convForward},
      {case: NAME, backend, variant: 'forward+backward (5 gradients)', median_ms: both, baseline: convBaseline,
        baseline_ms: convBoth});
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

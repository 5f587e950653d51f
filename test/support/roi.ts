/** Shared checks of the RoI op specs (roiAlign, roiPool, psRoiAlign, psRoiPool). */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor} from '@tensorflow/tfjs-core';
import {expectClose, expectNoLeak, expectTensorClose, FixtureCase, fixtureTensor, gradsOf, seededUniform} from './helpers';
import {Tolerance} from './tolerances';
import {permute} from '../../src/ops/roi_common';
import {OPS} from './op_table';

export type DataFormat = 'channelsFirst'|'channelsLast';
export const DATA_FORMATS: DataFormat[] = ['channelsFirst', 'channelsLast'];

/** NCHW <-> NHWC (RoI outputs are [K, C, oh, ow] in torchvision's layout). */
const toLast = (t: Tensor) => permute(t, [0, 2, 3, 1]);

/**
 * numBoxes RoIs as flat [K, 5] rows (batch index k % batch, then x1, y1, x2, y2
 * drawn from `seed` in [-30, 130]: partly off the map, and some reversed unless
 * `ordered`), for the specs against the reference math.
 */
export function seededRois(numBoxes: number, batch: number, seed: number, {ordered = false} = {}): Float32Array {
  const coords = seededUniform(numBoxes * 4, -30, 130, seed);
  const boxes = new Float32Array(numBoxes * 5);
  for (let k = 0; k < numBoxes; k++) {
    const [a, b, c, d] = coords.subarray(k * 4, k * 4 + 4);
    const box = ordered ? [Math.min(a, c), Math.min(b, d), Math.max(a, c), Math.max(b, d)] : [a, b, c, d];
    boxes.set([k % batch, ...box], k * 5);
  }
  return boxes;
}

/**
 * One NCHW torchvision fixture case in either data format: forward output,
 * gradient of x, and the zero gradient of boxes.
 */
export async function checkRoiFixture(c: FixtureCase, dataFormat: DataFormat) {
  const run = OPS[c.op];
  const last = dataFormat === 'channelsLast';
  const args = {...c.args, data_format: dataFormat};
  const view = (t: Tensor) => last ? tf.tidy(() => toLast(t)) : t.clone();
  const [x0, boxes] = [fixtureTensor(c.inputs.input), fixtureTensor(c.inputs.boxes)];
  const [out0, dy0, gx0] = [fixtureTensor(c.output!), fixtureTensor(c.dy!), fixtureTensor(c.grads!.input)];
  const [x, out, dy, gx] = [x0, out0, dy0, gx0].map(view);
  tf.dispose([x0, out0, dy0, gx0]);
  try {
    await expectNoLeak(() => run(args, x, boxes), o => expectTensorClose(o, out, undefined, `${c.op} output`));
    await expectNoLeak(() => gradsOf((a, b) => run(args, a, b), [x, boxes], dy), async ([dx, dBoxes]) => {
      await expectTensorClose(dx, gx, undefined, `${c.op} d/dinput`);
      expect(dBoxes.shape).toEqual(boxes.shape);
      await expectTensorClose(dBoxes, new Array(boxes.size).fill(0), undefined, `${c.op} d/dboxes`);
    });
  } finally {
    tf.dispose([x, boxes, out, dy, gx]);
  }
}

/** Coordinates that must neither crash nor give inf: NaN, +-inf, +-3.4e38 in every position. */
export function hostileBoxes(batch: number): number[][] {
  const bad = [NaN, Infinity, -Infinity, 3.4e38, -3.4e38];
  const rows: number[][] = [];
  for (const v of bad) {
    rows.push([0, v, 1, 3, 3], [batch - 1, 0, v, 3, 3], [0, 1, 1, v, 3], [0, 1, 1, 3, v]);
    rows.push([0, v, v, v, v], [0, -Math.abs(v), -Math.abs(v), Math.abs(v), Math.abs(v)]);
    rows.push([v, 0, 0, 2, 2]);
  }
  rows.push([0, -3.4e38, 0, 3.4e38, 2], [0, 0, -1e30, 2, 1e30], [batch, 0, 0, 2, 2], [-1, 0, 0, 2, 2]);
  return rows;
}

/**
 * Surrounds fn with canary tensors (on the wasm heap they are neighbours of
 * the kernel's buffers) and expects them untouched afterwards.
 */
export async function expectNoStrayWrites(fn: () => Promise<void>) {
  const pattern = 1234.5;
  const canaries = Array.from({length: 16}, (_, i) => tf.fill([64 + 37 * i], pattern));
  try {
    await fn();
    for (const t of canaries) {
      const v = await t.data();
      if (v.some(e => e !== pattern)) throw new Error('a kernel wrote outside its output');
    }
  } finally {
    tf.dispose(canaries);
  }
}

export async function expectAllFinite(t: Tensor, what: string) {
  const v = await t.data();
  const i = v.findIndex(e => !Number.isFinite(e));
  if (i >= 0) throw new Error(`${what}[${i}] = ${v[i]}`);
}

/** Reading any tensor flushes the backend's queue, which frees buffers whose disposal waited on it. */
async function settledMemory(): Promise<tf.MemoryInfo> {
  const t = tf.tidy(() => tf.add(tf.fill([4096], 1), 1));  // large enough to run on a GPU
  await t.data();
  t.dispose();
  return tf.memory();
}

/** Runs forward + backward `iterations` times and expects no tensor or data buffer to remain. */
export async function expectNoLeakOver(iterations: number, step: () => tf.TensorContainer) {
  tf.dispose(step());  // first runs: programs compile, caches fill
  tf.dispose(step());
  const before = await settledMemory();
  for (let i = 0; i < iterations; i++) tf.dispose(step());
  const after = await settledMemory();
  expect(after.numTensors).toBe(before.numTensors);
  expect(after.numDataBuffers).toBe(before.numDataBuffers);
  // webgl: bytes of live textures, and the texture pool must not grow.
  const gpu = (m: tf.MemoryInfo) => m as unknown as {numBytesInGPU?: number, numBytesInGPUAllocated?: number};
  if (gpu(before).numBytesInGPU != null) {
    expect(gpu(after).numBytesInGPU).toBe(gpu(before).numBytesInGPU!);
    expect(gpu(after).numBytesInGPUAllocated).toBe(gpu(before).numBytesInGPUAllocated!);
  }
}

/**
 * Central finite differences of sum(f(x) * w) against tf.grad, for every
 * element of x; reads asynchronously (webgpu's dataSync is unreliable headless).
 */
export async function expectGradOfXMatchesFiniteDifferences(
    f: (x: Tensor) => Tensor, x: Tensor, tol: Tolerance, h = 1e-3) {
  const out = tf.tidy(() => f(x));
  const w = tf.randomUniform(out.shape, 0.5, 1.5, 'float32', 7);
  out.dispose();
  const analytic = tf.grad(f)(x, w);
  const base = await x.data();
  const numeric = new Float32Array(base.length);
  const at = async (i: number, delta: number) => {
    const moved = Float32Array.from(base);
    moved[i] += delta;
    const s = tf.tidy(() => tf.sum(tf.mul(f(tf.tensor(moved, x.shape)), w)));
    const v = (await s.data())[0];
    s.dispose();
    return v;
  };
  for (let i = 0; i < base.length; i++) numeric[i] = (await at(i, h) - await at(i, -h)) / (2 * h);
  expectClose(await analytic.data(), numeric, tol, 'd/dx');
  tf.dispose([w, analytic]);
}

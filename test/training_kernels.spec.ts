/**
 * The tfjs kernels that training these layers needs and tfjs-backend-wasm
 * 4.22 lacks or gets wrong (ours there: Conv2DBackpropFilter,
 * DepthwiseConv2dNativeBackpropInput, DepthwiseConv2dNativeBackpropFilter,
 * UnsortedSegmentSum, Conv3DBackpropInputV2, Conv3DBackpropFilterV2),
 * checked on every backend against plain host math (the depthwise ones
 * against the cpu backend's values). TensorFlow's CPU kernels (tfjs-node)
 * take NHWC with 'valid' or 'same' padding only (all that the layers use),
 * equal strides for depthwise, and reject out-of-range segment ids: there the
 * other cases are left out, and out-of-range ids must throw.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor} from '@tensorflow/tfjs-core';
import {expectClose, expectNoLeak, seededUniform} from './support/helpers';
import {expectNoStrayWrites} from './support/roi';

type Pad = 'valid'|'same'|number;

/** The backend under test, known when the specs are defined (jest's TFJS_BACKEND, karma's argument). */
const BACKEND: string|undefined = typeof process !== 'undefined' && process.env?.TFJS_BACKEND != null ?
    process.env.TFJS_BACKEND : (globalThis as any).__karma__?.config?.args?.[0];  // eslint-disable-line @typescript-eslint/no-explicit-any
const ON_TENSORFLOW = BACKEND === 'tensorflow';

/** Padding before each spatial axis, as tfjs computes it (extra cell after). */
function padBefore(pad: Pad, size: number, k: number, s: number): number {
  if (pad === 'valid') return 0;
  if (typeof pad === 'number') return pad;
  const out = Math.ceil(size / s);
  return Math.floor(Math.max(0, (out - 1) * s + k - size) / 2);
}

function outSize(pad: Pad, size: number, k: number, s: number): number {
  if (pad === 'same') return Math.ceil(size / s);
  const p = pad === 'valid' ? 0 : pad;
  return Math.floor((size + 2 * p - k) / s) + 1;
}

/** d sum(conv2d(x, w) * dy) / dw on NHWC arrays. */
function conv2dFilterGrad(x: Float32Array, dy: Float32Array, xs: number[], ws: number[], s: number[], pad: Pad) {
  const [n, h, w, ci] = xs;
  const [kh, kw, , co] = ws;
  const [oh, ow] = [outSize(pad, h, kh, s[0]), outSize(pad, w, kw, s[1])];
  const [pt, pl] = [padBefore(pad, h, kh, s[0]), padBefore(pad, w, kw, s[1])];
  const dw = new Float32Array(kh * kw * ci * co);
  for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) for (let c = 0; c < ci; c++) for (let d = 0; d < co; d++) {
    let sum = 0;
    for (let i = 0; i < n; i++) for (let y = 0; y < oh; y++) for (let z = 0; z < ow; z++) {
      const [iy, iz] = [y * s[0] - pt + a, z * s[1] - pl + b];
      if (iy < 0 || iz < 0 || iy >= h || iz >= w) continue;
      sum += x[((i * h + iy) * w + iz) * ci + c] * dy[((i * oh + y) * ow + z) * co + d];
    }
    dw[((a * kw + b) * ci + c) * co + d] = sum;
  }
  return dw;
}

/**
 * Calls tap(xIndex, wIndex, dyIndex) for every input, filter and output
 * element that conv3d on NDHWC arrays multiplies together.
 */
function forEachConv3dTap(xs: number[], ws: number[], s: number, pad: 'valid'|'same',
    tap: (xIndex: number, wIndex: number, dyIndex: number) => void) {
  const [n, dd, h, wd, ci] = xs;
  const [kd, kh, kw, , co] = ws;
  const sizes = [dd, h, wd];
  const ks = [kd, kh, kw];
  const outs = sizes.map((v, i) => outSize(pad, v, ks[i], s));
  const pads = sizes.map((v, i) => padBefore(pad, v, ks[i], s));
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < outs[0]; a++) for (let b = 0; b < outs[1]; b++) for (let c = 0; c < outs[2]; c++) {
      for (let p = 0; p < kd; p++) for (let q = 0; q < kh; q++) for (let r = 0; r < kw; r++) {
        const [x0, x1, x2] = [a * s - pads[0] + p, b * s - pads[1] + q, c * s - pads[2] + r];
        if (x0 < 0 || x1 < 0 || x2 < 0 || x0 >= dd || x1 >= h || x2 >= wd) continue;
        for (let e = 0; e < ci; e++) for (let f = 0; f < co; f++) {
          tap((((i * dd + x0) * h + x1) * wd + x2) * ci + e, ((((p * kh) + q) * kw + r) * ci + e) * co + f,
              (((i * outs[0] + a) * outs[1] + b) * outs[2] + c) * co + f);
        }
      }
    }
  }
}

/** d sum(conv3d(x, w) * dy) / dx on NDHWC arrays. */
function conv3dInputGrad(w: Float32Array, dy: Float32Array, xs: number[], ws: number[], s: number, pad: 'valid'|'same') {
  const dx = new Float32Array(xs.reduce((a, b) => a * b));
  forEachConv3dTap(xs, ws, s, pad, (xi, wi, dyi) => { dx[xi] += dy[dyi] * w[wi]; });
  return dx;
}

/** d sum(conv3d(x, w) * dy) / dw on NDHWC arrays. */
function conv3dFilterGrad(x: Float32Array, dy: Float32Array, xs: number[], ws: number[], s: number, pad: 'valid'|'same') {
  const dw = new Float32Array(ws.reduce((a, b) => a * b));
  forEachConv3dTap(xs, ws, s, pad, (xi, wi, dyi) => { dw[wi] += x[xi] * dy[dyi]; });
  return dw;
}

const TOL = {atol: 1e-4, rtol: 1e-4};

describe('training kernels: Conv2DBackpropFilter', () => {
  const cases: Array<[string, number[], number[], number[], Pad]> = [
    ['3x3 same, 5 -> 6 channels', [2, 7, 6, 5], [3, 3, 5, 6], [1, 1], 'same'],
    ['3x3 stride 2 pad 1', [1, 9, 8, 4], [3, 3, 4, 8], [2, 2], 1],
    ['1x1 valid, 3 -> 3', [2, 5, 5, 3], [1, 1, 3, 3], [1, 1], 'valid'],
    ['5x3 stride [1, 2] valid', [1, 8, 9, 2], [5, 3, 2, 7], [1, 2], 'valid'],
  ];
  for (const [name, xs, ws, strides, pad] of cases) {
    for (const format of ['NHWC', 'NCHW'] as const) {
      if (ON_TENSORFLOW && (format === 'NCHW' || typeof pad === 'number')) continue;
      it(`${name} ${format}`, async () => {
        const x = seededUniform(xs.reduce((a, b) => a * b), -1, 1, 1);
        const w = tf.tensor(seededUniform(ws.reduce((a, b) => a * b), -1, 1, 2), ws) as tf.Tensor4D;
        const xt = tf.tensor(x, xs) as tf.Tensor4D;
        const yShape = tf.tidy(() => tf.conv2d(xt, w, strides as [number, number], pad).shape);
        const dyv = seededUniform(yShape.reduce((a, b) => a * b), -1, 1, 3);
        const expected = conv2dFilterGrad(x, dyv, xs, ws, strides, pad);
        const toFormat = (t: Tensor) => format === 'NHWC' ? t : tf.transpose(t, [0, 3, 1, 2]);
        const [xf, dyf] = tf.tidy(() => [toFormat(xt), toFormat(tf.tensor(dyv, yShape))]);
        const run = () => tf.engine().runKernel(tf.Conv2DBackpropFilter, {x: xf, dy: dyf},
            {strides, pad, dataFormat: format, filterShape: ws}) as Tensor;
        await expectNoStrayWrites(() => expectNoLeak(run, async dw => expectClose(await dw.data(), expected, TOL, 'dw')));
        tf.dispose([w, xt, xf, dyf]);
      });
    }
  }

  it('through tf.grad of conv2d (what fit runs)', async () => {
    const x = tf.tensor(seededUniform(2 * 6 * 6 * 3, -1, 1, 4), [2, 6, 6, 3]) as tf.Tensor4D;
    const w = tf.tensor(seededUniform(3 * 3 * 3 * 5, -1, 1, 5), [3, 3, 3, 5]) as tf.Tensor4D;
    const dw = tf.grad((f: Tensor) => tf.sum(tf.conv2d(x, f as tf.Tensor4D, 1, 'same')))(w);
    const ones = new Float32Array(2 * 6 * 6 * 5).fill(1);
    expectClose(await dw.data(), conv2dFilterGrad(await x.data() as Float32Array, ones, [2, 6, 6, 3], [3, 3, 3, 5],
        [1, 1], 'same'), TOL, 'dw');
    tf.dispose([x, w, dw]);
  });
});

/** fn's tensors as computed by the cpu backend (the reference), read back and disposed. */
async function onCpu(fn: () => Tensor[]): Promise<Float32Array[]> {
  const original = tf.getBackend();
  await tf.setBackend('cpu');
  try {
    const ts = fn();
    try {
      return await Promise.all(ts.map(async t => await t.data() as Float32Array));
    } finally {
      tf.dispose(ts);
    }
  } finally {
    await tf.setBackend(original);
  }
}

describe('training kernels: DepthwiseConv2dNativeBackpropInput and ...Filter', () => {
  // [name, x shape, filter shape [fh, fw, inC, multiplier], strides, pad]
  const cases: Array<[string, number[], number[], number|[number, number], Pad]> = [
    ['3x3 same, 3 channels, batch 2', [2, 7, 6, 3], [3, 3, 3, 1], 1, 'same'],
    ['3x3 stride 2 same, 5 channels x 2', [1, 9, 8, 5], [3, 3, 5, 2], 2, 'same'],
    ['3x3 stride 2 pad 1, 16 channels, batch 2', [2, 7, 9, 16], [3, 3, 16, 1], 2, 1],
    ['5x5 valid, 5 channels', [1, 9, 11, 5], [5, 5, 5, 1], 1, 'valid'],
    ['5x5 same stride 2, 16 channels x 2, batch 2', [2, 11, 9, 16], [5, 5, 16, 2], 2, 'same'],
    ['3x2 stride [1, 2] pad 2, 3 channels x 3', [1, 6, 7, 3], [3, 2, 3, 3], [1, 2], 2],
    ['1x1 valid stride 2, 4 channels x 2, batch 2', [2, 5, 5, 4], [1, 1, 4, 2], 2, 'valid'],
    ['3x3 valid stride 2, 1 channel x 5', [1, 7, 7, 1], [3, 3, 1, 5], 2, 'valid'],
  ];
  for (const [name, xs, ws, strides, pad] of cases) {
    if (ON_TENSORFLOW && (typeof pad === 'number' || Array.isArray(strides))) continue;
    it(`tf.grads of depthwiseConv2d wrt x and filter: ${name}`, async () => {
      const xv = seededUniform(xs.reduce((a, b) => a * b), -1, 1, 21);
      const wv = seededUniform(ws.reduce((a, b) => a * b), -1, 1, 22);
      const yShape = tf.tidy(() => tf.depthwiseConv2d(tf.zeros(xs) as tf.Tensor4D, tf.zeros(ws) as tf.Tensor4D,
          strides, pad).shape);
      expect(yShape[3]).toBe(ws[2] * ws[3]);
      const dyv = seededUniform(yShape.reduce((a, b) => a * b), -1, 1, 23);
      const grads = () => {
        const [x, w, dy] = [tf.tensor(xv, xs), tf.tensor(wv, ws), tf.tensor(dyv, yShape)];
        const g = tf.grads((...[a, f]: Tensor[]) =>
          tf.sum(tf.mul(tf.depthwiseConv2d(a as tf.Tensor4D, f as tf.Tensor4D, strides, pad), dy)))([x, w]);
        tf.dispose([x, w, dy]);
        return g;
      };
      const [dxRef, dwRef] = await onCpu(grads);
      // Twice: an output that is not zeroed shows the first run's values in the second.
      for (let run = 0; run < 2; run++) {
        await expectNoStrayWrites(() => expectNoLeak(grads, async ([dx, dw]) => {
          expect(dx.shape).toEqual(xs);
          expect(dw.shape).toEqual(ws);
          expectClose(await dx.data(), dxRef, TOL, 'dx');
          expectClose(await dw.data(), dwRef, TOL, 'dw');
        }));
      }
    });
  }

  if (BACKEND === 'wasm') {
    const attrs = {strides: [1, 1], pad: 'same', dilations: [1, 1]};
    const backpropInput = (dy: Tensor, filter: Tensor, inputShape: number[], more = {}) =>
      tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropInput, {dy, filter},
          {...attrs, inputShape, ...more}) as Tensor;
    const backpropFilter = (x: Tensor, dy: Tensor, filterShape: number[], more = {}) =>
      tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropFilter, {x, dy},
          {...attrs, filterShape, ...more}) as Tensor;

    it('wasm: empty tensors give zeros of the right shape', async () => {
      const cases: Array<[() => Tensor, number[]]> = [
        [() => backpropInput(tf.zeros([0, 5, 5, 3]), tf.ones([3, 3, 3, 1]), [0, 5, 5, 3]), [0, 5, 5, 3]],
        // 'valid' with a filter taller than x: dy has no rows, dx is all zeros.
        [() => backpropInput(tf.zeros([1, 0, 3, 6]), tf.ones([3, 3, 3, 2]), [1, 2, 5, 3], {pad: 'valid'}),
          [1, 2, 5, 3]],
        [() => backpropFilter(tf.zeros([0, 5, 5, 3]), tf.zeros([0, 5, 5, 6]), [3, 3, 3, 2]), [3, 3, 3, 2]],
        [() => backpropFilter(tf.ones([1, 5, 5, 3]), tf.zeros([1, 5, 5, 0]), [3, 3, 3, 0]), [3, 3, 3, 0]],
      ];
      for (const [run, shape] of cases) {
        await expectNoStrayWrites(() => expectNoLeak(() => tf.tidy(run), async out => {
          expect(out.shape).toEqual(shape);
          expect(Array.from(await out.data()).every(v => v === 0)).toBe(true);
        }));
      }
    });

    it('wasm: dilations other than 1 are an Error naming the kernel', () => {
      tf.tidy(() => {
        expect(() => backpropInput(tf.ones([1, 5, 5, 3]), tf.ones([3, 3, 3, 1]), [1, 5, 5, 3], {dilations: 2}))
            .toThrowError(/DepthwiseConv2dNativeBackpropInput \(wasm\): dilations must be 1/);
        expect(() => backpropFilter(tf.ones([1, 5, 5, 3]), tf.ones([1, 5, 5, 3]), [3, 3, 3, 1], {dilations: [1, 2]}))
            .toThrowError(/DepthwiseConv2dNativeBackpropFilter \(wasm\): dilations must be 1/);
      });
    });
  }
});

describe('training kernels: Conv3DBackpropInputV2', () => {
  const cases: Array<[string, number[], number[], number, 'valid'|'same']> = [
    ['3x3x3 valid, 2 -> 3 channels', [1, 4, 4, 4, 2], [3, 3, 3, 2, 3], 1, 'valid'],
    ['3x3x3 same stride 2, 4 -> 6', [2, 5, 6, 4, 4], [3, 3, 3, 4, 6], 2, 'same'],
    ['1x1x1, 5 -> 5', [1, 3, 2, 3, 5], [1, 1, 1, 5, 5], 1, 'valid'],
  ];
  for (const [name, xs, ws, s, pad] of cases) {
    it(name, async () => {
      const wv = seededUniform(ws.reduce((a, b) => a * b), -1, 1, 6);
      const w = tf.tensor(wv, ws) as tf.Tensor5D;
      const yShape = tf.tidy(() => tf.conv3d(tf.zeros(xs) as tf.Tensor5D, w, s, pad).shape);
      const dyv = seededUniform(yShape.reduce((a, b) => a * b), -1, 1, 7);
      const dy = tf.tensor(dyv, yShape) as tf.Tensor5D;
      const expected = conv3dInputGrad(wv, dyv, xs, ws, s, pad);
      // Twice: an output that is not zeroed shows the first run's values in the second.
      for (let run = 0; run < 2; run++) {
        await expectNoStrayWrites(() => expectNoLeak(
            () => tf.conv3dTranspose(dy, w, xs as [number, number, number, number, number], s, pad),
            async dx => expectClose(await dx.data(), expected, TOL, 'dx')));
      }
      tf.dispose([w, dy]);
    });
  }
});

describe('training kernels: Conv3DBackpropFilterV2', () => {
  const cases: Array<[string, number[], number[], number, 'valid'|'same']> = [
    ['3x3x3 valid stride 2, 2 -> 4 channels', [1, 5, 6, 4, 2], [3, 3, 3, 2, 4], 2, 'valid'],
    ['3x3x3 same stride 2, 3 -> 6', [2, 5, 4, 6, 3], [3, 3, 3, 3, 6], 2, 'same'],
    ['3x3x3 same stride 1, 5 -> 3', [1, 4, 4, 3, 5], [3, 3, 3, 5, 3], 1, 'same'],
  ];
  for (const [name, xs, ws, s, pad] of cases) {
    it(name, async () => {
      const xv = seededUniform(xs.reduce((a, b) => a * b), -1, 1, 10);
      const x = tf.tensor(xv, xs) as tf.Tensor5D;
      const w = tf.zeros(ws) as tf.Tensor5D;
      const yShape = tf.tidy(() => tf.conv3d(x, w, s, pad).shape);
      const dyv = seededUniform(yShape.reduce((a, b) => a * b), -1, 1, 11);
      const dy = tf.tensor(dyv, yShape);
      const expected = conv3dFilterGrad(xv, dyv, xs, ws, s, pad);
      await expectNoStrayWrites(() => expectNoLeak(
          () => tf.grad((f: Tensor) => tf.sum(tf.mul(tf.conv3d(x, f as tf.Tensor5D, s, pad), dy)))(w),
          async dw => expectClose(await dw.data(), expected, TOL, 'dw')));
      tf.dispose([x, w, dy]);
    });
  }
});

describe('training kernels: UnsortedSegmentSum', () => {
  const rows = 9;
  const inner = 7;
  const xv = seededUniform(rows * inner, -1, 1, 8);
  const expectedSums = (ids: number[]) => {
    const out = new Float32Array(6 * inner);
    ids.forEach((s, r) => {
      if (s >= 0 && s < 6) for (let i = 0; i < inner; i++) out[s * inner + i] += xv[r * inner + i];
    });
    return out;
  };
  const check = async (ids: number[]) => {
    const x = tf.tensor2d(xv, [rows, inner]);
    const segmentIds = tf.tensor1d(ids, 'int32');
    await expectNoStrayWrites(() => expectNoLeak(() => tf.unsortedSegmentSum(x, segmentIds, 6), async out => {
      expect(out.shape).toEqual([6, inner]);
      expectClose(await out.data(), expectedSums(ids), TOL, 'sum');
    }));
    tf.dispose([x, segmentIds]);
  };

  it('float32 rows (gather\'s gradient), empty segments zero', async () => {
    await check([3, 0, 3, 2, 5, 0, 3, 5, 1]);
  });

  // The backends disagree outside what gather's gradient produces (tfjs-node
  // throws on out-of-range ids, webgpu mishandles them and int32): ours
  // follows tfjs's cpu backend, and keeps int32 as TensorFlow does.
  if (BACKEND === 'wasm') {
    it('wasm: ids outside [0, numSegments) are dropped', async () => {
      await check([3, 0, 3, -1, 5, 0, 3, 9, 1]);
    });

    it('wasm: int32 sums, 3D x', async () => {
      const x = tf.tensor3d(Array.from({length: 24}, (_, i) => i), [4, 3, 2], 'int32');
      const ids = tf.tensor1d([1, 1, 0, 1], 'int32');
      const out = tf.unsortedSegmentSum(x, ids, 3);
      expect(out.dtype).toBe('int32');
      expect(Array.from(await out.data())).toEqual([12, 13, 14, 15, 16, 17, 24, 27, 30, 33, 36, 39, 0, 0, 0, 0, 0, 0]);
      tf.dispose([x, ids, out]);
    });
  }

  it('is the gradient of gather (what the FPN upsampling trains through)', async () => {
    const x = tf.tensor(seededUniform(2 * 5 * 3, -1, 1, 9), [2, 5, 3]);
    const idx = tf.tensor1d([0, 0, 1, 2, 2, 4, 4, 4], 'int32');
    const dx = tf.grad((v: Tensor) => tf.sum(tf.mul(tf.gather(v, idx, 1), tf.reshape(tf.range(1, 3 * 8 * 2 + 1), [2, 8, 3]))))(x);
    const w = Array.from({length: 48}, (_, i) => i + 1);
    const expected = new Float32Array(30);
    [0, 0, 1, 2, 2, 4, 4, 4].forEach((src, j) => {
      for (let n = 0; n < 2; n++) for (let c = 0; c < 3; c++) expected[(n * 5 + src) * 3 + c] += w[(n * 8 + j) * 3 + c];
    });
    expectClose(await dx.data(), expected, TOL, 'dx');
    tf.dispose([x, idx, dx]);
  });
});

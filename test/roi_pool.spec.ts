/** roiPool: torchvision parity in both data formats, reference math, gradients, hostile input, leaks. */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor4D} from '@tensorflow/tfjs-core';
import * as vision from '../src/index';
import {roiPoolGradValues, roiPoolValues} from '../kernels/reference/roi_pool';
import {RoiPool, RoiPoolGrad} from '../src/kernel_names';
import roi from './fixtures/roi.json';
import {casesOf, expectClose, expectNoLeak, expectTensorClose, expectThrows, Fixture, seededUniform} from './support/helpers';
import {checkRoiFixture, DATA_FORMATS, expectAllFinite, expectGradOfXMatchesFiniteDifferences, expectNoLeakOver, expectNoStrayWrites, hostileBoxes, seededRois} from './support/roi';
import {FINITE_DIFFERENCE_TOLERANCE} from './support/tolerances';

describe('roiPool: torchvision fixtures', () => {
  for (const c of casesOf(roi as Fixture, 'roi_pool')) {
    for (const dataFormat of DATA_FORMATS) {
      it(`${c.name} ${dataFormat}`, async () => { await checkRoiFixture(c, dataFormat); });
    }
  }
});

describe('roiPool: known values', () => {
  // The known values of SEMANTICS.md are the fixture cases known_* run above.
  it('empty bins give 0; the first maximum takes the gradient', async () => {
    const xt = tf.tensor4d([5, 5, 1, 5], [1, 2, 2, 1]);
    const b = tf.tensor2d([[0, 0, 0, 1, 1], [0, 4, 4, 6, 6]]);  // the second box lies outside
    await expectNoLeak(() => vision.roiPool(xt, b, {outputSize: 1}), out => expectTensorClose(out, [5, 0]));
    await expectNoLeak(() => tf.grad(v => vision.roiPool(v as Tensor4D, b, {outputSize: 1}))(xt),
        g => expectTensorClose(g, [1, 0, 0, 0]));
    tf.dispose([xt, b]);
  });
});

describe('roiPool: kernels against the reference math', () => {
  const [batch, height, width, channels, numBoxes] = [2, 13, 11, 19, 40];
  const xShape = [batch, height, width, channels];
  const xs = seededUniform(batch * height * width * channels, -2, 2, 51);
  const boxes = seededRois(numBoxes, batch, 52);
  for (const spatialScale of [0.125, 0.1, 0.05]) {
    it(`spatialScale ${spatialScale}`, async () => {
      const attrs = {pooledHeight: 3, pooledWidth: 4, spatialScale};
      const outSize = numBoxes * 3 * 4 * channels;
      const expected = new Float32Array(outSize);
      roiPoolValues(xs, xShape, boxes, numBoxes, attrs, expected);
      const dy = seededUniform(outSize, -1, 1, 53);
      const expectedDx = new Float32Array(xs.length);
      roiPoolGradValues(dy, xs, xShape, boxes, numBoxes, attrs, expectedDx);
      const [x, b, dyt] = [tf.tensor4d(xs, xShape as any), tf.tensor2d(boxes, [numBoxes, 5]), tf.tensor4d(dy, [numBoxes, 3, 4, channels])];
      await expectNoLeak(() => tf.engine().runKernel(RoiPool, {x, boxes: b}, attrs) as tf.Tensor,
          async out => expectClose(await out.data(), expected, undefined, 'forward'));
      await expectNoLeak(() => tf.engine().runKernel(RoiPoolGrad, {dy: dyt, x, boxes: b}, attrs) as tf.Tensor,
          async dx => expectClose(await dx.data(), expectedDx, undefined, 'backward'));
      tf.dispose([x, b, dyt]);
    });
  }
});

describe('roiPool: gradients', () => {
  it('match finite differences', async () => {
    // Distinct values 0.01 apart: no two within the finite-difference step.
    const keys = seededUniform(2 * 5 * 6 * 3, 0, 1, 61);
    const ranks = Array.from(keys.keys()).sort((i, j) => keys[i] - keys[j]);
    const xt = tf.tensor4d(ranks.map(r => r * 0.01 - 0.9), [2, 5, 6, 3]);
    const b = tf.tensor2d([[0, 0.6, 0.3, 4.2, 3.9], [1, -1.3, 1.2, 3.1, 6.4], [1, 2.2, 0.4, 5.5, 2.7]]);
    await expectGradOfXMatchesFiniteDifferences(
        v => vision.roiPool(v as Tensor4D, b, {outputSize: [2, 3], spatialScale: 0.9}), xt, FINITE_DIFFERENCE_TOLERANCE);
    tf.dispose([xt, b]);
  });
});

describe('roiPool: hostile coordinates', () => {
  it('NaN, inf and 3.4e38: finite output and gradient, no stray writes', async () => {
    await expectNoStrayWrites(async () => {
      const x = tf.tensor4d(seededUniform(2 * 6 * 7 * 5, -1, 1, 71), [2, 6, 7, 5]);
      const b = tf.tensor2d(hostileBoxes(2));
      const f = (v: tf.Tensor) => vision.roiPool(v as Tensor4D, b, {outputSize: [2, 3]});
      await expectNoLeak(() => f(x), out => expectAllFinite(out, 'output'));
      await expectNoLeak(() => tf.grad(f)(x), g => expectAllFinite(g, 'gradient'));
      tf.dispose([x, b]);
    });
  });
});

describe('roiPool: arguments', () => {
  const x = () => tf.zeros([1, 4, 4, 2]) as Tensor4D;
  const b = () => tf.zeros([1, 5]) as tf.Tensor2D;
  const cases: Array<[string, () => unknown, RegExp[]]> = [
    ['x rank', () => vision.roiPool(tf.zeros([4, 4, 2]) as any, b(), {outputSize: 2}), [/roiPool/, /'x'/, /rank 4/]],
    ['boxes last dim', () => vision.roiPool(x(), tf.zeros([2, 4]) as any, {outputSize: 2}), [/roiPool/, /'boxes'/, /last dimension 5/]],
    ['outputSize', () => vision.roiPool(x(), b(), {outputSize: -1}), [/roiPool/, /'outputSize'/]],
    ['spatialScale', () => vision.roiPool(x(), b(), {outputSize: 2, spatialScale: Infinity}), [/roiPool/, /'spatialScale'/]],
    ['dataFormat', () => vision.roiPool(x(), b(), {outputSize: 2, dataFormat: 'nhwc' as any}), [/roiPool/, /'dataFormat'/]],
  ];
  for (const [name, fn, patterns] of cases) {
    it(name, () => {
      const before = tf.memory().numTensors;
      tf.tidy(() => expectThrows(fn, ...patterns));
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

describe('roiPool: leaks', () => {
  it('1000 forward + backward iterations leave no tensor or buffer behind', async () => {
    const x = tf.tensor4d(seededUniform(2 * 5 * 5 * 3, -1, 1, 81), [2, 5, 5, 3]);
    const b = tf.tensor2d([[0, 0.5, 0.5, 3.5, 4], [1, 1, 0, 4, 2.5]]);
    await expectNoLeakOver(1000, () => [vision.roiPool(x, b, {outputSize: 2}),
      tf.grad(v => vision.roiPool(v as Tensor4D, b, {outputSize: 2}))(x)]);
    tf.dispose([x, b]);
  });
});

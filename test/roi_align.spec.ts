/** roiAlign: torchvision parity in both data formats, reference math, gradients, hostile input, leaks. */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor4D} from '@tensorflow/tfjs-core';
import * as vision from '../src/index';
import {roiAlignGradValues, roiAlignValues} from '../kernels/reference/roi_align';
import {RoiAlign, RoiAlignGrad} from '../src/kernel_names';
import {roiAlignAttrs} from '../src/ops/roi_align';
import roi from './fixtures/roi.json';
import {casesOf, expectClose, expectNoLeak, expectOptimizerLowersLoss, expectTensorClose, expectThrows, Fixture, seededUniform} from './support/helpers';
import {checkRoiFixture, DATA_FORMATS, expectAllFinite, expectGradOfXMatchesFiniteDifferences, expectNoLeakOver, expectNoStrayWrites, hostileBoxes, seededRois} from './support/roi';
import {FINITE_DIFFERENCE_TOLERANCE} from './support/tolerances';

describe('roiAlign: torchvision fixtures', () => {
  for (const c of casesOf(roi as Fixture, 'roi_align')) {
    for (const dataFormat of DATA_FORMATS) {
      it(`${c.name} ${dataFormat}`, async () => { await checkRoiFixture(c, dataFormat); });
    }
  }
});

describe('roiAlign: known values', () => {
  // The known values of SEMANTICS.md are the fixture cases known_* run above.
  const x = () => tf.reshape(tf.range(0, 16), [1, 4, 4, 1]) as Tensor4D;
  it('K = 0 gives [0, oh, ow, C]', async () => {
    await expectNoLeak(() => tf.tidy(() => vision.roiAlign(x(), tf.zeros([0, 5]) as tf.Tensor2D, {outputSize: [2, 3]})),
        out => expect(out.shape).toEqual([0, 2, 3, 1]));
  });
});

describe('roiAlign: kernels against the reference math', () => {
  const [batch, height, width, channels, numBoxes] = [2, 13, 11, 19, 40];
  const xShape = [batch, height, width, channels];
  const xs = seededUniform(batch * height * width * channels, -2, 2, 11);
  const boxes = seededRois(numBoxes, batch, 12, {ordered: true});
  boxes.set([1, 10, 10, 10, 40], 0);  // zero width
  boxes.set([0, 90, 80, 20, 30], 5);  // reversed
  for (const [aligned, samplingRatio, spatialScale] of [[false, -1, 0.125], [true, 2, 0.125], [true, -1, 0.1], [false, 3, 0.05]] as const) {
    it(`aligned ${aligned}, samplingRatio ${samplingRatio}, spatialScale ${spatialScale}`, async () => {
      const attrs = roiAlignAttrs('test', [3, 4], spatialScale, samplingRatio, aligned);
      const outSize = numBoxes * 3 * 4 * channels;
      const expected = new Float32Array(outSize);
      roiAlignValues(xs, xShape, boxes, numBoxes, attrs, expected);
      const dy = seededUniform(outSize, -1, 1, 13);
      const expectedDx = new Float32Array(xs.length);
      roiAlignGradValues(dy, boxes, numBoxes, attrs, xShape, expectedDx);
      const [x, b, dyt] = [tf.tensor4d(xs, xShape as any), tf.tensor2d(boxes, [numBoxes, 5]), tf.tensor4d(dy, [numBoxes, 3, 4, channels])];
      await expectNoLeak(() => tf.engine().runKernel(RoiAlign, {x, boxes: b}, attrs) as tf.Tensor,
          async out => expectClose(await out.data(), expected, undefined, 'forward'));
      await expectNoLeak(() => tf.engine().runKernel(RoiAlignGrad, {dy: dyt, boxes: b}, {...attrs, xShape}) as tf.Tensor,
          async dx => expectClose(await dx.data(), expectedDx, undefined, 'backward'));
      tf.dispose([x, b, dyt]);
    });
  }
});

describe('roiAlign: gradients', () => {
  const x = () => tf.tensor4d(seededUniform(2 * 5 * 6 * 3, -1, 1, 21), [2, 5, 6, 3]);
  const boxes = [[0, 0.6, 0.3, 4.2, 3.9], [1, -1.3, 1.2, 3.1, 6.4], [1, 2.2, 0.4, 5.5, 2.7]];
  for (const [aligned, samplingRatio] of [[false, -1], [true, 2], [true, 1]] as const) {
    it(`match finite differences (aligned ${aligned}, samplingRatio ${samplingRatio})`, async () => {
      const [xt, b] = [x(), tf.tensor2d(boxes)];
      await expectGradOfXMatchesFiniteDifferences(
          v => vision.roiAlign(v as Tensor4D, b, {outputSize: [2, 3], samplingRatio, aligned, spatialScale: 0.9}),
          xt, FINITE_DIFFERENCE_TOLERANCE);
      tf.dispose([xt, b]);
    });
  }

  it('list-of-boxes form equals the [K, 5] form, forward and backward', async () => {
    const [xt, perImage0, perImage1] = [x(), tf.tensor2d([boxes[0].slice(1)]), tf.tensor2d(boxes.slice(1).map(b => b.slice(1)))];
    const args = {outputSize: 2, samplingRatio: 2};
    const [a, b] = [vision.roiAlign(xt, [perImage0, perImage1], args), vision.roiAlign(xt, tf.tensor2d(boxes), args)];
    await expectTensorClose(a, b);
    const [ga, gb] = [tf.grad(v => vision.roiAlign(v as Tensor4D, [perImage0, perImage1], args))(xt),
      tf.grad(v => vision.roiAlign(v as Tensor4D, tf.tensor2d(boxes), args))(xt)];
    await expectTensorClose(ga, gb);
    tf.dispose([xt, perImage0, perImage1, a, b, ga, gb]);
  });

  it('runs under tf.variableGrads and an optimizer', async () => {
    const v = tf.variable(x());
    const b = tf.tensor2d(boxes);
    const target = tf.ones([3, 2, 2, 3]);
    await expectOptimizerLowersLoss(v, () => tf.mean(tf.square(tf.sub(
        vision.roiAlign(v as tf.Variable<tf.Rank.R4>, b, {outputSize: 2}), target))) as tf.Scalar, 2);
    tf.dispose([v, b, target]);
  });
});

describe('roiAlign: hostile coordinates', () => {
  for (const [aligned, samplingRatio] of [[false, -1], [true, -1], [false, 2], [true, 1]] as const) {
    it(`NaN, inf and 3.4e38: finite output and gradient, no stray writes (aligned ${aligned}, samplingRatio ${samplingRatio})`, async () => {
      await expectNoStrayWrites(async () => {
        const x = tf.tensor4d(seededUniform(2 * 6 * 7 * 5, -1, 1, 31), [2, 6, 7, 5]);
        const b = tf.tensor2d(hostileBoxes(2));
        const f = (v: tf.Tensor) => vision.roiAlign(v as Tensor4D, b, {outputSize: [2, 3], samplingRatio, aligned});
        await expectNoLeak(() => f(x), out => expectAllFinite(out, 'output'));
        await expectNoLeak(() => tf.grad(f)(x), g => expectAllFinite(g, 'gradient'));
        tf.dispose([x, b]);
      });
    });
  }
});

describe('roiAlign: arguments', () => {
  const x = () => tf.zeros([1, 4, 4, 2]) as Tensor4D;
  const b = () => tf.zeros([1, 5]) as tf.Tensor2D;
  const cases: Array<[string, () => unknown, RegExp[]]> = [
    ['x rank', () => vision.roiAlign(tf.zeros([4, 4, 2]) as any, b(), {outputSize: 2}), [/roiAlign/, /'x'/, /rank 4/]],
    ['x dtype', () => vision.roiAlign(tf.zeros([1, 4, 4, 2], 'int32') as any, b(), {outputSize: 2}), [/roiAlign/, /'x'/, /float32/]],
    ['x not a tensor', () => vision.roiAlign({} as any, b(), {outputSize: 2}), [/roiAlign/, /'x'/, /tf.Tensor/]],
    ['boxes last dim', () => vision.roiAlign(x(), tf.zeros([2, 4]) as any, {outputSize: 2}), [/roiAlign/, /'boxes'/, /last dimension 5/]],
    ['boxes rank', () => vision.roiAlign(x(), tf.zeros([5]) as any, {outputSize: 2}), [/roiAlign/, /'boxes'/, /rank 2/]],
    ['boxes dtype', () => vision.roiAlign(x(), tf.zeros([1, 5], 'bool') as any, {outputSize: 2}), [/roiAlign/, /'boxes'/, /dtype/]],
    ['boxes list length', () => vision.roiAlign(x(), [tf.zeros([1, 4]), tf.zeros([1, 4])] as any, {outputSize: 2}), [/roiAlign/, /'boxes'/, /one \[L, 4\] tensor per image/]],
    ['boxes list item', () => vision.roiAlign(x(), [tf.zeros([1, 5])] as any, {outputSize: 2}), [/roiAlign/, /'boxes\[0\]'/, /last dimension 4/]],
    ['boxes type', () => vision.roiAlign(x(), 'boxes' as any, {outputSize: 2}), [/roiAlign/, /'boxes'/]],
    ['outputSize 0', () => vision.roiAlign(x(), b(), {outputSize: 0}), [/roiAlign/, /'outputSize'/]],
    ['outputSize fraction', () => vision.roiAlign(x(), b(), {outputSize: [2, 1.5]}), [/roiAlign/, /'outputSize'/]],
    ['outputSize missing', () => vision.roiAlign(x(), b(), {} as any), [/roiAlign/, /'outputSize'/]],
    ['spatialScale', () => vision.roiAlign(x(), b(), {outputSize: 2, spatialScale: NaN}), [/roiAlign/, /'spatialScale'/]],
    ['spatialScale <= 0', () => vision.roiAlign(x(), b(), {outputSize: 2, spatialScale: 0}), [/roiAlign/, /'spatialScale'/]],
    ['samplingRatio', () => vision.roiAlign(x(), b(), {outputSize: 2, samplingRatio: 1.5}), [/roiAlign/, /'samplingRatio'/]],
    ['aligned', () => vision.roiAlign(x(), b(), {outputSize: 2, aligned: 1 as any}), [/roiAlign/, /'aligned'/]],
    ['dataFormat', () => vision.roiAlign(x(), b(), {outputSize: 2, dataFormat: 'NCHW' as any}), [/roiAlign/, /'dataFormat'/]],
  ];
  for (const [name, fn, patterns] of cases) {
    it(name, () => {
      const before = tf.memory().numTensors;
      tf.tidy(() => expectThrows(fn, ...patterns));
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

describe('roiAlign: programs', () => {
  /** Our compiled RoI Align programs (webgl) or pipelines (webgpu), by key; null on other backends. */
  const compiled = () => {
    const b = tf.backend() as unknown as {binaryCache?: object, pipelineCache?: object};
    const cache = b.binaryCache ?? b.pipelineCache;
    return cache == null ? null : Object.keys(cache).filter(key => /roiAlign/i.test(key)).sort();
  };
  it('a new box count or map size compiles no new RoI Align program', async () => {
    const run = (k: number, h: number, w: number) => tf.tidy(() => {
      const x = tf.fill([2, h, w, 3], 1) as Tensor4D;
      const b = tf.tensor2d(Array.from({length: k}, (_, i) => [i % 2, 0.5, 0.5 + i, w - 1, h - 1]));
      return [vision.roiAlign(x, b, {outputSize: 2}), tf.grad(v => vision.roiAlign(v as Tensor4D, b, {outputSize: 2}))(x)];
    });
    const first = run(3, 5, 6);
    await Promise.all(first.map(t => t.data()));
    const before = compiled();
    const second = run(7, 9, 4);
    await Promise.all(second.map(t => t.data()));
    expect(compiled()).toEqual(before);
    tf.dispose([...first, ...second]);
  });
});

describe('roiAlign: leaks', () => {
  it('1000 forward + backward iterations leave no tensor or buffer behind', async () => {
    const x = tf.tensor4d(seededUniform(2 * 5 * 5 * 3, -1, 1, 41), [2, 5, 5, 3]);
    const b = tf.tensor2d([[0, 0.5, 0.5, 3.5, 4], [1, 1, 0, 4, 2.5]]);
    await expectNoLeakOver(1000, () => {
      const [out, g] = [vision.roiAlign(x, b, {outputSize: 2}),
        tf.grad(v => vision.roiAlign(v as Tensor4D, b, {outputSize: 2, aligned: true}))(x)];
      return [out, g];
    });
    tf.dispose([x, b]);
  });
});

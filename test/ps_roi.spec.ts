/** psRoiAlign and psRoiPool: torchvision parity in both data formats, reference math, gradients, hostile input, leaks. */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor4D} from '@tensorflow/tfjs-core';
import * as vision from '../src/index';
import {psRoiAlignGradValues, psRoiAlignValues, psRoiPoolGradValues, psRoiPoolValues} from '../kernels/reference/ps_roi';
import {PsRoiAlign, PsRoiAlignGrad, PsRoiPool, PsRoiPoolGrad} from '../src/kernel_names';
import roi from './fixtures/roi.json';
import {casesOf, expectClose, expectNoLeak, expectTensorClose, expectThrows, Fixture, seededUniform} from './support/helpers';
import {checkRoiFixture, DATA_FORMATS, expectAllFinite, expectGradOfXMatchesFiniteDifferences, expectNoLeakOver, expectNoStrayWrites, hostileBoxes, seededRois} from './support/roi';
import {FINITE_DIFFERENCE_TOLERANCE} from './support/tolerances';

for (const op of ['ps_roi_align', 'ps_roi_pool']) {
  describe(`${op}: torchvision fixtures`, () => {
    for (const c of casesOf(roi as Fixture, op)) {
      for (const dataFormat of DATA_FORMATS) {
        it(`${c.name} ${dataFormat}`, async () => { await checkRoiFixture(c, dataFormat); });
      }
    }
  });
}

describe('position-sensitive kernels against the reference math', () => {
  const [batch, height, width, numBoxes] = [2, 13, 11, 30];
  const [ph, pw, outChannels] = [3, 2, 5];
  const channels = ph * pw * outChannels;
  const xShape = [batch, height, width, channels];
  const xs = seededUniform(batch * height * width * channels, -2, 2, 91);
  const boxes = seededRois(numBoxes, batch, 92);
  const outSize = numBoxes * ph * pw * outChannels;
  const dy = seededUniform(outSize, -1, 1, 93);
  const cases = [
    ['psRoiAlign adaptive', PsRoiAlign, PsRoiAlignGrad, {samplingRatio: -1}, psRoiAlignValues, psRoiAlignGradValues],
    ['psRoiAlign samplingRatio 2', PsRoiAlign, PsRoiAlignGrad, {samplingRatio: 2}, psRoiAlignValues, psRoiAlignGradValues],
    ['psRoiPool', PsRoiPool, PsRoiPoolGrad, {}, psRoiPoolValues, psRoiPoolGradValues],
  ] as const;
  for (const [name, kernel, gradKernel, extra, forward, backward] of cases) {
    it(name, async () => {
      const attrs = {pooledHeight: ph, pooledWidth: pw, spatialScale: 0.1, ...extra} as any;
      const expected = new Float32Array(outSize);
      forward(xs, xShape, boxes, numBoxes, attrs, expected);
      const expectedDx = new Float32Array(xs.length);
      backward(dy, boxes, numBoxes, attrs, xShape, expectedDx);
      const [x, b, dyt] = [tf.tensor4d(xs, xShape as any), tf.tensor2d(boxes, [numBoxes, 5]), tf.tensor4d(dy, [numBoxes, ph, pw, outChannels])];
      await expectNoLeak(() => tf.engine().runKernel(kernel, {x, boxes: b}, attrs) as tf.Tensor,
          async out => expectClose(await out.data(), expected, undefined, 'forward'));
      await expectNoLeak(() => tf.engine().runKernel(gradKernel, {dy: dyt, boxes: b}, {...attrs, xShape}) as tf.Tensor,
          async dx => expectClose(await dx.data(), expectedDx, undefined, 'backward'));
      tf.dispose([x, b, dyt]);
    });
  }
});

describe('position-sensitive ops: semantics and gradients', () => {
  const x = () => tf.tensor4d(seededUniform(2 * 6 * 7 * 8, -1, 1, 95), [2, 6, 7, 8]);
  const inside = [[0, 0.6, 0.3, 4.2, 3.9], [1, 1.3, 1.2, 5.1, 4.4], [1, 2.2, 0.4, 5.5, 2.7]];

  it('psRoiAlign of a degenerate box with an adaptive grid is 0 (torchvision: NaN)', async () => {
    const [xt, b] = [x(), tf.tensor2d([[0, 2, 2, 2, 2], [1, 3, 1, 3, 4]])];
    await expectNoLeak(() => vision.psRoiAlign(xt, b, {outputSize: 2}), out => expectTensorClose(out, new Array(16).fill(0)));
    tf.dispose([xt, b]);
  });

  it('psRoiAlign gradient matches finite differences', async () => {
    const [xt, b] = [x(), tf.tensor2d(inside)];
    await expectGradOfXMatchesFiniteDifferences(
        v => vision.psRoiAlign(v as Tensor4D, b, {outputSize: [2, 2], spatialScale: 0.9}), xt, FINITE_DIFFERENCE_TOLERANCE);
    tf.dispose([xt, b]);
  });

  it('psRoiPool gradient matches finite differences away from the last row and column', async () => {
    const [xt, b] = [x(), tf.tensor2d(inside)];
    await expectGradOfXMatchesFiniteDifferences(
        v => vision.psRoiPool(v as Tensor4D, b, {outputSize: [2, 2]}), xt, FINITE_DIFFERENCE_TOLERANCE);
    tf.dispose([xt, b]);
  });

  for (const [name, fn] of [
    ['psRoiAlign', (v: tf.Tensor, b: tf.Tensor2D) => vision.psRoiAlign(v as Tensor4D, b, {outputSize: 2, samplingRatio: -1})],
    ['psRoiAlign samplingRatio 2', (v: tf.Tensor, b: tf.Tensor2D) => vision.psRoiAlign(v as Tensor4D, b, {outputSize: 2, samplingRatio: 2})],
    ['psRoiPool', (v: tf.Tensor, b: tf.Tensor2D) => vision.psRoiPool(v as Tensor4D, b, {outputSize: 2})],
  ] as const) {
    it(`${name}: NaN, inf and 3.4e38 give finite output and gradient, no stray writes`, async () => {
      await expectNoStrayWrites(async () => {
        const [xt, b] = [x(), tf.tensor2d(hostileBoxes(2))];
        await expectNoLeak(() => fn(xt, b), out => expectAllFinite(out, 'output'));
        await expectNoLeak(() => tf.grad(v => fn(v, b))(xt), g => expectAllFinite(g, 'gradient'));
        tf.dispose([xt, b]);
      });
    });
  }

  it('1000 forward + backward iterations leave no tensor or buffer behind', async () => {
    const [xt, b] = [x(), tf.tensor2d(inside)];
    await expectNoLeakOver(1000, () => [
      tf.grad(v => vision.psRoiAlign(v as Tensor4D, b, {outputSize: 2}))(xt),
      tf.grad(v => vision.psRoiPool(v as Tensor4D, b, {outputSize: 2}))(xt),
    ]);
    tf.dispose([xt, b]);
  });
});

describe('position-sensitive ops: arguments', () => {
  const x = () => tf.zeros([1, 4, 4, 8]) as Tensor4D;
  const b = () => tf.zeros([1, 5]) as tf.Tensor2D;
  const cases: Array<[string, () => unknown, RegExp[]]> = [
    ['psRoiAlign channels', () => vision.psRoiAlign(x(), b(), {outputSize: 3}), [/psRoiAlign/, /'x'/, /divisible/, /9/]],
    ['psRoiAlign channelsFirst channels', () => vision.psRoiAlign(x(), b(), {outputSize: [1, 3], dataFormat: 'channelsFirst'}), [/psRoiAlign/, /'x'/, /divisible/]],
    ['psRoiAlign samplingRatio', () => vision.psRoiAlign(x(), b(), {outputSize: 2, samplingRatio: NaN}), [/psRoiAlign/, /'samplingRatio'/]],
    ['psRoiPool channels', () => vision.psRoiPool(x(), b(), {outputSize: [3, 1]}), [/psRoiPool/, /'x'/, /divisible/]],
    ['psRoiPool boxes', () => vision.psRoiPool(x(), tf.zeros([1, 4]) as any, {outputSize: 2}), [/psRoiPool/, /'boxes'/]],
    ['psRoiPool x dtype', () => vision.psRoiPool(tf.zeros([1, 4, 4, 8], 'int32') as any, b(), {outputSize: 2}), [/psRoiPool/, /'x'/, /float32/]],
  ];
  for (const [name, fn, patterns] of cases) {
    it(name, () => {
      const before = tf.memory().numTensors;
      tf.tidy(() => expectThrows(fn, ...patterns));
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

/** Values known from torchvision's own test suite (SEMANTICS.md). */
import * as tf from '@tensorflow/tfjs-core';
import * as vision from '../src/index';
import {expectNoLeak, expectTensorClose, expectThrows} from './support/helpers';
import {KNOWN_VALUE_TOLERANCE as TOL} from './support/tolerances';

const BOXES = [[0, 0, 100, 100], [0, 0, 50, 50], [200, 200, 300, 300], [0, 0, 25, 25]];
const PAIRWISE: Array<[string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, number[][]]> = [
  ['boxIou', vision.boxIou, [[1, .25, 0], [.25, 1, 0], [0, 0, 1], [.0625, .25, 0]]],
  ['generalizedBoxIou', vision.generalizedBoxIou,
    [[1, .25, -.7778], [.25, 1, -.8611], [-.7778, -.8611, 1], [.0625, .25, -.8819]]],
  ['distanceBoxIou', vision.distanceBoxIou,
    [[1, .1875, -.4444], [.1875, 1, -.5625], [-.4444, -.5625, 1], [-.0781, .1875, -.6267]]],
  ['completeBoxIou', vision.completeBoxIou,
    [[1, .1875, -.4444], [.1875, 1, -.5625], [-.4444, -.5625, 1], [-.0781, .1875, -.6267]]],
];

describe('known values', () => {
  for (const [name, fn, expected] of PAIRWISE) {
    it(`${name} on torchvision's test boxes`, async () => {
      await expectNoLeak(() => tf.tidy(() => fn(tf.tensor2d(BOXES), tf.tensor2d(BOXES.slice(0, 3)))),
          out => expectTensorClose(out, expected.flat(), {atol: 1e-4, rtol: 0}));
    });
  }

  const b1 = [-1, -1, 1, 1], b2 = [0, 0, 1, 1], b3 = [0, 1, 1, 2], b4 = [1, 1, 2, 2];
  const pairs = (ps: number[][][]) => [tf.tensor2d(ps.map(p => p[0])), tf.tensor2d(ps.map(p => p[1]))];
  it('generalizedBoxIouLoss', async () => {
    await expectNoLeak(() => tf.tidy(() => {
      const [a, b] = pairs([[b1, b1], [b1, b2], [b2, b3], [b2, b4]]);
      return vision.generalizedBoxIouLoss(a, b);
    }), out => expectTensorClose(out, [0, .75, 1, 1.5], TOL));
  });
  for (const [name, fn] of [['distanceBoxIouLoss', vision.distanceBoxIouLoss],
                            ['completeBoxIouLoss', vision.completeBoxIouLoss]] as const) {
    it(name, async () => {
      await expectNoLeak(() => tf.tidy(() => {
        const [a, b] = pairs([[b1, b1], [b1, b2], [b1, b3], [b1, b4]]);
        return fn(a, b);
      }), out => expectTensorClose(out, [0, .8125, 1.1923, 1.25], TOL));
    });
  }

  const x = () => tf.tensor1d([-2, 0, 3]), t = () => tf.tensor1d([0, 1, 1]);
  it('sigmoidFocalLoss default, mean and alpha = -1', async () => {
    await expectNoLeak(() => tf.tidy(() => vision.sigmoidFocalLoss(x(), t())),
        out => expectTensorClose(out, [1.352672e-3, 4.332170e-2, 2.732081e-5], TOL));
    await expectNoLeak(() => tf.tidy(() => vision.sigmoidFocalLoss(x(), t(), {reduction: 'mean'})),
        out => expectTensorClose(out, 0.014901, TOL));
    await expectNoLeak(() => tf.tidy(() => vision.sigmoidFocalLoss(x(), t(), {alpha: -1})),
        out => expectTensorClose(out, [1.803563e-3, 1.732868e-1, 1.092832e-4], TOL));
  });

  it('box formats: area, convert and clip on a hand-made box', async () => {
    await expectNoLeak(() => tf.tidy(() => vision.boxArea(tf.tensor2d([[10, 20, 4, 6]]), {fmt: 'cxcywh'})),
        out => expectTensorClose(out, [24], TOL));
    await expectNoLeak(() => tf.tidy(() => vision.boxConvert(tf.tensor2d([[10, 20, 30, 40]]), 'xyxy', 'cxcywh')),
        out => expectTensorClose(out, [20, 30, 20, 20], TOL));
    await expectNoLeak(() => tf.tidy(() => vision.clipBoxesToImage(tf.tensor2d([[-5, -5, 50, 50]]), [20, 30])),
        out => expectTensorClose(out, [0, 0, 30, 20], TOL));
  });

  it('removeSmallBoxes keeps w >= min and h >= min; sync form refused only on webgpu', async () => {
    const boxes = tf.tensor2d([[0, 0, 2, 2], [0, 0, 1.9, 5], [1, 1, 3, 3.5], [0, 0, 5, 1]]);
    await expectNoLeak(() => vision.removeSmallBoxesAsync(boxes, 2),
        out => expectTensorClose(out, [0, 2], TOL));
    if (tf.getBackend() === 'webgpu') {
      expectThrows(() => vision.removeSmallBoxes(boxes, 2), /removeSmallBoxes/, /removeSmallBoxesAsync/);
    } else {
      await expectNoLeak(() => vision.removeSmallBoxes(boxes, 2), out => expectTensorClose(out, [0, 2], TOL));
    }
    boxes.dispose();
  });

  it('masksToBoxes of an all-zero mask is [0, 0, 0, 0]', async () => {
    await expectNoLeak(() => tf.tidy(() => vision.masksToBoxes(tf.zeros([1, 3, 4], 'bool'))),
        out => expectTensorClose(out, [0, 0, 0, 0], TOL));
  });

  it('empty inputs: mean of no boxes is 0, pairwise of no boxes is empty', async () => {
    await expectNoLeak(() => tf.tidy(() => vision.generalizedBoxIouLoss(
        tf.zeros([0, 4]), tf.zeros([0, 4]), {reduction: 'mean'})), out => expectTensorClose(out, 0, TOL));
    await expectNoLeak(() => tf.tidy(() => vision.sigmoidFocalLoss(
        tf.zeros([0, 3]), tf.zeros([0, 3]), {reduction: 'mean'})), out => expectTensorClose(out, 0, TOL));
    await expectNoLeak(() => tf.tidy(() => vision.boxIou(tf.zeros([0, 4]), tf.zeros([3, 4]))),
        out => expectTensorClose(out, [], TOL));
  });
});

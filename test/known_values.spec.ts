/**
 * Values known from torchvision's own test suite (SEMANTICS.md): the fixture
 * cases named known_* (stated once, in tools/make_fixtures.py, which checks
 * them against the real torchvision and writes its outputs), then rules shown
 * on hand-made inputs.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as vision from '../src/index';
import boxOps from './fixtures/box_ops.json';
import losses from './fixtures/losses.json';
import {expectNoLeak, expectTensorClose, expectThrows, Fixture, fixtureTensor} from './support/helpers';
import {OPS} from './support/op_table';
import {KNOWN_VALUE_TOLERANCE as TOL} from './support/tolerances';

const KNOWN = [boxOps, losses].flatMap(f => (f as Fixture).cases.filter(c => c.name.startsWith('known')));
const KNOWN_OPS = ['box_iou', 'generalized_box_iou', 'distance_box_iou', 'complete_box_iou',
  'generalized_box_iou_loss', 'distance_box_iou_loss', 'complete_box_iou_loss', 'sigmoid_focal_loss'];

describe('known values', () => {
  it('every op with a SEMANTICS.md known value has its known_* fixture case', () => {
    expect([...new Set(KNOWN.map(c => c.op))].sort()).toEqual([...KNOWN_OPS].sort());
  });

  for (const c of KNOWN) {
    it(`${c.op} ${c.name}`, async () => {
      const inputs = Object.values(c.inputs).map(fixtureTensor);
      try {
        await expectNoLeak(() => OPS[c.op](c.args, ...inputs), out => expectTensorClose(out, c.output!, TOL));
      } finally {
        tf.dispose(inputs);
      }
    });
  }

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

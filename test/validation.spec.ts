/** Bad input gets an Error naming the op and the argument. */
import * as tf from '@tensorflow/tfjs-core';
import * as vision from '../src/index';
import {expectThrows} from './support/helpers';

describe('argument validation', () => {
  const ok = () => tf.tensor2d([[0, 0, 1, 1]]);
  const cases: Array<[string, () => unknown, RegExp[]]> = [
    ['boxArea rank 0', () => vision.boxArea(tf.scalar(1)), [/boxArea/, /'boxes'/, /rank >= 1/]],
    ['boxArea last dim', () => vision.boxArea(tf.zeros([2, 5])), [/boxArea/, /'boxes'/, /\[2,5\]/]],
    ['boxArea dtype', () => vision.boxArea(tf.zeros([2, 4], 'bool')), [/boxArea/, /dtype/, /bool/]],
    ['boxArea fmt', () => vision.boxArea(ok(), {fmt: 'yxyx' as any}), [/boxArea/, /'fmt'/, /yxyx/]],
    ['boxConvert fmt', () => vision.boxConvert(ok(), 'xyxy', 'xyz' as any), [/boxConvert/, /'outFmt'/]],
    ['boxConvert mixes rotated', () => vision.boxConvert(ok(), 'xyxy', 'xywhr'), [/boxConvert/, /rotated/]],
    ['boxConvert rotated size', () => vision.boxConvert(ok(), 'xywhr', 'cxcywhr'), [/boxConvert/, /last dimension 5/]],
    ['boxIou rank 1', () => vision.boxIou(tf.zeros([4]), ok()), [/boxIou/, /'boxes1'/, /rank >= 2/]],
    ['boxIou batch dims', () => vision.boxIou(tf.zeros([2, 3, 4]), tf.zeros([3, 3, 4])), [/boxIou/, /'boxes2'/, /leading/]],
    ['boxIou not a tensor', () => vision.boxIou({} as any, ok()), [/boxIou/, /'boxes1'/, /tf.Tensor/]],
    ['generalizedBoxIou last dim', () => vision.generalizedBoxIou(ok(), tf.zeros([1, 3])), [/generalizedBoxIou/, /'boxes2'/]],
    ['distanceBoxIou eps', () => vision.distanceBoxIou(ok(), ok(), {eps: NaN}), [/distanceBoxIou/, /'eps'/]],
    ['clipBoxesToImage size', () => vision.clipBoxesToImage(ok(), [10] as any), [/clipBoxesToImage/, /'size'/]],
    ['removeSmallBoxes rank', () => vision.removeSmallBoxes(tf.zeros([1, 2, 4]) as any, 1), [/removeSmallBoxes/, /rank 2/]],
    ['removeSmallBoxes minSize', () => vision.removeSmallBoxes(ok(), NaN), [/removeSmallBoxes/, /'minSize'/]],
    ['masksToBoxes rank', () => vision.masksToBoxes(tf.zeros([3, 4])), [/masksToBoxes/, /'masks'/, /rank 3/]],
    ['giou loss shapes', () => vision.generalizedBoxIouLoss(ok(), tf.zeros([2, 4])), [/generalizedBoxIouLoss/, /'boxes2'/, /shape/]],
    ['giou loss reduction', () => vision.generalizedBoxIouLoss(ok(), ok(), {reduction: 'avg' as any}), [/generalizedBoxIouLoss/, /'reduction'/, /avg/]],
    ['diou loss dtype', () => vision.distanceBoxIouLoss(tf.zeros([1, 4], 'bool'), ok()), [/distanceBoxIouLoss/, /'boxes1'/, /dtype/]],
    ['ciou loss last dim', () => vision.completeBoxIouLoss(tf.zeros([1, 5]), tf.zeros([1, 5])), [/completeBoxIouLoss/, /'boxes1'/]],
    ['focal alpha > 1', () => vision.sigmoidFocalLoss(ok(), ok(), {alpha: 3}), [/sigmoidFocalLoss/, /'alpha'/, /-1/]],
    ['focal alpha < 0', () => vision.sigmoidFocalLoss(ok(), ok(), {alpha: -0.5}), [/sigmoidFocalLoss/, /'alpha'/]],
    ['focal gamma', () => vision.sigmoidFocalLoss(ok(), ok(), {gamma: -1}), [/sigmoidFocalLoss/, /'gamma'/]],
    ['focal reduction', () => vision.sigmoidFocalLoss(ok(), ok(), {reduction: 'max' as any}), [/sigmoidFocalLoss/, /'reduction'/]],
    ['focal shapes', () => vision.sigmoidFocalLoss(ok(), tf.zeros([2, 4])), [/sigmoidFocalLoss/, /'targets'/, /shape/]],
    ['focal dtype', () => vision.sigmoidFocalLoss(tf.tensor1d(['a'] as any, 'string'), tf.zeros([1])), [/sigmoidFocalLoss/, /'inputs'/, /dtype/]],
  ];
  for (const [name, fn, patterns] of cases) {
    it(name, () => {
      const before = tf.memory().numTensors;
      tf.tidy(() => expectThrows(fn, ...patterns));
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

describe('pairwise box ops on empty box sets', () => {
  for (const op of ['boxIou', 'generalizedBoxIou', 'distanceBoxIou', 'completeBoxIou'] as const) {
    it(`${op}: [0, 4] x [3, 4] and [2, 4] x [0, 4] give empty results with empty gradients`, async () => {
      const before = tf.memory().numTensors;
      for (const [n, m] of [[0, 3], [2, 0], [0, 0]]) {
        const b1 = tf.ones([n, 4]), b2 = tf.ones([m, 4]);
        const out = (vision as any)[op](b1, b2);
        expect(out.shape).toEqual([n, m]);
        // dy instead of a sum: webgl cannot reduce a size-0 tensor.
        const dy = tf.ones([n, m]);
        const [g1, g2] = tf.grads((x: tf.Tensor, y: tf.Tensor) => (vision as any)[op](x, y))([b1, b2], dy);
        expect(g1.shape).toEqual([n, 4]);
        expect(g2.shape).toEqual([m, 4]);
        await g1.data();
        tf.dispose([b1, b2, out, g1, g2, dy]);
      }
      const [e, o] = [tf.zeros([0, 4]), tf.ones([2, 4])];
      const cx = vision.boxIou(e, o, {fmt: 'cxcywh'});
      expect(cx.shape).toEqual([0, 2]);
      tf.dispose([e, o, cx]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
  it('removeSmallBoxesAsync started inside tf.tidy resolves to a readable tensor', async () => {
    let p: Promise<tf.Tensor1D> | undefined;
    tf.tidy(() => { p = vision.removeSmallBoxesAsync(tf.tensor2d([[0, 0, 1, 1], [0, 0, 0.1, 0.1]]), 0.5); });
    const keep = await p!;
    expect(Array.from(await keep.data())).toEqual([0]);
    keep.dispose();
  });
});

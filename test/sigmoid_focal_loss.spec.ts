/** The fused focal-loss kernel against the cpu reference math and finite differences. */
import * as tf from '@tensorflow/tfjs-core';
import * as vision from '../src/index';
import {sigmoidFocalLossGradValues, sigmoidFocalLossValues} from '../kernels/reference/sigmoid_focal_loss';
import {SigmoidFocalLoss, SigmoidFocalLossGrad} from '../src/kernel_names';
import {expectClose, expectGradMatchesFiniteDifferences, expectNoLeak, seededUniform} from './support/helpers';
import {FINITE_DIFFERENCE_TOLERANCE} from './support/tolerances';

describe('sigmoidFocalLoss kernel', () => {
  const n = 1027;  // not a multiple of 4 or of a workgroup
  const x = seededUniform(n, -30, 30, 1);
  x.set([0, 1e-5, -1e-5, 17, -17, 88, -88]);
  const hard = seededUniform(n, 0, 1, 2).map(v => v < 0.3 ? 1 : 0);
  const soft = seededUniform(n, 0, 1, 3);
  const dy = seededUniform(n, -1, 1, 4);

  for (const [alpha, gamma] of [[0.25, 2], [0.5, 0], [-1, 1.5], [1, 2]]) {
    for (const [kind, t] of [['hard', hard], ['soft', soft]] as const) {
      it(`matches the reference math (alpha ${alpha}, gamma ${gamma}, ${kind} targets)`, async () => {
        const expected = new Float32Array(n), dx = new Float32Array(n), dt = new Float32Array(n);
        sigmoidFocalLossValues(x, t, alpha, gamma, expected);
        sigmoidFocalLossGradValues(dy, x, t, alpha, gamma, dx, dt);
        const [xt, tt, dyt] = [tf.tensor1d(x), tf.tensor1d(t), tf.tensor1d(dy)];
        const attrs = {alpha, gamma};
        await expectNoLeak(() => tf.engine().runKernel(SigmoidFocalLoss, {inputs: xt, targets: tt}, attrs) as tf.Tensor,
            async out => expectClose(await out.data(), expected, undefined, 'loss'));
        await expectNoLeak(
            () => tf.engine().runKernel(SigmoidFocalLossGrad, {dy: dyt, inputs: xt, targets: tt}, attrs) as tf.Tensor[],
            async ([gx, gt]) => {
              expectClose(await gx.data(), dx, undefined, 'dInputs');
              expectClose(await gt.data(), dt, undefined, 'dTargets');
            });
        tf.dispose([xt, tt, dyt]);
      });
    }
  }

  it('handles empty tensors', async () => {
    await expectNoLeak(() => tf.tidy(() => vision.sigmoidFocalLoss(tf.zeros([0, 4]), tf.zeros([0, 4]))),
        out => expect(out.shape).toEqual([0, 4]));
  });

  it('gradients match finite differences', async () => {
    const logits = tf.tensor2d([[-2.1, 0.3, 1.7], [0.9, -0.4, 2.5]]);
    const targets = tf.tensor2d([[0, 1, 1], [0.3, 0.8, 0]]);
    await expectGradMatchesFiniteDifferences(
        (a, b) => vision.sigmoidFocalLoss(a, b, {alpha: 0.25, gamma: 2}), [logits, targets],
        FINITE_DIFFERENCE_TOLERANCE);
    tf.dispose([logits, targets]);
  });
});

describe('composite ops: finite-difference gradients', () => {
  const a = () => tf.tensor2d([[1, 2, 6, 7], [0.5, 0.2, 3, 4.1]]);
  const b = () => tf.tensor2d([[2, 1.5, 5, 9], [3.3, 2.2, 4.4, 6.6], [0, 0, 1.2, 1.1]]);
  const pairedB = () => tf.tensor2d([[2, 1.5, 5, 9], [3.3, 2.2, 4.4, 6.6]]);
  const rotated = () => tf.tensor2d([[4, 5, 3, 2, 30], [1, 2, 2.5, 1.5, -60]]);
  // completeBoxIou(Loss) hold alpha constant, unlike a finite difference: fixtures cover them.
  const fns: Array<[string, (...x: tf.Tensor[]) => tf.Tensor, () => tf.Tensor[]]> = [
    ['boxIou', vision.boxIou, () => [a(), b()]],
    ['generalizedBoxIou', vision.generalizedBoxIou, () => [a(), b()]],
    ['distanceBoxIou', vision.distanceBoxIou, () => [a(), b()]],
    ['distanceBoxIouLoss', vision.distanceBoxIouLoss, () => [a(), pairedB()]],
    ['generalizedBoxIouLoss', vision.generalizedBoxIouLoss, () => [a(), pairedB()]],
    ['boxConvert cxcywhr -> xyxyxyxy', x => vision.boxConvert(x, 'cxcywhr', 'xyxyxyxy'), () => [rotated()]],
  ];
  for (const [name, fn, inputs] of fns) {
    it(name, async () => {
      const xs = inputs();
      await expectGradMatchesFiniteDifferences(fn, xs, FINITE_DIFFERENCE_TOLERANCE);
      tf.dispose(xs);
    });
  }
});

/** The op -> kernel -> gradient architecture itself. */
import * as tf from '@tensorflow/tfjs-core';
import * as vision from '../src/index';
import {ALL_KERNELS, SigmoidFocalLoss} from '../src/kernel_names';
import {expectOptimizerLowersLoss, expectThrows} from './support/helpers';

describe('architecture', () => {
  it('every kernel and its gradient is registered on the active backend', () => {
    for (const name of ALL_KERNELS) {
      expect(tf.getKernel(name, tf.getBackend()) != null).toBe(true);
    }
    expect(tf.getGradient(SigmoidFocalLoss) != null).toBe(true);
  });

  it('a backend without our kernel gets an Error naming the import to add', () => {
    const backend = tf.getBackend();
    const config = tf.getKernel(SigmoidFocalLoss, backend)!;
    tf.unregisterKernel(SigmoidFocalLoss, backend);
    try {
      const expectedImport = vision.BACKEND_IMPORTS[backend].replace('/', '\\/');
      tf.tidy(() => expectThrows(() => vision.sigmoidFocalLoss(tf.zeros([2]), tf.zeros([2])),
          /sigmoidFocalLoss/, /SigmoidFocalLoss/, new RegExp(`'${backend}'`), new RegExp(expectedImport)));
    } finally {
      tf.registerKernel(config);
    }
  });

  it('the kernel runs under tf.grad, tf.variableGrads and an optimizer', async () => {
    const logits = tf.variable(tf.tensor2d([[-2, 0.5], [1, 3]]));
    const targets = tf.tensor2d([[0, 1], [1, 0]]);
    await expectOptimizerLowersLoss(
        logits, () => vision.sigmoidFocalLoss(logits, targets, {reduction: 'sum'}) as tf.Scalar, 1);
    tf.dispose([logits, targets]);
  });
});

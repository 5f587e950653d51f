/** sigmoidFocalLoss on 100000x80 logits, reduction 'mean', forward and forward+backward. */
import * as tf from '@tensorflow/tfjs-core';
import {sigmoidFocalLoss} from '../../src/index';
import {timeMedian} from '../harness';

export const NAME = 'sigmoid_focal_loss_100000x80';

/** What a tfjs user would write without this package: the formula in tf ops. */
function compositeFocalLoss(x: tf.Tensor, t: tf.Tensor, alpha = 0.25, gamma = 2) {
  const p = tf.sigmoid(x);
  const ce = tf.add(tf.sub(tf.relu(x), tf.mul(x, t)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
  const pt = tf.add(tf.mul(p, t), tf.mul(tf.sub(1, p), tf.sub(1, t)));
  const loss = tf.mul(ce, tf.pow(tf.sub(1, pt), gamma));
  return tf.mean(tf.mul(loss, tf.add(tf.mul(alpha, t), tf.mul(1 - alpha, tf.sub(1, t)))));
}

export async function run() {
  const x = tf.mul(tf.randomNormal([100000, 80], 0, 1, 'float32', 0), 3);
  const t = tf.cast(tf.less(tf.randomUniform([100000, 80], 0, 1, 'float32', 1), 0.01), 'float32');
  const ours = (x2: tf.Tensor) => sigmoidFocalLoss(x2, t, {reduction: 'mean'}) as tf.Scalar;
  const composite = (x2: tf.Tensor) => compositeFocalLoss(x2, t) as tf.Scalar;
  const result = {
    forward: await timeMedian(() => ours(x)),
    forwardBackward: await timeMedian(() => tf.grad(ours)(x)),
    compositeForward: await timeMedian(() => composite(x)),
    compositeForwardBackward: await timeMedian(() => tf.grad(composite)(x)),
  };
  tf.dispose([x, t]);
  return result;
}

/** sigmoidFocalLoss on 100000x80 logits, reduction 'mean', forward and forward+backward. */
import * as tf from '@tensorflow/tfjs-core';
import {sigmoidFocalLoss} from '../../src/index';
import {BenchCase, BenchRow, timeMedian} from '../harness';

const NAME = 'sigmoid_focal_loss_100000x80';
/** Logits' shape: full (the name's), and tiny (`--tiny`). */
const SHAPE = {full: [100000, 80], tiny: [1000, 8]};

/** What a tfjs user would write without this package: the formula in tf ops. */
function compositeFocalLoss(x: tf.Tensor, t: tf.Tensor, alpha = 0.25, gamma = 2) {
  const p = tf.sigmoid(x);
  const ce = tf.add(tf.sub(tf.relu(x), tf.mul(x, t)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
  const pt = tf.add(tf.mul(p, t), tf.mul(tf.sub(1, p), tf.sub(1, t)));
  const loss = tf.mul(ce, tf.pow(tf.sub(1, pt), gamma));
  return tf.mean(tf.mul(loss, tf.add(tf.mul(alpha, t), tf.mul(1 - alpha, tf.sub(1, t)))));
}

export const focalLossCase: BenchCase = {
  name: NAME,
  torchvisionCases: [NAME],
  backends: ['cpu', 'wasm', 'tensorflow', 'webgl', 'webgpu'],
  async run(backend, torchvision, size) {
    const x = tf.mul(tf.randomNormal(SHAPE[size], 0, 1, 'float32', 0), 3);
    const t = tf.cast(tf.less(tf.randomUniform(SHAPE[size], 0, 1, 'float32', 1), 0.01), 'float32');
    const ours = (x2: tf.Tensor) => sigmoidFocalLoss(x2, t, {reduction: 'mean'}) as tf.Scalar;
    const composite = (x2: tf.Tensor) => compositeFocalLoss(x2, t) as tf.Scalar;
    const forward = (await timeMedian(() => ours(x))).median;
    const both = (await timeMedian(() => tf.grad(ours)(x))).median;
    // The composite keeps ~20 full-size intermediates for its backward pass: on
    // tfjs-wasm that exceeds the module's memory and aborts it, so it runs last.
    const attempt = async (fn: () => tf.TensorContainer) => {
      try {
        return {ms: (await timeMedian(fn)).median};
      } catch (e) {
        return {failed: String(e).split('\n')[0].slice(0, 60)};
      }
    };
    const compForward = await attempt(() => composite(x));
    const compBoth = 'ms' in compForward ? await attempt(() => tf.grad(composite)(x)) : compForward;
    tf.dispose([x, t]);
    const baseline = (r: {ms?: number, failed?: string}) =>
        r.ms != null ? {baseline: 'tf ops composite', baseline_ms: r.ms} :
                       {baseline: `tf ops composite: failed (${r.failed})`};
    const rows: BenchRow[] = [
      {case: NAME, backend, variant: 'forward', median_ms: forward, ...baseline(compForward)},
      {case: NAME, backend, variant: 'forward+backward', median_ms: both, ...baseline(compBoth)},
    ];
    const torch = torchvision[NAME];
    if (torch != null) {
      rows.push({case: NAME, backend, variant: 'forward', median_ms: forward,
        baseline: 'torchvision 0.14, 1 thread', baseline_ms: torch.forward_ms});
      rows.push({case: NAME, backend, variant: 'forward+backward', median_ms: both,
        baseline: 'torchvision 0.14, 1 thread', baseline_ms: torch.forward_backward_ms});
    }
    return rows;
  },
};

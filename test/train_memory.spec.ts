/**
 * A detection-head training loop (FeaturePyramidNetwork + MultiScaleRoIAlign + an MLP box head, focal and
 * GIoU losses, momentum SGD) for 200 steps on the active backend: no tensor, data buffer or (webgl) texture
 * growth, and the loss falls.
 */
import * as tf from '@tensorflow/tfjs-core';
import {FeaturePyramidNetwork, generalizedBoxIouLoss, MLP, MultiScaleRoIAlign, sigmoidFocalLoss} from '../src/index';
import {seededUniform} from './support/helpers';
import {expectNoLeakOver} from './support/roi';

const IMAGE = 32, CLASSES = 3, PROPOSALS = 6;

describe('a training loop of RoI ops and layers', () => {
  it('keeps memory flat over 200 steps and lowers the loss', async () => {
    const maps = [4, 8].map((s, i) =>
      tf.tensor(seededUniform(2 * (IMAGE / s) ** 2 * 4, -1, 1, 90 + i), [2, IMAGE / s, IMAGE / s, 4]) as tf.Tensor4D);
    const targets = tf.tensor2d(Array.from(seededUniform(2 * PROPOSALS * 4, 2, 14, 95), (v, i) => i % 4 < 2 ? v : v + 14),
        [2 * PROPOSALS, 4]);
    const boxes = tf.add(targets, tf.tensor2d(seededUniform(2 * PROPOSALS * 4, -2, 2, 96), [2 * PROPOSALS, 4])) as tf.Tensor2D;
    const perImage = tf.split(boxes, 2) as tf.Tensor2D[];
    const classes = tf.oneHot(tf.tensor1d(Array.from({length: 2 * PROPOSALS}, (_, i) => i % CLASSES), 'int32'), CLASSES);
    const fpn = new FeaturePyramidNetwork({inChannelsList: [4, 4], outChannels: 4});
    const pooler = new MultiScaleRoIAlign({featmapNames: ['0', '1'], outputSize: 3, samplingRatio: 2});
    const head = new MLP({inChannels: 4 * 9, hiddenChannels: [16, CLASSES + 4]});
    const loss = () => {
      const features = fpn.forward({0: maps[0], 1: maps[1]}) as Record<string, tf.Tensor4D>;
      const pooled = pooler.forward(features, perImage, [[IMAGE, IMAGE], [IMAGE, IMAGE]]);
      const out = head.apply(tf.reshape(pooled, [pooled.shape[0], -1])) as tf.Tensor2D;
      const refined = tf.add(boxes, tf.slice(out, [0, CLASSES], [-1, 4]));
      return tf.add(sigmoidFocalLoss(tf.slice(out, [0, 0], [-1, CLASSES]), classes, {reduction: 'mean'}),
          tf.mean(generalizedBoxIouLoss(refined, targets))) as tf.Scalar;
    };
    const first = tf.tidy(loss);
    const before = (await first.data())[0];
    first.dispose();
    const weights = [fpn, head].flatMap(l => l.trainableWeights.map(w => w.read() as tf.Variable));
    const optimizer = tf.train.momentum(0.05, 0.9);
    await expectNoLeakOver(200, () => optimizer.minimize(loss, true, weights)!);
    const last = tf.tidy(loss);
    expect((await last.data())[0]).toBeLessThan(before);
    last.dispose();
    optimizer.dispose();
    [fpn, head].forEach(l => l.dispose());
    tf.dispose([...maps, targets, boxes, ...perImage, classes]);
  }, 600000);  // webgpu on SwiftShader: a few hundred ms a step
});

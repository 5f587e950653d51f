/** A conv + FPN model of these layers trains with model.fit on the active backend. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as vision from '../src/index';
import {seededUniform} from './support/helpers';

function convFpnModel() {
  const image = tfl.input({shape: [16, 16, 3]});
  const c3 = new vision.Conv2dNormActivation({inChannels: 3, outChannels: 8, stride: 2}).apply(image);
  const c4 = new vision.Conv2dNormActivation({inChannels: 8, outChannels: 12, stride: 2, activation: 'hardswish'})
      .apply(c3);
  const [p3] = new vision.FeaturePyramidNetwork({inChannelsList: [8, 12], outChannels: 8, normLayer: 'batchNorm',
    extraBlocks: 'lastLevelMaxPool'}).apply([c3, c4] as tfl.SymbolicTensor[]) as tfl.SymbolicTensor[];
  let y = new vision.SqueezeExcitation({inputChannels: 8, squeezeChannels: 4}).apply(p3);
  y = new vision.DropBlock2d({p: 0.1, blockSize: 3, seed: 1}).apply(y);
  y = new vision.StochasticDepth({p: 0.1, mode: 'row', seed: 2}).apply(y);
  y = new vision.Conv2dNormActivation({inChannels: 8, outChannels: 1, kernelSize: 1, normLayer: null,
    activation: null}).apply(y);
  return tfl.model({inputs: image, outputs: y as tfl.SymbolicTensor});
}

describe('training with fit', () => {
  it('a conv + FPN model: the loss falls and the running statistics move', async () => {
    const model = convFpnModel();
    const x = tf.tensor4d(seededUniform(4 * 16 * 16 * 3, -1, 1, 1), [4, 16, 16, 3]);
    const target = tf.tensor4d(seededUniform(4 * 8 * 8, -1, 1, 2), [4, 8, 8, 1]);
    const bn = model.layers.find(l => l instanceof vision.Conv2dNormActivation)!;
    const runningVar = bn.weights.find(w => w.originalName.endsWith('1.running_var'))!;
    const before = Array.from(await runningVar.read().data());
    model.compile({optimizer: tf.train.adam(0.02), loss: 'meanSquaredError'});
    const history = await model.fit(x, target, {epochs: 8, batchSize: 4, shuffle: false, verbose: 0});
    const losses = history.history.loss as number[];
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(0.9 * losses[0]);
    expect(Array.from(await runningVar.read().data())).not.toEqual(before);
    // Every weight is seen by the optimizer or is a non-trainable statistic.
    const trainable = model.trainableWeights.length;
    expect(trainable + model.nonTrainableWeights.length).toBe(model.weights.length);
    expect(trainable).toBe(3 + 3 + 2 * 2 * 3 + 4 + 2);  // convs + BN affine, FPN blocks, SE, head
    tf.dispose([x, target]);
    model.dispose();
  });
});

/** The DeformConv2d layer: equal to the op, torchvision weights and parity, initialisation, serialization, fit. */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor, Tensor4D} from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as vision from '../src/index';
import {permute} from '../src/ops/roi_common';
import fixture from './fixtures/deform_conv2d.json';
import {casesOf, expectNoLeak, expectTensorClose, expectThrows, Fixture, fixtureTensor, seededUniform} from './support/helpers';
import {disposeLayer, roundTrip} from './support/layers';

const toLast = (t: Tensor) => permute(t, [0, 2, 3, 1]);
// 5x6 map, 4 channels, 3x3 kernel, padding 1, stride (1, 2): output 5x3; one offset group.
const x = () => tf.tensor(seededUniform(2 * 5 * 6 * 4, -1, 1, 501), [2, 5, 6, 4]) as Tensor4D;
const offset = () => tf.tensor(seededUniform(2 * 5 * 3 * 18, -2, 2, 502), [2, 5, 3, 18]) as Tensor4D;
const mask = () => tf.tensor(seededUniform(2 * 5 * 3 * 9, 0, 1, 503), [2, 5, 3, 9]) as Tensor4D;

describe('DeformConv2d layer', () => {
  for (const dataFormat of ['channelsLast', 'channelsFirst'] as const) {
    it(`equals deformConv2d with its weights, with and without mask; output shape (${dataFormat})`, async () => {
      const layer = new vision.DeformConv2d(6, 3, {padding: 1, strides: [1, 2], groups: 2, dataFormat});
      const view = (t: Tensor4D) => dataFormat === 'channelsFirst' ? permute(t, [0, 3, 1, 2]) : t;
      const [xt, o, m] = [x(), offset(), mask()].map(view);
      layer.build([xt.shape, o.shape]);
      for (const inputs of [[xt, o], [xt, o, m]]) {
        await expectNoLeak(() => {
          const out = layer.apply(inputs) as Tensor;
          const [w, b] = layer.getWeights();
          const ref = vision.deformConv2d(xt, o, w as Tensor4D, {bias: b as tf.Tensor1D, padding: 1, stride: [1, 2],
            mask: inputs.length === 3 ? m : null, dataFormat, weightFormat: 'HWIO'});
          return [out, ref];
        }, async ([a, b]) => {
          expect(a.shape).toEqual(layer.computeOutputShape(inputs.map(t => t.shape)) as number[]);
          await expectTensorClose(a, b);
        });
      }
      expect(layer.getWeights().map(w => w.shape)).toEqual([[3, 3, 2, 6], [6]]);
      tf.dispose([xt, o, m]);
      disposeLayer(layer);
    });
  }

  it('takes torchvision weights by name and matches torchvision (its own test geometry)', async () => {
    const c = casesOf(fixture as Fixture, 'deform_conv2d').find(k => k.name === 'torchvision_geometry_b1_mask')!;
    const [xt, o, w, m, b, out] = ['input', 'offset', 'weight', 'mask', 'bias'].map(n => fixtureTensor(c.inputs[n]))
        .concat([fixtureTensor(c.output!)]);
    const layer = new vision.DeformConv2d({filters: 2, kernelSize: [3, 2], strides: [2, 1], padding: [1, 0],
      dilation: [2, 1], groups: 2, offsetGroups: 3, dataFormat: 'channelsFirst'});
    layer.apply([xt, o, m]);  // builds
    const report = vision.loadTorchvisionWeights(layer, {weight: w, bias: b});
    expect(report.loaded.sort()).toEqual(['bias', 'weight']);
    await expectNoLeak(() => layer.apply([xt, o, m]) as Tensor, y => expectTensorClose(y, out));
    const last = new vision.DeformConv2d(2, [3, 2], {strides: [2, 1], padding: [1, 0], dilation: [2, 1], groups: 2,
      offsetGroups: 3});
    const [xl, ol, ml] = [xt, o, m].map(toLast);
    last.apply([xl, ol, ml]);
    last.setWeights(layer.getWeights());
    await expectNoLeak(() => tf.tidy(() => permute(last.apply([xl, ol, ml]) as Tensor, [0, 3, 1, 2])),
        y => expectTensorClose(y, out));
    tf.dispose([xt, o, w, m, b, out, xl, ol, ml]);
    disposeLayer(layer);
    disposeLayer(last);
  });

  it('initialises as torchvision: kaiming_uniform(a = sqrt 5) kernel, U(+-1 / sqrt(fan_in)) bias', async () => {
    const layer = new vision.DeformConv2d({filters: 64, kernelSize: 3, groups: 2});
    layer.build([[1, 8, 8, 32], [1, 6, 6, 18]]);
    const bound = 1 / Math.sqrt(16 * 9);
    const [w, b] = await Promise.all(layer.getWeights().map(t => t.data()));
    for (const [values, name] of [[w, 'kernel'], [b, 'bias']] as const) {
      const max = values.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
      expect(max).toBeLessThanOrEqual(bound);
      expect(max).toBeGreaterThan(0.9 * bound);
      if (name === 'kernel') {  // 9216 draws: the standard deviation of U(-b, b) is b / sqrt 3
        const std = Math.sqrt(values.reduce((a, v) => a + v * v, 0) / values.length);
        expect(Math.abs(std / (bound / Math.sqrt(3)) - 1)).toBeLessThan(0.05);
      }
    }
    disposeLayer(layer);
  });

  it('trains in a functional model with fit and survives model.save / tf.loadLayersModel', async () => {
    const inputs = [tfl.input({shape: [5, 6, 4]}), tfl.input({shape: [5, 3, 18]}), tfl.input({shape: [5, 3, 9]})];
    const layer = new vision.DeformConv2d(2, 3, {padding: 1, strides: [1, 2]});
    const out = layer.apply(inputs) as tfl.SymbolicTensor;
    expect(out.shape).toEqual([null, 5, 3, 2]);
    const model = tfl.model({inputs, outputs: out});
    model.compile({optimizer: tf.train.adam(0.05), loss: 'meanSquaredError'});
    const xs = [x(), offset(), mask()];
    const ys = tf.tensor(seededUniform(2 * 5 * 3 * 2, -1, 1, 504), [2, 5, 3, 2]);
    // tfjs-layers' own training loop fails the engine's per-kernel leak check on some backends.
    tf.env().set('IS_TEST', false);
    const history = await model.fit(xs, ys, {epochs: 10, batchSize: 2, verbose: 0})
        .finally(() => tf.env().set('IS_TEST', true));
    const losses = history.history.loss as number[];
    expect(losses[losses.length - 1]).toBeLessThan(0.9 * losses[0]);
    const loaded = await roundTrip(model);
    try {
      const loadedLayer = loaded.layers.find(l => l.getClassName() === 'DeformConv2d')!;
      expect(loadedLayer.getConfig()).toEqual(layer.getConfig());
      expect(loaded.weights.map(w => w.originalName)).toEqual(model.weights.map(w => w.originalName));
      const [a, b] = [model.predict(xs) as Tensor, loaded.predict(xs) as Tensor];
      expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
      tf.dispose([a, b]);
    } finally {
      tf.dispose([...xs, ys]);
      model.dispose();
      loaded.dispose();
    }
  });

  it('errors name the layer and the argument', () => {
    expectThrows(() => new vision.DeformConv2d(0, 3), /DeformConv2d/, /'filters'/);
    expectThrows(() => new vision.DeformConv2d(4, [3, 0]), /DeformConv2d/, /'kernelSize'/);
    expectThrows(() => new vision.DeformConv2d(5, 3, {groups: 2}), /DeformConv2d/, /'groups'/, /filters \(5\)/);
    expectThrows(() => new vision.DeformConv2d(4, 3, {strides: 0}), /DeformConv2d/, /'strides'/);
    expectThrows(() => new vision.DeformConv2d(4, 3, {useBias: 1 as any}), /DeformConv2d/, /'useBias'/);
    tf.tidy(() => {
      expectThrows(() => new vision.DeformConv2d(4, 3, {offsetGroups: 3}).apply([x(), offset()]), /'inputs'/, /4 channels/);
      expectThrows(() => new vision.DeformConv2d(4, 3, {padding: 1}).apply([x()]), /'inputs'/, /\[x, offset\]/);
      expectThrows(() => new vision.DeformConv2d(4, 3, {padding: 1, strides: [1, 2], offsetGroups: 2})
          .apply([x(), offset()]), /'offset'/, /36 channels/);
    });
  });
});

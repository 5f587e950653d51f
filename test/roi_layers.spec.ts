/** The RoI layers: equal to their ops, both box forms, serialization, fit; MultiScaleRoIAlign against torchvision. */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor, Tensor4D} from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as vision from '../src/index';
import {permute} from '../src/ops/roi_common';
import roi from './fixtures/roi.json';
import {casesOf, expectNoLeak, expectTensorClose, expectThrows, Fixture, fixtureTensor, seededUniform} from './support/helpers';
import {DATA_FORMATS} from './support/roi';

const x = () => tf.tensor4d(seededUniform(2 * 6 * 7 * 8, -1, 1, 101), [2, 6, 7, 8]);
const perImage = [[[0.6, 0.3, 4.2, 3.9], [2, 2, 6, 5]], [[-1.3, 1.2, 3.1, 6.4], [2.2, 0.4, 5.5, 2.7]]];
const rois = perImage.flatMap((bs, n) => bs.map(b => [n, ...b]));

const LAYERS: Array<[string, () => tfl.layers.Layer, (x: Tensor4D, b: tf.Tensor2D) => Tensor4D]> = [
  ['RoIAlign', () => new vision.RoIAlign({outputSize: 2, spatialScale: 0.9, samplingRatio: 2, aligned: true}),
    (v, b) => vision.roiAlign(v, b, {outputSize: 2, spatialScale: 0.9, samplingRatio: 2, aligned: true})],
  ['RoIPool', () => new vision.RoIPool({outputSize: [2, 3]}), (v, b) => vision.roiPool(v, b, {outputSize: [2, 3]})],
  ['PSRoIAlign', () => new vision.PSRoIAlign({outputSize: 2, samplingRatio: 1}),
    (v, b) => vision.psRoiAlign(v, b, {outputSize: 2, samplingRatio: 1})],
  ['PSRoIPool', () => new vision.PSRoIPool({outputSize: [2, 1], spatialScale: 0.5}),
    (v, b) => vision.psRoiPool(v, b, {outputSize: [2, 1], spatialScale: 0.5})],
];

describe('RoI layers', () => {
  for (const [name, make, op] of LAYERS) {
    it(`${name}: [K, 5] and [N, K, 4] boxes give the op's result; output shape; config round trip`, async () => {
      const layer = make();
      const [xt, k5, nk4] = [x(), tf.tensor2d(rois), tf.tensor3d(perImage)];
      await expectNoLeak(() => [layer.apply([xt, k5]) as Tensor, op(xt, k5)], async ([a, b]) => {
        expect(a.shape).toEqual(layer.computeOutputShape([xt.shape, k5.shape]) as number[]);
        await expectTensorClose(a, b);
      });
      await expectNoLeak(() => [layer.apply([xt, nk4]) as Tensor, op(xt, k5)], async ([a, b]) => {
        expect(a.shape).toEqual([2, 2, ...b.shape.slice(1)]);
        expect(a.shape).toEqual(layer.computeOutputShape([xt.shape, nk4.shape]) as number[]);
        await expectTensorClose(a, Array.from(await b.data()));
      });
      const config = layer.getConfig();
      const [cls, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap[name];
      const copy = fromConfig(cls, config) as tfl.layers.Layer;
      expect(copy.getConfig()).toEqual(config);
      tf.dispose([xt, k5, nk4]);
    });
  }

  it('RoIAlign trains in a functional model with fit and survives a JSON round trip', async () => {
    const image = tfl.input({shape: [6, 7, 8]});
    const boxes = tfl.input({shape: [2, 4]});
    const pooled = new vision.RoIAlign({outputSize: 2, samplingRatio: 2}).apply([image, boxes]) as tfl.SymbolicTensor;
    // A trainable layer before RoIAlign: fit must backpropagate through it (a 1x1 projection).
    const conv = tfl.layers.dense({units: 8, useBias: false}).apply(image) as tfl.SymbolicTensor;
    const pooledConv = new vision.RoIAlign({outputSize: 2, samplingRatio: 2}).apply([conv, boxes]) as tfl.SymbolicTensor;
    const merged = tfl.layers.concatenate().apply([tfl.layers.flatten().apply(pooled) as tfl.SymbolicTensor,
      tfl.layers.flatten().apply(pooledConv) as tfl.SymbolicTensor]) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({units: 1, kernelInitializer: 'zeros'}).apply(merged) as tfl.SymbolicTensor;
    const model = tfl.model({inputs: [image, boxes], outputs: out});
    model.compile({optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError'});
    const [xs, bs, ys] = [x(), tf.tensor3d(perImage), tf.tensor2d([[1], [-1]])];
    // tfjs's own fused matMul (dense) fails the engine's per-kernel leak check on the
    // wasm and tensorflow backends; our kernels keep it on in every other spec.
    tf.env().set('IS_TEST', false);
    const history = await model.fit([xs, bs], ys, {epochs: 8, batchSize: 2, verbose: 0})
        .finally(() => tf.env().set('IS_TEST', true));
    const losses = history.history.loss as number[];
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);

    // The topology round trip (our layers deserialised by class name), weights copied over.
    const topology = model.toJSON(null, false) as tf.io.ModelJSON['modelTopology'];
    const loaded = await tfl.models.modelFromJSON({modelTopology: topology} as any) as tfl.LayersModel;
    loaded.setWeights(model.getWeights());
    expect(loaded.layers.map(l => l.getClassName())).toContain('RoIAlign');
    const [a, b] = [model.predict([xs, bs]) as Tensor, loaded.predict([xs, bs]) as Tensor];
    await expectTensorClose(a, b);
    tf.dispose([xs, bs, ys, a, b]);
    model.dispose();
    loaded.dispose();
  });

  it('errors name the layer and the argument', () => {
    expectThrows(() => new vision.RoIAlign({outputSize: 0}), /RoIAlign/, /'outputSize'/);
    expectThrows(() => new vision.RoIPool({outputSize: 2, dataFormat: 'x' as any}), /RoIPool/, /'dataFormat'/);
    expectThrows(() => new vision.MultiScaleRoIAlign({featmapNames: [], outputSize: 2, samplingRatio: 2}),
        /MultiScaleRoIAlign/, /'featmapNames'/);
    tf.tidy(() => expectThrows(() => new vision.RoIAlign({outputSize: 2}).apply([x(), tf.zeros([2, 3, 5])]),
        /RoIAlign/, /'boxes'/));
  });
});

describe('MultiScaleRoIAlign', () => {
  it('LevelMapper known values (k_min 2, k_max 5)', async () => {
    const layer = new vision.MultiScaleRoIAlign({featmapNames: ['a'], outputSize: 2, samplingRatio: 2});
    const sides = [16, 112, 223.9, 224, 448, 1000];
    await expectNoLeak(() => tf.tidy(() => layer.mapLevels(tf.tensor2d(sides.map(s => [0, 0, s, s])), [1 / 4, 1 / 8, 1 / 16, 1 / 32])),
        async levels => expect(Array.from(await levels.data())).toEqual([0, 1, 1, 2, 3, 3]));
  });

  for (const c of casesOf(roi as Fixture, 'multi_scale_roi_align')) {
    for (const dataFormat of DATA_FORMATS) {
      it(`torchvision fixture ${c.name} ${dataFormat}`, async () => {
        const a = c.args as any;
        const last = dataFormat === 'channelsLast';
        const view = (t: Tensor) => last ? tf.tidy(() => permute(t, [0, 2, 3, 1])) : t;
        const owned = (t: Tensor) => {  // view of a fixture tensor, which it replaces
          const v = view(t);
          if (v !== t) t.dispose();
          return v;
        };
        const names = ['feat1', 'extra', 'feat2', 'feat3'];
        const raw = names.map(n => fixtureTensor(c.inputs[n]));
        const feats = raw.map(view) as Tensor4D[];
        const boxes = [fixtureTensor(c.inputs.boxes0), fixtureTensor(c.inputs.boxes1)] as tf.Tensor2D[];
        const layer = new vision.MultiScaleRoIAlign({featmapNames: a.featmap_names, outputSize: a.output_size,
          samplingRatio: a.sampling_ratio, canonicalScale: a.canonical_scale, canonicalLevel: a.canonical_level, dataFormat});
        const run = (...fs: Tensor[]) => layer.forward(
            Object.fromEntries(names.map((n, i) => [n, fs[i] as Tensor4D])), boxes, a.image_shapes);
        const [expected, dy] = [owned(fixtureTensor(c.output!)), owned(fixtureTensor(c.dy!))];
        await expectNoLeak(() => run(...feats), out => expectTensorClose(out, expected));
        // 'extra' is filtered out: torchvision's gradient for it is zero, ours does not exist.
        const used = [0, 2, 3];
        const extraGrad = fixtureTensor(c.grads!.extra);
        expect((await extraGrad.data()).every(v => v === 0)).toBe(true);
        extraGrad.dispose();
        await expectNoLeak(() => tf.grads((f1: Tensor, f2: Tensor, f3: Tensor) => run(f1, feats[1], f2, f3))(
            used.map(i => feats[i]), dy), async grads => {
          for (let j = 0; j < used.length; j++) {
            const g = owned(fixtureTensor(c.grads![names[used[j]]]));
            await expectTensorClose(grads[j], g, undefined, `d/d${names[used[j]]}`);
            tf.dispose(g);
          }
        });
        tf.dispose([...raw, ...feats, ...boxes, expected, dy]);
      });
    }
  }

  it('works in a functional model: [...features, boxes [N, K, 4]] with imageShape', async () => {
    const layer = new vision.MultiScaleRoIAlign({featmapNames: ['p2', 'p3'], outputSize: 2, samplingRatio: 2,
      canonicalScale: 16, canonicalLevel: 3, imageShape: [32, 32]});
    const [p2, p3] = [tfl.input({shape: [8, 8, 3]}), tfl.input({shape: [4, 4, 3]})];
    const boxes = tfl.input({shape: [3, 4]});
    const out = layer.apply([p2, p3, boxes]) as tfl.SymbolicTensor;
    expect(out.shape).toEqual([null, 3, 2, 2, 3]);
    const model = tfl.model({inputs: [p2, p3, boxes], outputs: out});
    const [f2, f3] = [tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 1), tf.randomNormal([2, 4, 4, 3], 0, 1, 'float32', 2)];
    const b = tf.tensor3d([[[0, 0, 8, 8], [2, 2, 30, 30], [1, 1, 5, 9]], [[4, 4, 28, 20], [0, 0, 3, 3], [10, 10, 12, 12]]]);
    const direct = layer.forward({p2: f2 as Tensor4D, p3: f3 as Tensor4D},
        tf.unstack(b) as tf.Tensor2D[], [[32, 32], [32, 32]]);
    const predicted = model.predict([f2, f3, b]) as Tensor;
    await expectTensorClose(predicted, tf.reshape(direct, [2, 3, 2, 2, 3]));
    tf.dispose([f2, f3, b, direct, predicted]);
    model.dispose();
  });
});

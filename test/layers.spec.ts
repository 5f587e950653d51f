/**
 * The torchvision.ops layers: parity with the real torchvision modules (both
 * data formats, forward, running statistics, gradients of inputs and weights),
 * weight counts, save/load round trips and bad configs.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor} from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as vision from '../src/index';
import layersFixture from './fixtures/layers.json';
import {expectThrows, Fixture} from './support/helpers';
import {checkLayerCase, disposeLayer, formatsOf, inFormat, inputsOf, LAYER_CLASSES, LayerCase, makeLayer, roundTrip, SPATIAL}
  from './support/layers';

const cases = (layersFixture as Fixture).cases.filter(c => c.op in LAYER_CLASSES) as LayerCase[];

describe('layers: torchvision fixtures', () => {
  for (const c of cases) {
    for (const dataFormat of formatsOf(c.op)) {
      it(`${c.op} ${c.name} ${dataFormat}`, async () => { await checkLayerCase(c, dataFormat); });
    }
  }
});

describe('layers: weights counted as torchvision counts parameters and buffers', () => {
  for (const c of cases) {
    it(`${c.op} ${c.name}`, () => {
      const xs = inputsOf(c).map(k => inFormat(c.inputs[k], 'channelsFirst'));
      const layer = makeLayer(c, 'channelsFirst', xs);
      try {
        const size = (ws: tfl.LayerVariable[]) => ws.reduce((s, w) => s + w.shape.reduce((a, b) => a! * b!, 1)!, 0);
        expect(layer.trainableWeights.length).toBe(c.args.trainable_count);
        expect(layer.nonTrainableWeights.length).toBe(c.args.non_trainable_count);
        expect(size(layer.trainableWeights)).toBe(c.args.trainable);
        expect(size(layer.nonTrainableWeights)).toBe(c.args.non_trainable);
        expect(layer.countParams()).toBe(c.args.trainable + c.args.non_trainable);
      } finally {
        tf.dispose(xs);
        disposeLayer(layer);
      }
    });
  }
});

/** One case per layer class and data format: a model around the layer, saved and loaded back. */
describe('layers: model.save / tf.loadLayersModel round trip', () => {
  const seen = new Set<string>();
  const roundTripCases = cases.filter(c => {
    const key = `${c.op}/${c.args.training}`;
    const first = !seen.has(key) && c.name !== 'no_extra';
    seen.add(key);
    return first || c.name.startsWith('p6p7');
  });
  for (const c of roundTripCases) {
    for (const dataFormat of formatsOf(c.op)) {
      it(`${c.op} ${c.name} ${dataFormat}`, async () => {
        const xs = inputsOf(c).map(k => inFormat(c.inputs[k], dataFormat));
        const config = SPATIAL.includes(c.op) ? {...c.args.config, dataFormat} : c.args.config;
        const inputs = xs.map(x => tfl.input({shape: x.shape.slice(1)}));
        const layer = new LAYER_CLASSES[c.op](config);
        const out = layer.apply(inputs.length === 1 ? inputs[0] : inputs) as tfl.SymbolicTensor|tfl.SymbolicTensor[];
        const model = tfl.model({inputs, outputs: out});
        const fixtureLayer = makeLayer(c, dataFormat, xs);
        layer.setWeights(fixtureLayer.getWeights());
        disposeLayer(fixtureLayer);
        const loaded = await roundTrip(model);
        try {
          const loadedLayer = loaded.layers.find(l => l.getClassName() === layer.getClassName())!;
          expect(loadedLayer.getConfig()).toEqual(layer.getConfig());
          expect(loaded.weights.map(w => w.originalName)).toEqual(model.weights.map(w => w.originalName));
          expect(loaded.countParams()).toBe(model.countParams());
          const a = model.predict(xs.length === 1 ? xs[0] : xs) as Tensor|Tensor[];
          const b = loaded.predict(xs.length === 1 ? xs[0] : xs) as Tensor|Tensor[];
          const [as, bs] = [a, b].map(t => Array.isArray(t) ? t : [t]);
          expect(bs.length).toBe(as.length);
          for (let i = 0; i < as.length; i++) {
            expect(bs[i].shape).toEqual(as[i].shape);
            expect(Array.from(await bs[i].data())).toEqual(Array.from(await as[i].data()));
          }
          tf.dispose([...as, ...bs]);
        } finally {
          tf.dispose(xs);
          model.dispose();
          loaded.dispose();
        }
      });
    }
  }

  it('the output shapes of a symbolic FeaturePyramidNetwork follow computeOutputShape', () => {
    const fpn = new vision.FeaturePyramidNetwork({inChannelsList: [4, 6], outChannels: 5,
      extraBlocks: {type: 'lastLevelP6P7', inChannels: 6, outChannels: 3}});
    const outs = fpn.apply([tfl.input({shape: [13, 11, 4]}), tfl.input({shape: [7, 6, 6]})]) as tfl.SymbolicTensor[];
    expect(outs.map(o => o.shape)).toEqual([[null, 13, 11, 5], [null, 7, 6, 5], [null, 4, 3, 3], [null, 2, 2, 3]]);
    expect(fpn.outputNames).toEqual(['0', '1', 'p6', 'p7']);
  });

  it('forward() takes and gives maps by name, like torchvision', async () => {
    const fpn = new vision.FeaturePyramidNetwork({inChannelsList: [2, 3], outChannels: 4,
      extraBlocks: 'lastLevelMaxPool', featureNames: ['c4', 'c5']});
    const features = {c5: tf.ones([1, 2, 2, 3]), c4: tf.ones([1, 4, 4, 2])};
    const out = fpn.forward(features);
    expect(Object.keys(out)).toEqual(['c4', 'c5', 'pool']);
    expect(out.pool.shape).toEqual([1, 1, 1, 4]);
    tf.dispose([...Object.values(out), ...Object.values(features)]);
    disposeLayer(fpn);
  });
});

describe('layers: torchvision\'s initialisation', () => {
  const bound = async (w: tfl.LayerVariable) => Math.max(...Array.from(await w.read().data()).map(Math.abs));
  const byKey = (layer: vision.TorchLayer, key: string) => layer.torchWeights.find(w => w.key === key)!.variable;

  it('FPN: kaiming_uniform(a=1) kernels, zero biases; Conv2dNormActivation: torch defaults, BN 1 / 0', async () => {
    const fpn = new vision.FeaturePyramidNetwork({inChannelsList: [16, 32], outChannels: 24,
      extraBlocks: {type: 'lastLevelP6P7', inChannels: 24, outChannels: 24}});
    fpn.build([[1, 8, 8, 16], [1, 4, 4, 32]]);
    const inner = await bound(byKey(fpn, 'inner_blocks.1.0.weight'));  // fan_in 32
    expect(inner).toBeLessThanOrEqual(Math.sqrt(3 / 32));
    expect(inner).toBeGreaterThan(0.8 * Math.sqrt(3 / 32));
    expect(await bound(byKey(fpn, 'layer_blocks.0.0.bias'))).toBe(0);
    expect(await bound(byKey(fpn, 'extra_blocks.p7.bias'))).toBe(0);
    const conv = new vision.Conv2dNormActivation({inChannels: 8, outChannels: 64, bias: true});
    conv.build([1, 5, 5, 8]);
    const w = await bound(byKey(conv, '0.weight'));  // fan_in 72: U(+-1/sqrt(72))
    expect(w).toBeLessThanOrEqual(1 / Math.sqrt(72));
    expect(w).toBeGreaterThan(0.8 / Math.sqrt(72));
    expect(await bound(byKey(conv, '0.bias'))).toBeLessThanOrEqual(1 / Math.sqrt(72));
    expect(Array.from(await byKey(conv, '1.weight').read().data()).every(v => v === 1)).toBe(true);
    expect(Array.from(await byKey(conv, '1.running_var').read().data()).every(v => v === 1)).toBe(true);
    disposeLayer(fpn);
    disposeLayer(conv);
  });
});

describe('layers: bad configs', () => {
  const fpn = (args: Partial<vision.FeaturePyramidNetworkArgs>) => () =>
    new vision.FeaturePyramidNetwork({inChannelsList: [4, 8], outChannels: 5, ...args});
  const badConfigs: Array<[string, () => unknown, RegExp[]]> = [
    ['FPN zero in_channels', fpn({inChannelsList: [4, 0]}), [/FeaturePyramidNetwork/, /'inChannelsList'/, /in_channels=0/]],
    ['FPN zero out_channels', fpn({outChannels: 0}), [/FeaturePyramidNetwork/, /'outChannels'/]],
    ['FPN empty list', fpn({inChannelsList: []}), [/FeaturePyramidNetwork/, /'inChannelsList'/]],
    ['FPN unknown extra block', fpn({extraBlocks: {type: 'p6'} as any}), [/FeaturePyramidNetwork/, /'extraBlocks'/]],
    ['FPN P6P7 channels', fpn({extraBlocks: {type: 'lastLevelP6P7', inChannels: 7, outChannels: 5}}),
      [/FeaturePyramidNetwork/, /'extraBlocks'/, /P6P7/]],
    ['FPN feature name', fpn({featureNames: ['feat_0', 'feat_1']}), [/FeaturePyramidNetwork/, /'featureNames'/, /feat_0/]],
    ['FPN norm', fpn({normLayer: 'groupNorm' as any}), [/FeaturePyramidNetwork/, /'normLayer'/]],
    ['Conv2dNormActivation zero channels', () => new vision.Conv2dNormActivation({inChannels: 0, outChannels: 4}),
      [/Conv2dNormActivation/, /'inChannels'/]],
    ['Conv2dNormActivation groups', () => new vision.Conv2dNormActivation({inChannels: 4, outChannels: 6, groups: 4}),
      [/Conv2dNormActivation/, /'groups'/]],
    ['Conv3dNormActivation kernel', () => new vision.Conv3dNormActivation({inChannels: 4, outChannels: 6, kernelSize: [3, 3]}),
      [/Conv3dNormActivation/, /'kernelSize'/]],
    ['Conv2dNormActivation same with stride', () => new vision.Conv2dNormActivation({inChannels: 4, outChannels: 6,
      stride: 2, padding: 'same'}), [/Conv2dNormActivation/, /'padding'/, /stride/]],
    ['Conv2dNormActivation activation', () => new vision.Conv2dNormActivation({inChannels: 4, outChannels: 6,
      activation: 'swish' as any}), [/Conv2dNormActivation/, /'activation'/]],
    ['FrozenBatchNorm2d zero features', () => new vision.FrozenBatchNorm2d({numFeatures: 0}),
      [/FrozenBatchNorm2d/, /'numFeatures'/]],
    ['MLP no hidden', () => new vision.MLP({inChannels: 4, hiddenChannels: []}), [/MLP/, /'hiddenChannels'/]],
    ['MLP dropout', () => new vision.MLP({inChannels: 4, hiddenChannels: [2], dropout: 1.5}), [/MLP/, /'dropout'/]],
    ['MLP zero hidden', () => new vision.MLP({inChannels: 4, hiddenChannels: [3, 0]}), [/MLP/, /'hiddenChannels\[1\]'/]],
    ['Permute dims', () => new vision.Permute({dims: [0, 2, 2]}), [/Permute/, /'dims'/]],
    ['SqueezeExcitation squeeze', () => new vision.SqueezeExcitation({inputChannels: 4, squeezeChannels: 0}),
      [/SqueezeExcitation/, /'squeezeChannels'/]],
    ['dataFormat', () => new vision.FrozenBatchNorm2d({numFeatures: 2, dataFormat: 'NCHW' as any}),
      [/FrozenBatchNorm2d/, /'dataFormat'/]],
  ];
  for (const [name, fn, patterns] of badConfigs) {
    it(name, () => expectThrows(fn, ...patterns));
  }

  it('FPN inputs that do not match inChannelsList', () => {
    const layer = fpn({})();
    expectThrows(() => layer.apply([tfl.input({shape: [8, 8, 4]}), tfl.input({shape: [4, 4, 6]})]),
        /FeaturePyramidNetwork/, /'inputs'/, /map 1/, /8 channels/);
    expectThrows(() => layer.apply([tfl.input({shape: [8, 8, 4]})]), /FeaturePyramidNetwork/, /2 feature maps/);
  });

  it('a layer input with the wrong channel count', () => {
    const layer = new vision.Conv2dNormActivation({inChannels: 4, outChannels: 6, dataFormat: 'channelsFirst'});
    expectThrows(() => layer.apply(tfl.input({shape: [8, 8, 4]})), /Conv2dNormActivation/, /'inputs'/, /4 channels/);
  });
});

/**
 * The MultiScaleDeformableAttention layer against Deformable DETR's MSDeformAttn (tools/fixtures_ms_deform_attn_layer.py):
 * output and gradients, initialisation, state_dict loading, serialization, fit and argument Errors.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor, Tensor2D, Tensor3D, Tensor4D} from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as vision from '../src/index';
import fixture from './fixtures/ms_deform_attn_layer.json';
import {casesOf, expectNoLeak, expectTensorClose, expectThrows, Fixture, FixtureCase, fixtureTensor, seededUniform}
  from './support/helpers';
import {disposeLayer, roundTrip, torchToTfjs} from './support/layers';

const OP = 'MultiScaleDeformableAttention';
interface Args { config: vision.MultiScaleDeformableAttentionArgs; spatial_shapes: Array<[number, number]>;
  level_start_index: number[]; perturbed: boolean; }
const cases = casesOf(fixture as Fixture, OP);
const argsOf = (c: FixtureCase) => c.args as unknown as Args;
const caseNamed = (name: string) => cases.find(c => c.name === name)!;
const stateOf = (c: FixtureCase) => Object.fromEntries(Object.keys(c.inputs).filter(k => k.startsWith('state.'))
    .map(k => [k.slice('state.'.length), fixtureTensor(c.inputs[k])]));
const KEYS = ['sampling_offsets.weight', 'sampling_offsets.bias', 'attention_weights.weight', 'attention_weights.bias',
  'value_proj.weight', 'value_proj.bias', 'output_proj.weight', 'output_proj.bias'];

/** The case's inputs (query, reference_points, input_flatten[, mask]) and a layer built for them with its state. */
function setUp(c: FixtureCase) {
  const names = ['query', 'reference_points', 'input_flatten', 'input_padding_mask'].filter(k => k in c.inputs);
  const inputs = names.map(k => fixtureTensor(c.inputs[k]));
  const layer = new vision.MultiScaleDeformableAttention(argsOf(c).config);
  layer.build(inputs.map(t => t.shape));
  const state = stateOf(c);
  try {
    expect(vision.loadTorchvisionWeights(layer, state).loaded.sort()).toEqual([...KEYS].sort());
  } finally {
    tf.dispose(Object.values(state));
  }
  return {inputs, layer};
}

function forward(layer: vision.MultiScaleDeformableAttention, inputs: Tensor[], tables: [vision.SpatialShapes,
  vision.LevelStartIndex]) {
  const [q, ref, x, mask] = inputs;
  return layer.forward(q as Tensor3D, ref as Tensor4D, x as Tensor3D, ...tables, (mask ?? null) as Tensor2D|null);
}

describe('MultiScaleDeformableAttention: Deformable DETR fixtures', () => {
  for (const c of cases) {
    const {spatial_shapes: shapes, level_start_index: starts} = argsOf(c);
    it(`${c.name}: output, level tables as arrays and as int32 tensors`, async () => {
      const {inputs, layer} = setUp(c);
      const tensors = [tf.tensor2d(shapes, undefined, 'int32'), tf.tensor1d(starts, 'int32')] as const;
      for (const tables of [[shapes, starts], tensors] as Array<[vision.SpatialShapes, vision.LevelStartIndex]>) {
        await expectNoLeak(() => forward(layer, inputs, tables), y => expectTensorClose(y, c.output!, undefined,
            `${c.name} output`));
      }
      tf.dispose([...inputs, ...tensors]);
      disposeLayer(layer);
    });

    it(`${c.name}: gradients w.r.t. query, reference points, input and every weight`, async () => {
      const {inputs, layer} = setUp(c);
      const dy = fixtureTensor(c.dy!);
      const xVars = inputs.slice(0, 3).map(t => tf.variable(t));
      const wVars = layer.torchWeights.map(w => w.variable.read() as tf.Variable);
      await expectNoLeak(() => tf.variableGrads(() => tf.sum(tf.mul(forward(layer, [...xVars, ...inputs.slice(3)],
          [shapes, starts]), dy)), [...xVars, ...wVars]), async ({grads}) => {
        for (const [i, key] of ['query', 'reference_points', 'input_flatten'].entries()) {
          await expectTensorClose(grads[xVars[i].name], c.grads![key], undefined, `${c.name} d/d${key}`);
        }
        for (const [i, {key, layout}] of layer.torchWeights.entries()) {
          const expected = tf.tidy(() => torchToTfjs(fixtureTensor(c.grads![`state.${key}`]), layout));
          await expectTensorClose(grads[wVars[i].name], expected, undefined, `${c.name} d/d${key}`);
          expected.dispose();
        }
      });
      tf.dispose([...inputs, ...xVars, dy]);
      disposeLayer(layer);
    });
  }
});

describe('MultiScaleDeformableAttention: initialisation', () => {
  const weight = (layer: vision.MultiScaleDeformableAttention, key: string) =>
    layer.torchWeights.find(w => w.key === key)!.variable.read();

  it('is Deformable DETR\'s _reset_parameters (sampling_offsets bias grid from its fixture, zeros)', async () => {
    const c = caseNamed('default_init');
    expect(argsOf(c).perturbed).toBe(false);
    const {config, spatial_shapes: shapes} = argsOf(c);
    const layer = new vision.MultiScaleDeformableAttention(config);
    tf.tidy(() => layer.apply([tf.zeros([1, 1, 16]), tf.zeros([1, 1, 2, 2]), tf.zeros([1, 5, 16])], {spatialShapes: shapes}) as Tensor);
    const state = stateOf(c);
    for (const {key, layout, variable} of layer.torchWeights.filter(w => !/^(value|output)_proj.weight$/.test(w.key))) {
      const expected = torchToTfjs(state[key], layout);
      await expectTensorClose(variable.read(), expected, undefined, key);
      expected.dispose();
    }
    tf.dispose(Object.values(state));
    disposeLayer(layer);
  });

  it('defaults to MSDeformAttn(256, 4, 8, 4): the same grid on every level, xavier_uniform projections', async () => {
    const layer = new vision.MultiScaleDeformableAttention();
    expect([layer.dModel, layer.nLevels, layer.nHeads, layer.nPoints, layer.spatialShapes]).toEqual([256, 4, 8, 4, null]);
    layer.build([[1, 2, 256], [1, 2, 4, 2], [1, 30, 256]]);
    const fixtureBias = fixtureTensor(caseNamed('default_init').inputs['state.sampling_offsets.bias']);
    // the fixture's grid of 8 heads, 2 levels, 4 points: its first level on each of the 4
    const level0 = tf.tidy(() => tf.reshape(tf.tile(tf.slice(tf.reshape(fixtureBias, [8, 2, 8]), [0, 0, 0], [8, 1, 8]),
        [1, 4, 1]), [256]));
    await expectTensorClose(weight(layer, 'sampling_offsets.bias'), level0);
    const bound = Math.sqrt(6 / 512);  // fan_in + fan_out = 256 + 256
    for (const key of ['value_proj.weight', 'output_proj.weight']) {
      const values = await weight(layer, key).data() as Float32Array;
      const max = values.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
      expect(max).toBeLessThanOrEqual(bound);
      expect(max).toBeGreaterThan(0.99 * bound);
    }
    tf.dispose([fixtureBias, level0]);
    disposeLayer(layer);
  });
});

describe('MultiScaleDeformableAttention: in a model', () => {
  it('takes the level tables from its spatialShapes argument, trains with fit, survives save / load', async () => {
    const c = caseNamed('padding_mask');
    const {config, spatial_shapes: shapes} = argsOf(c);
    const inputs = [tfl.input({shape: [5, 12]}), tfl.input({shape: [5, 2, 2]}), tfl.input({shape: [13, 12]}),
      tfl.input({shape: [13], dtype: 'bool'})];
    const layer = new vision.MultiScaleDeformableAttention({...config, spatialShapes: shapes});
    const out = layer.apply(inputs) as tfl.SymbolicTensor;
    expect(out.shape).toEqual([null, 5, 12]);
    const model = tfl.model({inputs, outputs: out});
    expect(model.weights.map(w => w.originalName)).toEqual(KEYS.map(k => `${layer.name}/${k}`));
    const {inputs: xs, layer: fixtureLayer} = setUp(c);
    layer.setWeights(fixtureLayer.getWeights());
    disposeLayer(fixtureLayer);
    const y = model.predict(xs) as Tensor;
    await expectTensorClose(y, c.output!);
    model.compile({optimizer: tf.train.adam(0.02), loss: 'meanSquaredError'});
    const target = tf.tensor(seededUniform(2 * 5 * 12, -1, 1, 801), [2, 5, 12]);
    // tfjs-layers' own training loop fails the engine's per-kernel leak check on some backends.
    tf.env().set('IS_TEST', false);
    const history = await model.fit(xs, target, {epochs: 8, batchSize: 2, verbose: 0})
        .finally(() => tf.env().set('IS_TEST', true));
    const losses = history.history.loss as number[];
    expect(losses[losses.length - 1]).toBeLessThan(0.9 * losses[0]);
    const loaded = await roundTrip(model);
    try {
      const loadedLayer = loaded.layers.find(l => l.getClassName() === OP)!;
      expect(loadedLayer.getConfig()).toEqual(layer.getConfig());
      const {dModel, nLevels, nHeads, nPoints, spatialShapes} = layer.getConfig();
      expect([dModel, nLevels, nHeads, nPoints, spatialShapes]).toEqual([12, 2, 3, 2, shapes]);
      expect(loaded.weights.map(w => w.originalName)).toEqual(model.weights.map(w => w.originalName));
      const [a, b] = [model.predict(xs) as Tensor, loaded.predict(xs) as Tensor];
      expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
      tf.dispose([a, b]);
    } finally {
      tf.dispose([...xs, y, target]);
      model.dispose();
      loaded.dispose();
    }
  });

  it('call kwargs override the spatialShapes argument; the positional form is Deformable DETR\'s', async () => {
    const c = caseNamed('ref2d');
    const {spatial_shapes: shapes, level_start_index: starts} = argsOf(c);
    const {inputs, layer} = setUp(c);
    const positional = new vision.MultiScaleDeformableAttention(12, 2, 3, 2, {spatialShapes: [[1, 1], [1, 1]]});
    expect(positional.getConfig()).toEqual({...layer.getConfig(), name: positional.name,
      spatialShapes: [[1, 1], [1, 1]]});
    positional.build(inputs.map(t => t.shape));
    positional.setWeights(layer.getWeights());
    await expectNoLeak(() => positional.apply(inputs, {spatialShapes: shapes, levelStartIndex: starts}) as Tensor,
        y => expectTensorClose(y, c.output!));
    tf.dispose(inputs);
    disposeLayer(layer);
    disposeLayer(positional);
  });
});

describe('MultiScaleDeformableAttention: loadTorchvisionWeights', () => {
  it('loads Deformable DETR\'s state_dict under a prefix; a misfit tensor is an Error that changes nothing', async () => {
    const c = caseNamed('ref4d');
    const {inputs, layer} = setUp(c);
    const state = stateOf(c);
    const prefixed = Object.fromEntries(Object.entries(state).map(([k, v]) => [`encoder.layers.0.self_attn.${k}`, v]));
    const fresh = new vision.MultiScaleDeformableAttention(argsOf(c).config);
    fresh.build(inputs.map(t => t.shape));
    const report = vision.loadTorchvisionWeights(fresh, {...prefixed, 'encoder.layers.0.norm1.weight': state['value_proj.bias']},
        {prefixes: {[fresh.name]: 'encoder.layers.0.self_attn'}});
    expect(report.loaded.length).toBe(8);
    expect(report.unused).toEqual(['encoder.layers.0.norm1.weight']);
    const {spatial_shapes: shapes, level_start_index: starts} = argsOf(c);
    await expectNoLeak(() => forward(fresh, inputs, [shapes, starts]), y => expectTensorClose(y, c.output!));
    const before = fresh.getWeights().map(w => w.clone());
    expectThrows(() => vision.loadTorchvisionWeights(fresh, {...state, 'attention_weights.bias': state['value_proj.bias']}),
        /loadTorchvisionWeights/, /'attention_weights.bias'/);
    for (const [i, w] of fresh.getWeights().entries()) await expectTensorClose(w, before[i], {atol: 0, rtol: 0});
    tf.dispose([...inputs, ...Object.values(state), ...before]);
    disposeLayer(layer);
    disposeLayer(fresh);
  });
});

describe('MultiScaleDeformableAttention: argument Errors', () => {
  it('bad layer arguments name the layer and the argument', () => {
    const make = (args: vision.MultiScaleDeformableAttentionArgs) => () => new vision.MultiScaleDeformableAttention(args);
    expectThrows(make({dModel: 10, nHeads: 3}), /MultiScaleDeformableAttention/, /'dModel'/, /divisible by nHeads \(3\)/);
    expectThrows(make({nLevels: 0}), /MultiScaleDeformableAttention/, /'nLevels'/);
    expectThrows(make({nPoints: 1.5}), /MultiScaleDeformableAttention/, /'nPoints'/);
    expectThrows(make({nLevels: 2, spatialShapes: [[4, 4]]}), /MultiScaleDeformableAttention/, /'spatialShapes'/, /2 levels/);
    expectThrows(() => new vision.MultiScaleDeformableAttention('256' as any), /MultiScaleDeformableAttention/, /'dModel'/);
    expectThrows(() => new (vision.MultiScaleDeformableAttention as any)({dModel: 8}, 2), /MultiScaleDeformableAttention/,
        /'arguments'/);
  });

  it('bad inputs name the layer (or the op) and the argument, and leak nothing', async () => {
    const c = caseNamed('padding_mask');
    const {spatial_shapes: shapes, level_start_index: starts} = argsOf(c);
    const {inputs, layer} = setUp(c);
    const [q, ref, x, mask] = inputs;
    await expectNoLeak(() => {
      tf.tidy(() => {
        const call = (replace: Record<number, Tensor>, tables: [unknown, unknown] = [shapes, starts]) => () =>
          forward(layer, inputs.map((t, i) => replace[i] ?? t), tables as [vision.SpatialShapes, vision.LevelStartIndex]);
        expectThrows(call({1: tf.zeros([2, 5, 2, 3])}), /MultiScaleDeformableAttention/, /'referencePoints'/, /2 or 4/);
        expectThrows(call({1: tf.zeros([2, 5, 3, 2])}), /MultiScaleDeformableAttention/, /'referencePoints'/, /nLevels = 2/);
        expectThrows(call({0: tf.zeros([2, 5, 8])}), /MultiScaleDeformableAttention/, /'query'/, /dModel = 12/);
        expectThrows(call({2: tf.zeros([1, 13, 12])}), /MultiScaleDeformableAttention/, /'inputFlatten'/);
        expectThrows(call({3: tf.zeros([2, 12], 'bool')}), /MultiScaleDeformableAttention/, /'inputPaddingMask'/);
        expectThrows(call({}, [[[3, 4]], [0]]), /MultiScaleDeformableAttention/, /'spatialShapes'/);
        expectThrows(call({}, [[[3, 3], [1, 1]], [0, 9]]), /msDeformAttn/, /'spatialShapes'/, /S = 13/);
        expectThrows(call({}, [[[3, 4], [1, 1]], [0, 11]]), /msDeformAttn/, /'levelStartIndex'/);
        expectThrows(call({}, [tf.tensor2d(shapes, undefined, 'int32'), undefined]), /'levelStartIndex'/, /tensor/);
        expectThrows(() => layer.apply([q, ref, x], {}), /MultiScaleDeformableAttention/, /'spatialShapes'/, /is needed/);
        expectThrows(() => layer.apply([q, ref]), /MultiScaleDeformableAttention/, /'inputs'/);
        expectThrows(() => layer.forward(q as Tensor3D, null as any, x as Tensor3D, shapes, starts, mask as Tensor2D),
            /MultiScaleDeformableAttention/, /'referencePoints'/, /tf.Tensor/);
      });
    });
    tf.dispose(inputs);
    disposeLayer(layer);
  });
});

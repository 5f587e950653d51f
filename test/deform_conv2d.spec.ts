/** deformConv2d: torchvision parity (forward, five gradients), reference math, finite differences, errors, leaks. */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor, Tensor4D} from '@tensorflow/tfjs-core';
import * as vision from '../src/index';
import {chunkPositions, COLUMN_BUDGET, COLUMN_BUDGET_FLAG, columnBudget, deformConv2dGradValues, deformConv2dValues, deformGeometry} from '../kernels/reference/deform_conv2d';
import {DeformConv2d, DeformConv2dAttrs, DeformConv2dGrad} from '../src/kernel_names';
import {permute} from '../src/ops/roi_common';
import fixture from './fixtures/deform_conv2d.json';
import {casesOf, expectClose, expectGradMatchesFiniteDifferences, expectNoLeak, expectOptimizerLowersLoss, expectTensorClose, expectThrows, Fixture, FixtureCase, fixtureTensor, gradsOf, seededUniform} from './support/helpers';
import {OPS} from './support/op_table';
import {expectAllFinite, expectNoLeakOver, expectNoStrayWrites} from './support/roi';
import {FINITE_DIFFERENCE_TOLERANCE} from './support/tolerances';

const toLast = (t: Tensor) => permute(t, [0, 2, 3, 1]);
const toHwio = (t: Tensor) => tf.transpose(t, [2, 3, 1, 0]);

const LAYOUTS = [
  {dataFormat: 'channelsFirst', weightFormat: 'OIHW'},
  {dataFormat: 'channelsLast', weightFormat: 'OIHW'},
  {dataFormat: 'channelsLast', weightFormat: 'HWIO'},
] as const;

/** One NCHW/OIHW fixture case in the given layout: the output and all five gradients. */
async function checkFixture(c: FixtureCase, layout: typeof LAYOUTS[number]) {
  const last = layout.dataFormat === 'channelsLast', hwio = layout.weightFormat === 'HWIO';
  const names = Object.keys(c.inputs);
  const view = (name: string, t: Tensor) => tf.tidy(() =>
      name === 'weight' ? (hwio ? toHwio(t) : t.clone()) : name === 'bias' || !last ? t.clone() : toLast(t));
  const inputs = names.map(n => {
    const t = fixtureTensor(c.inputs[n]);
    const v = view(n, t);
    t.dispose();
    return v;
  });
  const [out0, dy0] = [fixtureTensor(c.output!), fixtureTensor(c.dy!)];
  const [out, dy] = [view('out', out0), view('dy', dy0)];
  const grads = names.map(n => {
    const t = fixtureTensor(c.grads![n]);
    const v = view(n, t);
    t.dispose();
    return v;
  });
  tf.dispose([out0, dy0]);
  const args = {...c.args, data_format: layout.dataFormat, weight_format: layout.weightFormat};
  const run = (...xs: Tensor[]) => OPS.deform_conv2d(args, ...xs) as Tensor;
  try {
    await expectNoLeak(() => run(...inputs), o => expectTensorClose(o, out, undefined, 'output'));
    await expectNoLeak(() => gradsOf(run, inputs, dy), async gs => {
      for (let i = 0; i < names.length; i++) {
        await expectTensorClose(gs[i], grads[i], undefined, `d/d${names[i]}`);
      }
    });
  } finally {
    tf.dispose([...inputs, ...grads, out, dy]);
  }
}

describe('deformConv2d: torchvision fixtures', () => {
  for (const c of casesOf(fixture as Fixture, 'deform_conv2d')) {
    for (const layout of LAYOUTS) {
      it(`${c.name} ${layout.dataFormat} ${layout.weightFormat}`, async () => { await checkFixture(c, layout); });
    }
  }
});

/** Random NHWC inputs and HWIO weights of one geometry. */
function randomProblem(
    [batch, height, width, channels]: number[], [kh, kw, outChannels]: number[], attrs: DeformConv2dAttrs,
    seed: number, offsetRange = 3) {
  const oh = Math.floor((height + 2 * attrs.pad[0] - (attrs.dilations[0] * (kh - 1) + 1)) / attrs.strides[0]) + 1;
  const ow = Math.floor((width + 2 * attrs.pad[1] - (attrs.dilations[1] * (kw - 1) + 1)) / attrs.strides[1]) + 1;
  const kk = kh * kw, og = attrs.offsetGroups;
  const shapes = {
    x: [batch, height, width, channels], offset: [batch, oh, ow, 2 * og * kk], mask: [batch, oh, ow, og * kk],
    weight: [kh, kw, channels / attrs.groups, outChannels], out: [batch, oh, ow, outChannels],
  };
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  return {
    shapes,
    x: seededUniform(size(shapes.x), -1, 1, seed),
    offset: seededUniform(size(shapes.offset), -offsetRange, offsetRange, seed + 1),
    mask: attrs.useMask ? seededUniform(size(shapes.mask), -0.5, 1.5, seed + 2) : new Float32Array(1),
    weight: seededUniform(size(shapes.weight), -0.5, 0.5, seed + 3),
    dy: seededUniform(size(shapes.out), -1, 1, seed + 4),
  };
}

describe('deformConv2d: torchvision fixtures in chunks of a few positions', () => {
  const budget = columnBudget();
  afterAll(() => tf.env().set(COLUMN_BUDGET_FLAG, budget));
  for (const name of ['torchvision_geometry_b33_mask', 'groups_2_offset_groups_2_c20']) {
    it(name, async () => {
      tf.env().set(COLUMN_BUDGET_FLAG, 5 * 6 * 6);  // 5 positions of the torchvision geometry, 1 of the other
      await checkFixture(casesOf(fixture as Fixture, 'deform_conv2d').find(c => c.name === name)!, LAYOUTS[1]);
      tf.env().set(COLUMN_BUDGET_FLAG, budget);
    });
  }
});

/** Both kernels on random inputs against the reference math, the columns split into `chunks` chunks. */
async function checkAgainstReference(
    xShape: number[], [kh, kw, cout]: number[], attrs: DeformConv2dAttrs, chunks: number) {
  const p = randomProblem(xShape, [kh, kw, cout], attrs, 101);
  const g = deformGeometry(p.shapes.x, p.shapes.weight, attrs);
  const positions = g.batch * g.outHeight * g.outWidth, rowLength = g.channels * kh * kw;
  if (chunks > 1) tf.env().set(COLUMN_BUDGET_FLAG, Math.ceil(positions / chunks) * rowLength);
  const expected = new Float32Array(p.dy.length);
  deformConv2dValues(p.x, p.offset, p.mask, p.weight, g, expected);
  const expectedGrads = [p.x, p.offset, p.mask, p.weight].map(a => new Float32Array(a.length));
  deformConv2dGradValues(p.dy, p.x, p.offset, p.mask, p.weight, g, ...expectedGrads as [
    Float32Array, Float32Array, Float32Array, Float32Array]);
  const inputs = {
    x: tf.tensor(p.x, p.shapes.x), offset: tf.tensor(p.offset, p.shapes.offset),
    mask: attrs.useMask ? tf.tensor(p.mask, p.shapes.mask) : tf.zeros([1]),
    weight: tf.tensor(p.weight, p.shapes.weight),
  };
  const dy = tf.tensor(p.dy, p.shapes.out);
  const kernelAttrs = attrs as unknown as tf.NamedAttrMap;
  try {
    await expectNoLeak(() => tf.engine().runKernel(DeformConv2d, inputs, kernelAttrs) as Tensor,
        async out => expectClose(await out.data(), expected, undefined, 'forward'));
    await expectNoLeak(() => tf.engine().runKernel(DeformConv2dGrad, {dy, ...inputs}, kernelAttrs) as Tensor[],
        async outs => {
          const what = ['dx', 'dOffset', 'dMask', 'dWeight'];
          for (let i = 0; i < 4; i++) expectClose(await outs[i].data(), expectedGrads[i], undefined, what[i]);
        });
  } finally {
    tf.dispose([...Object.values(inputs), dy]);
  }
}

describe('deformConv2d: kernels against the reference math', () => {
  const cases: Array<[string, number[], number[], DeformConv2dAttrs]> = [
    ['groups 2, offset groups 3, mask', [3, 9, 10, 24], [3, 3, 20],
      {strides: [1, 1], pad: [1, 1], dilations: [1, 1], groups: 2, offsetGroups: 3, useMask: true}],
    ['stride 2, dilation (1, 2), no mask, 17 channels', [2, 11, 9, 17], [2, 3, 19],
      {strides: [2, 2], pad: [0, 2], dilations: [1, 2], groups: 1, offsetGroups: 1, useMask: false}],
    ['64 channels, 3x3, 2x32x32 (several chunks by default)', [2, 32, 32, 64], [3, 3, 8],
      {strides: [1, 1], pad: [1, 1], dilations: [1, 1], groups: 1, offsetGroups: 1, useMask: true}],
  ];
  const budget = columnBudget();
  afterEach(() => tf.env().set(COLUMN_BUDGET_FLAG, budget));
  for (const [name, xShape, kernel, attrs] of cases) {
    it(name, async () => { await checkAgainstReference(xShape, kernel, attrs, 1); });
    // The chunk loops of cpu, wasm and webgpu, and webgl's path without temporaries.
    it(`${name}, 32 chunks`, async () => { await checkAgainstReference(xShape, kernel, attrs, 32); });
  }
});

describe('deformConv2d: deterministic gradients', () => {
  const budget = columnBudget();
  afterEach(() => tf.env().set(COLUMN_BUDGET_FLAG, budget));
  const attrs: DeformConv2dAttrs =
      {strides: [1, 1], pad: [1, 1], dilations: [1, 1], groups: 1, offsetGroups: 2, useMask: true};

  /** Both backward runs bit-identical, and close to the reference, at `positions` positions a chunk (0: default). */
  async function checkTwoRuns(p: ReturnType<typeof randomProblem>, attrs: DeformConv2dAttrs, positions: number) {
    const g = deformGeometry(p.shapes.x, p.shapes.weight, attrs);
    const expected = [p.x, p.offset, p.mask, p.weight].map(a => new Float32Array(a.length));
    deformConv2dGradValues(p.dy, p.x, p.offset, p.mask, p.weight, g, ...expected as [
      Float32Array, Float32Array, Float32Array, Float32Array]);
    if (positions > 0) tf.env().set(COLUMN_BUDGET_FLAG, positions * g.channels * g.kernelHeight * g.kernelWidth);
    const inputs = {x: tf.tensor(p.x, p.shapes.x), offset: tf.tensor(p.offset, p.shapes.offset),
      mask: tf.tensor(p.mask, p.shapes.mask), weight: tf.tensor(p.weight, p.shapes.weight)};
    const dy = tf.tensor(p.dy, p.shapes.out);
    const run = () => tf.engine().runKernel(DeformConv2dGrad, {dy, ...inputs},
        attrs as unknown as tf.NamedAttrMap) as Tensor[];
    const [first, second] = [run(), run()];
    const what = ['dx', 'dOffset', 'dMask', 'dWeight'];
    try {
      for (let i = 0; i < 4; i++) {
        const [a, b] = [await first[i].data() as Float32Array, await second[i].data() as Float32Array];
        const [bitsA, bitsB] = [a, b].map(v => new Uint32Array(v.buffer, v.byteOffset, v.length));
        const differs = bitsA.findIndex((v, k) => v !== bitsB[k]);
        if (differs >= 0) throw new Error(`${what[i]}[${differs}]: ${a[differs]}, then ${b[differs]}`);
        expectClose(a, expected[i], undefined, what[i]);
      }
    } finally {
      tf.dispose([...Object.values(inputs), dy, ...first, ...second]);
    }
  }

  // 2 images 9x10, 6 channels, 2 offset groups: offsets up to 25 (across the map and far outside it), and
  // every third sample of offset group 0 at (4.3, 5.7): one cell of dozens of samples.
  const far = randomProblem([2, 9, 10, 6], [3, 3, 5], attrs, 501, 25);
  for (let s = 0; s < far.offset.length / 2; s += 3) {
    const ij = s % 18, pos = Math.floor(s / 18) % 90;
    if (ij >= 9) continue;
    far.offset[2 * s] = 4.3 - (Math.floor(pos / 10) - 1 + Math.floor(ij / 3));
    far.offset[2 * s + 1] = 5.7 - (pos % 10 - 1 + ij % 3);
  }
  // The default budget (one chunk of both images), one image a chunk, and 7 positions a chunk.
  for (const positions of [0, 90, 7]) {
    const chunks = positions ? `, ${positions} positions a chunk` : '';
    it(`two backward runs are bit-identical and match the reference, far and crowded samples${chunks}`,
        async () => { await checkTwoRuns(far, attrs, positions); });
  }
  it('two backward runs are bit-identical, 2500 positions in one chunk (where tfjs-webgpu would split K)',
      async () => {
        const one = {...attrs, offsetGroups: 1};
        await checkTwoRuns(randomProblem([1, 50, 50, 2], [3, 3, 3], one, 502, 4), one, 0);
      });
});

/** Offsets whose samples keep away from integer positions: bilinear is smooth there. */
function smoothOffsets(shape: number[], seed: number) {
  const u = seededUniform(shape.reduce((a, b) => a * b, 1), 0, 1, seed);
  const v = seededUniform(u.length, 0.1, 0.9, seed + 1);
  return tf.tensor(u.map((a, i) => Math.floor(a * 5) - 2 + v[i]), shape);
}

describe('deformConv2d: gradients', () => {
  // 4x5 map, 4 channels, 2 weight groups, 2 offset groups, 2x3 kernel, stride (1, 2), padding (1, 0): 5x2 output.
  const args = {stride: [1, 2] as [number, number], padding: [1, 0] as [number, number]};
  const x = () => tf.tensor(seededUniform(4 * 5 * 4, -1, 1, 201), [1, 4, 5, 4]);
  const offset = () => smoothOffsets([1, 5, 2, 2 * 2 * 6], 202);
  const mask = () => tf.tensor(seededUniform(5 * 2 * 2 * 6, -0.5, 1.5, 203), [1, 5, 2, 12]);
  const weight = () => tf.tensor(seededUniform(6 * 2 * 2 * 3, -1, 1, 204), [6, 2, 2, 3]);
  const bias = () => tf.tensor1d([0.5, -0.25, 0.1, 0, 1, -1]);

  it('match finite differences for x, offset, mask, weight and bias', async () => {
    const inputs = [x(), offset(), mask(), weight(), bias()];
    await expectGradMatchesFiniteDifferences(
        (xs, o, m, w, b) => vision.deformConv2d(xs as Tensor4D, o as Tensor4D, w as Tensor4D,
            {...args, mask: m as Tensor4D, bias: b as tf.Tensor1D}),
        inputs, FINITE_DIFFERENCE_TOLERANCE);
    tf.dispose(inputs);
  });

  it('match finite differences without mask, channelsFirst', async () => {
    const inputs = [x(), offset(), weight()].map((t, i) => {
      const v = i < 2 ? permute(t, [0, 3, 1, 2]) : t;
      if (v !== t) t.dispose();
      return v;
    });
    await expectGradMatchesFiniteDifferences(
        (xs, o, w) => vision.deformConv2d(xs as Tensor4D, o as Tensor4D, w as Tensor4D,
            {...args, dataFormat: 'channelsFirst'}),
        inputs, FINITE_DIFFERENCE_TOLERANCE);
    tf.dispose(inputs);
  });

  it('zero offsets and no mask equal tf.conv2d, forward and dx', async () => {
    const [xt, w] = [x(), tf.tensor(seededUniform(5 * 4 * 3 * 3, -1, 1, 205), [5, 4, 3, 3])];
    const off = tf.zeros([1, 4, 5, 18]);
    const ours = (a: Tensor, b: Tensor) => vision.deformConv2d(a as Tensor4D, off as Tensor4D, b as Tensor4D,
        {padding: 1});
    const theirs = (a: Tensor, b: Tensor) => tf.tidy(() => tf.conv2d(a as Tensor4D, toHwio(b) as Tensor4D, 1, 'same'));
    const dy = tf.tensor(seededUniform(4 * 5 * 5, -1, 1, 206), [1, 4, 5, 5]);
    await expectNoLeak(() => [ours(xt, w), theirs(xt, w)], async ([a, b]) => expectTensorClose(a, b));
    // dx only: tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter (dWeight is checked against torchvision above).
    await expectNoLeak(() => [tf.grad(a => ours(a, w))(xt, dy), tf.grad(a => theirs(a, w))(xt, dy)],
        async ([a, b]) => expectTensorClose(a, b, undefined, 'dx'));
    tf.dispose([xt, w, off, dy]);
  });

  it('tf.grad of one input alone leaves nothing behind', async () => {
    const [xt, o, m, w] = [x(), offset(), mask(), weight()];
    await expectNoLeak(() => tf.grad(v => vision.deformConv2d(xt as Tensor4D, o as Tensor4D, v as Tensor4D,
        {...args, mask: m as Tensor4D}))(w), g => expect(g.shape).toEqual(w.shape));
    tf.dispose([xt, o, m, w]);
  });

  it('runs under tf.variableGrads and an optimizer', async () => {
    const [xt, o, m] = [x(), offset(), mask()];
    const w = tf.variable(weight());
    const target = tf.ones([1, 5, 2, 6]);
    await expectOptimizerLowersLoss(w, () => tf.mean(tf.square(tf.sub(vision.deformConv2d(xt as Tensor4D,
        o as Tensor4D, w as unknown as Tensor4D, {...args, mask: m as Tensor4D}), target))) as tf.Scalar, 0.1);
    tf.dispose([xt, o, m, w, target]);
  });

  it('batch 0 gives an empty output and empty gradients', async () => {
    const [xt, o, w, dy] = [tf.zeros([0, 4, 4, 2]), tf.zeros([0, 4, 4, 18]), tf.ones([3, 2, 3, 3]), tf.zeros([0, 4, 4, 3])];
    const f = (a: Tensor, b: Tensor, c: Tensor) =>
        vision.deformConv2d(a as Tensor4D, b as Tensor4D, c as Tensor4D, {padding: 1});
    await expectNoLeak(() => f(xt, o, w), out => expect(out.shape).toEqual([0, 4, 4, 3]));
    await expectNoLeak(() => gradsOf(f, [xt, o, w], dy), async ([a, b, c]) => {
      expect(a.shape).toEqual(xt.shape);
      expect(b.shape).toEqual(o.shape);
      await expectTensorClose(c, new Array(54).fill(0));
    });
    tf.dispose([xt, o, w, dy]);
  });
});

describe('deformConv2d: hostile offsets', () => {
  it('NaN, inf and 3.4e38 offsets sample nothing: finite output and gradients, no stray writes', async () => {
    await expectNoStrayWrites(async () => {
      const bad = [NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e9, -1e9, 0.5];
      const off = tf.tensor(Array.from({length: 2 * 4 * 5 * 18}, (_, i) => bad[(i * 7) % bad.length]), [2, 4, 5, 18]);
      const xt = tf.tensor(seededUniform(2 * 4 * 5 * 3, -1, 1, 301), [2, 4, 5, 3]);
      const m = tf.tensor(seededUniform(2 * 4 * 5 * 9, -1, 1, 302), [2, 4, 5, 9]);
      const w = tf.tensor(seededUniform(2 * 3 * 3 * 3, -1, 1, 303), [2, 3, 3, 3]);
      const f = (a: Tensor, b: Tensor, c: Tensor, d: Tensor) =>
          vision.deformConv2d(a as Tensor4D, b as Tensor4D, d as Tensor4D, {padding: 1, mask: c as Tensor4D});
      await expectNoLeak(() => f(xt, off, m, w), out => expectAllFinite(out, 'output'));
      const dy = tf.ones([2, 4, 5, 2]);
      await expectNoLeak(() => gradsOf(f, [xt, off, m, w], dy), async gs => {
        for (const [i, g] of gs.entries()) await expectAllFinite(g, `gradient ${i}`);
      });
      tf.dispose([off, xt, m, w, dy]);
    });
  });
});

describe('deformConv2d: arguments', () => {
  const x = () => tf.zeros([1, 5, 4, 6]) as Tensor4D;
  const off = (c = 18) => tf.zeros([1, 5, 4, c]) as Tensor4D;
  const w = (shape = [4, 3, 3, 3]) => tf.zeros(shape) as Tensor4D;
  const cases: Array<[string, () => unknown, RegExp[]]> = [
    ['x rank', () => vision.deformConv2d(tf.zeros([5, 4, 6]) as any, off(), w(), {padding: 1}), [/deformConv2d/, /'x'/, /rank 4/]],
    ['x dtype', () => vision.deformConv2d(tf.zeros([1, 5, 4, 6], 'int32') as any, off(), w(), {padding: 1}), [/'x'/, /float32/]],
    ['offset not a tensor', () => vision.deformConv2d(x(), {} as any, w(), {padding: 1}), [/'offset'/, /tf.Tensor/]],
    ['offset channels not 2 KH KW multiple', () => vision.deformConv2d(x(), off(17), w(), {padding: 1}), [/'offset'/, /multiple of 2 \* 3 \* 3 = 18/, /got 17/]],
    ['offset groups do not divide Cin', () => vision.deformConv2d(x(), off(18 * 4), w(), {padding: 1}), [/'offset'/, /4 offset groups/, /6 channels/]],
    ['offset spatial size', () => vision.deformConv2d(x(), off(), w(), {padding: 0}), [/'offset'/, /\[1, 3, 2\]/]],
    ['offset batch', () => vision.deformConv2d(x(), tf.zeros([2, 5, 4, 18]) as Tensor4D, w(), {padding: 1}), [/'offset'/, /must match/]],
    ['mask channels', () => vision.deformConv2d(x(), off(), w(), {padding: 1, mask: tf.zeros([1, 5, 4, 18]) as Tensor4D}), [/'mask'/, /9 channels, got 18/]],
    ['mask spatial size', () => vision.deformConv2d(x(), off(), w(), {padding: 1, mask: tf.zeros([1, 4, 4, 9]) as Tensor4D}), [/'mask'/, /must match/]],
    ['weight groups do not divide Cin', () => vision.deformConv2d(x(), off(), w([4, 4, 3, 3]), {padding: 1}), [/'weight'/, /4 input channels per group/, /6 channels/]],
    ['Cout not divisible by groups', () => vision.deformConv2d(x(), off(), w([4, 2, 3, 3]), {padding: 1}), [/'weight'/, /4 output channels/, /3 weight groups/]],
    ['weight rank', () => vision.deformConv2d(x(), off(), tf.zeros([4, 3, 3]) as any, {padding: 1}), [/'weight'/, /rank 4/]],
    ['weight zero dim', () => vision.deformConv2d(x(), off(), w([0, 3, 3, 3]), {padding: 1}), [/'weight'/, /zero dimension/]],
    ['stride 0', () => vision.deformConv2d(x(), off(), w(), {padding: 1, stride: 0}), [/'stride'/, />= 1/]],
    ['stride fraction', () => vision.deformConv2d(x(), off(), w(), {padding: 1, stride: [1, 1.5]}), [/'stride'/]],
    ['stride triple', () => vision.deformConv2d(x(), off(), w(), {padding: 1, stride: [1, 1, 1] as any}), [/'stride'/]],
    ['negative padding', () => vision.deformConv2d(x(), off(), w(), {padding: -1}), [/'padding'/, />= 0/]],
    ['dilation 0', () => vision.deformConv2d(x(), off(), w(), {padding: 1, dilation: [0, 1]}), [/'dilation'/]],
    ['output too small', () => vision.deformConv2d(tf.zeros([1, 2, 2, 6]) as Tensor4D, off(), w()), [/'x'/, /too small/]],
    ['bias shape', () => vision.deformConv2d(x(), off(), w(), {padding: 1, bias: tf.zeros([3]) as tf.Tensor1D}), [/'bias'/, /\[4\]/]],
    ['dataFormat', () => vision.deformConv2d(x(), off(), w(), {padding: 1, dataFormat: 'NHWC' as any}), [/'dataFormat'/]],
    ['weightFormat', () => vision.deformConv2d(x(), off(), w(), {padding: 1, weightFormat: 'OHWI' as any}), [/'weightFormat'/]],
  ];
  for (const [name, fn, patterns] of cases) {
    it(name, () => {
      const before = tf.memory().numTensors;
      tf.tidy(() => expectThrows(fn, ...patterns));
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

describe('deformConv2d: bounded temporaries', () => {
  it('the column chunk never exceeds the budget, whatever the input size', () => {
    const rowLength = 64 * 9;
    for (const positions of [1, 100, 2 * 64 * 64, 4 * 2 * 64 * 64, 1e7]) {
      expect(chunkPositions(positions, rowLength) * rowLength).toBeLessThanOrEqual(Math.max(COLUMN_BUDGET, rowLength));
    }
    expect(chunkPositions(4 * 8192, rowLength)).toBe(chunkPositions(8192, rowLength));
  });
});

describe('deformConv2d: leaks', () => {
  it('1000 forward + backward iterations leave no tensor or buffer behind', async () => {
    const x = tf.tensor(seededUniform(2 * 5 * 4 * 6, -1, 1, 401), [2, 5, 4, 6]) as Tensor4D;
    const o = tf.tensor(seededUniform(2 * 2 * 3 * 36, -2, 2, 402), [2, 2, 3, 36]) as Tensor4D;
    const m = tf.tensor(seededUniform(2 * 2 * 3 * 18, -1, 1, 403), [2, 2, 3, 18]) as Tensor4D;
    const w = tf.tensor(seededUniform(2 * 3 * 3 * 2, -1, 1, 404), [2, 3, 3, 2]) as Tensor4D;
    const b = tf.tensor1d([0.1, -0.2]);
    const args = {stride: [2, 1] as [number, number], padding: [1, 0] as [number, number],
      dilation: [2, 1] as [number, number]};
    await expectNoLeakOver(1000, () => {
      const out = vision.deformConv2d(x, o, w, {...args, mask: m, bias: b});
      const grads = tf.grads((a, c, d, e, f) => vision.deformConv2d(a as Tensor4D, c as Tensor4D, e as Tensor4D,
          {...args, mask: d as Tensor4D, bias: f as tf.Tensor1D}))([x, o, m, w, b]);
      return [out, ...grads];
    });
    tf.dispose([x, o, m, w, b]);
  });
});

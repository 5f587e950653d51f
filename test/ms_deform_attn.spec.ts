/**
 * msDeformAttn: parity with Deformable DETR's PyTorch reference (forward and three gradients), every kernel
 * against the reference math (hostile level tables and non-finite locations too), finite differences,
 * determinism, errors, leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor} from '@tensorflow/tfjs-core';
import * as vision from '../src/index';
import {MsDeformAttn, MsDeformAttnGrad} from '../src/kernel_names';
import {msDeformAttnGeometry, msDeformAttnGradValues, msDeformAttnValues} from '../kernels/reference/ms_deform_attn';
import fixture from './fixtures/ms_deform_attn.json';
import {casesOf, expectGradMatchesFiniteDifferences, expectNoLeak, expectOptimizerLowersLoss, expectTensorClose, expectThrows, Fixture, FixtureCase, fixtureTensor, gradsOf, seededUniform} from './support/helpers';
import {expectNoLeakOver, expectNoStrayWrites} from './support/roi';
import {FINITE_DIFFERENCE_TOLERANCE} from './support/tolerances';

const INPUTS = ['value', 'sampling_locations', 'attention_weights'];

async function checkFixture(c: FixtureCase, tablesAsTensors: boolean) {
  const shapes = c.args.spatial_shapes as Array<[number, number]>;
  const starts = c.args.level_start_index as number[];
  const tables = tablesAsTensors ? [tf.tensor2d(shapes, [shapes.length, 2], 'int32'), tf.tensor1d(starts, 'int32')] :
      null;
  const [value, locations, weights] = INPUTS.map(n => fixtureTensor(c.inputs[n]));
  const [out, dy] = [fixtureTensor(c.output!), fixtureTensor(c.dy!)];
  const run = (v: Tensor, l: Tensor, w: Tensor) => vision.msDeformAttn(v as tf.Tensor4D,
      tables ? tables[0] as tf.Tensor2D : shapes, tables ? tables[1] as tf.Tensor1D : starts, l, w);
  try {
    await expectNoLeak(() => run(value, locations, weights), o => expectTensorClose(o, out, undefined, 'output'));
    await expectNoLeak(() => gradsOf(run, [value, locations, weights], dy), async gs => {
      for (let i = 0; i < INPUTS.length; i++) {
        await expectTensorClose(gs[i], c.grads![INPUTS[i]], undefined, `d/d${INPUTS[i]}`);
      }
    });
  } finally {
    tf.dispose([value, locations, weights, out, dy, ...(tables ?? [])]);
  }
}

describe('msDeformAttn: Deformable DETR PyTorch reference fixtures', () => {
  for (const c of casesOf(fixture as Fixture, 'ms_deform_attn')) {
    it(`${c.name}, level tables as arrays`, async () => { await checkFixture(c, false); });
  }
  for (const c of casesOf(fixture as Fixture, 'ms_deform_attn').slice(0, 3)) {
    it(`${c.name}, level tables as int32 tensors`, async () => { await checkFixture(c, true); });
  }
});

interface Problem {
  value: Float32Array; shapes: Int32Array; starts: Int32Array; locations: Float32Array; weights: Float32Array;
  dy: Float32Array; valueShape: number[]; locationShape: number[];
}

/** Random inputs; `tables` overrides the level tables (hostile ones are not checked by the kernels' callers). */
function randomProblem(
    [batch, heads, channels, queries, points]: number[], levelShapes: number[][], seed: number,
    tables?: {shapes: number[], starts: number[], spatialSize: number}, [lo, hi] = [-0.3, 1.3]): Problem {
  const levels = levelShapes.length;
  const sizes = levelShapes.map(([h, w]) => h * w);
  const spatialSize = tables?.spatialSize ?? sizes.reduce((a, b) => a + b, 0);
  const valueShape = [batch, spatialSize, heads, channels];
  const locationShape = [batch, queries, heads, levels, points, 2];
  const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
  return {
    value: seededUniform(n(valueShape), -1, 1, seed),
    shapes: Int32Array.from(tables?.shapes ?? levelShapes.flat()),
    starts: Int32Array.from(tables?.starts ?? sizes.map((_, l) => sizes.slice(0, l).reduce((a, b) => a + b, 0))),
    locations: seededUniform(n(locationShape), lo, hi, seed + 1),
    weights: seededUniform(n(locationShape) / 2, -0.5, 1.5, seed + 2),
    dy: seededUniform(batch * queries * heads * channels, -1, 1, seed + 3),
    valueShape, locationShape,
  };
}

/** Both kernels, run directly, against the reference math (which defines the semantics of any input). */
async function checkAgainstReference(p: Problem) {
  const g = msDeformAttnGeometry(p.valueShape, p.locationShape);
  const expected = new Float32Array(p.dy.length);
  msDeformAttnValues(p.value, p.shapes, p.starts, p.locations, p.weights, g, expected);
  const expectedGrads = [p.value, p.locations, p.weights].map(a => new Float32Array(a.length));
  msDeformAttnGradValues(p.dy, p.value, p.shapes, p.starts, p.locations, p.weights, g,
      ...expectedGrads as [Float32Array, Float32Array, Float32Array]);
  const levels = p.starts.length;
  const inputs = {
    value: tf.tensor(p.value, p.valueShape), spatialShapes: tf.tensor2d(p.shapes, [levels, 2], 'int32'),
    levelStartIndex: tf.tensor1d(p.starts, 'int32'), samplingLocations: tf.tensor(p.locations, p.locationShape),
    attentionWeights: tf.tensor(p.weights, p.locationShape.slice(0, 5)),
  };
  const dy = tf.tensor(p.dy, [g.batch, g.queries, g.heads, g.channels]);
  try {
    await expectNoStrayWrites(async () => {
      await expectNoLeak(() => tf.engine().runKernel(MsDeformAttn, inputs, {}) as Tensor,
          out => expectTensorClose(out, Array.from(expected), undefined, 'output'));
      await expectNoLeak(() => tf.engine().runKernel(MsDeformAttnGrad, {dy, ...inputs}, {}) as Tensor[],
          async grads => {
            const names = ['dValue', 'dSamplingLocations', 'dAttentionWeights'];
            for (let i = 0; i < 3; i++) await expectTensorClose(grads[i], Array.from(expectedGrads[i]), undefined, names[i]);
          });
    });
  } finally {
    tf.dispose([...Object.values(inputs), dy]);
  }
}

describe('msDeformAttn kernels: the reference math', () => {
  it('several levels, locations inside and outside [0, 1]', async () => {
    await checkAgainstReference(randomProblem([2, 3, 6, 9, 4], [[6, 5], [3, 3], [1, 2]], 11));
  });

  it('levels of 1x1, many points, channel lanes 1 / 4 / 5 / 17', async () => {
    for (const c of [1, 4, 5, 17]) {
      await checkAgainstReference(randomProblem([1, 2, c, 3, 24], [[1, 1], [2, 3], [1, 1]], 20 + c, undefined, [-1, 2]));
    }
  });

  it('crowded cells: many samples on few positions', async () => {
    await checkAgainstReference(randomProblem([1, 2, 4, 64, 8], [[2, 2], [3, 1]], 31, undefined, [0.1, 0.9]));
  });

  it('non-finite locations give NaN samples, NaN location and weight gradients and no value gradient', async () => {
    const p = randomProblem([1, 2, 5, 4, 3], [[3, 4], [2, 2]], 41);
    const bad = [NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e30];
    for (let i = 0; i < p.locations.length; i += 7) p.locations[i] = bad[(i / 7) % bad.length];
    await checkAgainstReference(p);
  });

  it('hostile level tables as tensors read only inside value', async () => {
    const base = [1, 2, 3, 4, 3];
    const hostile = [
      {shapes: [-3, 4, 2, 2], starts: [0, 12], spatialSize: 16},  // negative height
      {shapes: [4, 4, 2, 2], starts: [0, 1e9], spatialSize: 20},  // start past value
      {shapes: [4, 4, 4, 4], starts: [0, 8], spatialSize: 20},  // second level runs past value
      {shapes: [2 ** 20, 2 ** 20, 2, 2], starts: [-5, 16], spatialSize: 20},  // huge level, negative start
      {shapes: [0, 0, 2147483647, 2], starts: [0, 2147483647], spatialSize: 20},
    ];
    for (const [i, t] of hostile.entries()) {
      await checkAgainstReference(randomProblem(base, [[4, 4], [2, 2]], 50 + i, t));
    }
  });

  it('a level of (H + 1)(W + 1) = 2^24 cells is read, one beyond it is not', async () => {
    // The bottom rows of a 4095-high level mapped onto value by a negative start: samples near (3.25, 4094.3).
    for (const [h, w] of [[4095, 4095], [4095, 4096], [2 ** 20, 2 ** 20]]) {
      const start = -((h - 2) * w);
      const p = randomProblem([1, 1, 3, 2, 4], [[4, 5]], 81, {shapes: [h, w], starts: [start], spatialSize: 20}, [0, 1]);
      for (let j = 0; j < p.locations.length / 2; j++) {
        p.locations[2 * j] = (3 + 0.75 + 0.1 * j) / w;
        p.locations[2 * j + 1] = (h - 2 + 0.8 - 0.2 * j) / h;
      }
      await checkAgainstReference(p);
      if (h === 4095 && w === 4095) {
        const g = msDeformAttnGeometry(p.valueShape, p.locationShape);
        const out = new Float32Array(p.dy.length);
        msDeformAttnValues(p.value, p.shapes, p.starts, p.locations, p.weights, g, out);
        expect(out.some(v => v !== 0)).toBe(true);  // the case reads value
      }
    }
  });
});

describe('msDeformAttn', () => {
  const shapes: Array<[number, number]> = [[3, 4], [2, 2]];
  const starts = [0, 12];
  const value = () => tf.tensor(seededUniform(16 * 2 * 3, -1, 1, 61), [1, 16, 2, 3]);
  // Pixel coordinates at least 0.03 from an integer on both levels (the bilinear sample has kinks there):
  // x = (k + 0.5 + t) / 4, y = (k + 0.5 + t) / 6 with t in [0.1, 0.4].
  const locations = () => tf.tensor(Array.from(seededUniform(3 * 2 * 2 * 2 * 2, 0, 0.999, 62), (u, i) => {
    const n = i % 2 === 0 ? 4 : 6, k = Math.floor(u * n), t = 0.1 + 0.3 * (u * n - k);
    return (k + 0.5 + t) / n;
  }), [1, 3, 2, 2, 2, 2]);
  const weights = () => tf.tensor(seededUniform(3 * 2 * 2 * 2, -0.5, 1.5, 63), [1, 3, 2, 2, 2]);
  const f = (v: Tensor, l: Tensor, w: Tensor) => vision.msDeformAttn(v as tf.Tensor4D, shapes, starts, l, w);

  it('matches finite differences for value, samplingLocations and attentionWeights', async () => {
    const inputs = [value(), locations(), weights()];
    await expectGradMatchesFiniteDifferences(f, inputs, FINITE_DIFFERENCE_TOLERANCE, 1e-3);
    tf.dispose(inputs);
  });

  it('gives [B, Q, M C] and takes TensorLike inputs', async () => {
    const inputs = [value(), locations(), weights()];
    const arrays = await Promise.all(inputs.map(t => t.array()));
    await expectNoLeak(() => [f(inputs[0], inputs[1], inputs[2]),
      vision.msDeformAttn(arrays[0] as number[][][][], shapes, starts, arrays[1] as number[], arrays[2] as number[])],
    async ([a, b]) => {
      expect(a.shape).toEqual([1, 3, 6]);
      await expectTensorClose(a, b);
    });
    tf.dispose(inputs);
  });

  it('gradients are deterministic: two runs bit-identical', async () => {
    const p = randomProblem([1, 4, 8, 40, 4], [[8, 8], [4, 4], [2, 2]], 71, undefined, [0, 1]);
    const inputs = [tf.tensor(p.value, p.valueShape), tf.tensor(p.locations, p.locationShape),
      tf.tensor(p.weights, p.locationShape.slice(0, 5))];
    const dy = tf.tensor(p.dy, [1, 40, 32]);
    const g = (v: Tensor, l: Tensor, w: Tensor) => vision.msDeformAttn(v as tf.Tensor4D, [[8, 8], [4, 4], [2, 2]],
        [0, 64, 80], l, w);
    const [first, second] = [gradsOf(g, inputs, dy), gradsOf(g, inputs, dy)];
    for (let i = 0; i < 3; i++) expect(Array.from(await first[i].data())).toEqual(Array.from(await second[i].data()));
    tf.dispose([...inputs, dy, ...first, ...second]);
  });

  it('runs under tf.variableGrads and an optimizer', async () => {
    const [v, l] = [tf.variable(value()), locations()];
    const w = weights();
    const target = tf.ones([1, 3, 6]);
    await expectOptimizerLowersLoss(v, () => tf.mean(tf.square(tf.sub(f(v, l, w), target))) as tf.Scalar, 0.5);
    tf.dispose([v, l, w, target]);
  });

  it('empty batch, queries, points or channels give empty or zero results', async () => {
    const cases: Array<[number[], number[]]> = [[[0, 16, 2, 3], [0, 3, 2, 2, 2, 2]], [[1, 16, 2, 3], [1, 0, 2, 2, 2, 2]],
      [[1, 16, 2, 3], [1, 3, 2, 2, 0, 2]], [[1, 16, 2, 0], [1, 3, 2, 2, 2, 2]]];
    for (const [vs, ls] of cases) {
      const inputs = [tf.zeros(vs), tf.fill(ls, 0.5), tf.ones(ls.slice(0, 5))];
      const dy = tf.zeros([vs[0], ls[1], 2 * vs[3]]);
      await expectNoLeak(() => [f(inputs[0], inputs[1], inputs[2]), ...gradsOf(f, inputs, dy)],
          async ([out, ...grads]) => {
            expect(out.shape).toEqual([vs[0], ls[1], 2 * vs[3]]);
            await expectTensorClose(out, new Array(out.size).fill(0));
            grads.forEach((gr, i) => expect(gr.shape).toEqual(inputs[i].shape));
          });
      tf.dispose([...inputs, dy]);
    }
  });

  it('rejects bad arguments with Errors naming op and argument', () => {
    tf.tidy(() => {
      const [v, l, w] = [value(), locations(), weights()];
      const op = /msDeformAttn/;
      expectThrows(() => vision.msDeformAttn(tf.zeros([1, 16, 2]) as tf.Tensor4D, shapes, starts, l, w), op, /'value'/, /rank 4/);
      expectThrows(() => vision.msDeformAttn(v, [[3, 4], [2, 3]], [0, 12], l, w), op, /'spatialShapes'/, /S = 16/);
      expectThrows(() => vision.msDeformAttn(v, [[4, 4]], [0], l, w), op, /'spatialShapes'/, /\[2, 2\]/);
      expectThrows(() => vision.msDeformAttn(v, [[3, 4.5], [2, 2]] as Array<[number, number]>, starts, l, w), op,
          /'spatialShapes'/);
      expectThrows(() => vision.msDeformAttn(v, shapes, [0, 11], l, w), op, /'levelStartIndex'/, /\[0,12\]/);
      expectThrows(() => vision.msDeformAttn(v, shapes, [0], l, w), op, /'levelStartIndex'/, /2 entries/);
      expectThrows(() => vision.msDeformAttn(v, tf.tensor2d(shapes), starts, l, w), op, /'spatialShapes'/, /int32/);
      expectThrows(() => vision.msDeformAttn(v, shapes, tf.tensor1d(starts), l, w), op, /'levelStartIndex'/, /int32/);
      expectThrows(() => vision.msDeformAttn(v, shapes, starts, tf.zeros([1, 3, 1, 2, 2, 2]), w), op,
          /'samplingLocations'/, /\[1, Q, 2, L, P, 2\]/);
      expectThrows(() => vision.msDeformAttn(v, shapes, starts, l, tf.zeros([1, 3, 2, 2, 3])), op,
          /'attentionWeights'/, /1,3,2,2,2/);
      expectThrows(() => vision.msDeformAttn(v, shapes, starts, l, tf.zeros([1, 3, 2, 2, 2], 'int32')), op,
          /'attentionWeights'/, /float32/);
      expectThrows(() => vision.msDeformAttn(v, shapes, starts, 'x' as unknown as Tensor, w), op, /'samplingLocations'/);
      expectThrows(() => vision.msDeformAttn(tf.zeros([1, 1, 1, 1]) as tf.Tensor4D, [[1, 1]], [0],
          tf.zeros([1, 1, 1, 1, 4097, 2]), tf.zeros([1, 1, 1, 1, 4097])), op, /'samplingLocations'/, /at most 4096/);
      // Empty tensors of huge dimensions: B Q M and Q P over 2^24.
      expectThrows(() => vision.msDeformAttn(tf.zeros([1, 1, 4097, 0]) as tf.Tensor4D, [[1, 1]], [0],
          tf.zeros([1, 4096, 4097, 1, 0, 2]), tf.zeros([1, 4096, 4097, 1, 0])), op, /'samplingLocations'/,
      /at most 16777216 query rows/);
      expectThrows(() => vision.msDeformAttn(tf.zeros([1, 1, 0, 1]) as tf.Tensor4D, [[1, 1]], [0],
          tf.zeros([1, 4097, 0, 1, 4096, 2]), tf.zeros([1, 4097, 0, 1, 4096])), op, /'samplingLocations'/,
      /at most 16777216 samples per level and head/);
      expectThrows(() => vision.msDeformAttn(tf.zeros([1, 1, 1, 1]) as tf.Tensor4D, [[4096, 4096]], [0],
          tf.zeros([1, 1, 1, 1, 1, 2]), tf.zeros([1, 1, 1, 1, 1])), op, /'spatialShapes'/, /at most 16777216/);
    });
  });

  it('leaves nothing behind over 1000 forward + backward steps', async () => {
    const [v, l, w] = [value(), locations(), weights()];
    await expectNoLeakOver(1000, () => tf.grads((a: Tensor, b: Tensor, c: Tensor) => f(a, b, c))([v, l, w]));
    tf.dispose([v, l, w]);
  });
});

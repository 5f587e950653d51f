/** nms / batchedNms: torchvision fixtures, the reference loop, edge cases, pipeline, validation. */
import * as tf from '@tensorflow/tfjs-core';
import * as vision from '../src/index';
import {nmsGreedy, nmsKeep, sortByScoreDescending} from '../kernels/reference/nms';
import nmsFixture from './fixtures/nms.json';
import {expectNoLeak, expectThrows, Fixture, FixtureCase, fixtureTensor, fixtureValues, seededUniform} from './support/helpers';
import {OPS} from './support/op_table';

type Indices = ArrayLike<number>;

/** webgpu has no synchronous readback (see removeSmallBoxes): only the async ops run there. */
const syncSupported = () => tf.getBackend() !== 'webgpu';

/** The sync op where supported, else the async one. */
async function runNms(boxes: tf.Tensor, scores: tf.Tensor, thr: number, idxs?: tf.Tensor): Promise<tf.Tensor1D> {
  const [b, s, c] = [boxes as tf.Tensor2D, scores as tf.Tensor1D, idxs as tf.Tensor1D];
  if (!syncSupported()) return idxs == null ? vision.nmsAsync(b, s, thr) : vision.batchedNmsAsync(b, s, c, thr);
  return idxs == null ? vision.nms(b, s, thr) : vision.batchedNms(b, s, c, thr);
}

/** Awaits fn, checks its result, disposes it and expects no tensor left behind. */
async function expectNoLeakAsync(fn: () => Promise<tf.Tensor>, check: (out: tf.Tensor) => Promise<void>) {
  const before = tf.memory().numTensors;
  const out = await fn();
  try {
    await check(out);
  } finally {
    out.dispose();
  }
  expect(tf.memory().numTensors).toBe(before);
}

function expectIndices(actual: Indices, expected: Indices, what: string) {
  const a = Array.from(actual), e = Array.from(expected);
  if (a.length !== e.length || a.some((v, i) => v !== e[i])) {
    const at = a.findIndex((v, i) => v !== e[i]);
    throw new Error(`${what}: ${a.length} indices, expected ${e.length}; first difference at ${at}: ` +
        `got ${a[at]}, expected ${e[at]}`);
  }
}

async function checkResult(out: tf.Tensor, expected: Indices, sameSetOnly: boolean, what: string) {
  expect(out.dtype).toBe('int32');
  expect(out.shape).toEqual([expected.length]);
  const got = await out.data();
  if (sameSetOnly) {
    expectIndices(Array.from(got).sort((x, y) => x - y), Array.from(expected).sort((x, y) => x - y), what);
  } else {
    expectIndices(got, expected, what);
  }
}

function asyncOp(c: FixtureCase): (...inputs: tf.Tensor[]) => Promise<tf.Tensor> {
  const thr = c.args.iou_threshold as number;
  return c.op === 'nms' ?
      (boxes, scores) => vision.nmsAsync(boxes as tf.Tensor2D, scores as tf.Tensor1D, thr) :
      (boxes, scores, idxs) =>
          vision.batchedNmsAsync(boxes as tf.Tensor2D, scores as tf.Tensor1D, idxs as tf.Tensor1D, thr);
}

describe('nms: torchvision fixtures', () => {
  for (const c of (nmsFixture as Fixture).cases) {
    // torchvision's per-class loop orders equal scores with an unstable sort: compare its set.
    const sameSetOnly = c.name.endsWith('_per_class_loop');
    it(`${c.op} ${c.name}`, async () => {
      const inputs = Object.keys(c.inputs).map(k => fixtureTensor(c.inputs[k]));
      const expected = fixtureValues(c.output!);
      try {
        if (syncSupported()) {
          await expectNoLeak(() => OPS[c.op](c.args, ...inputs),
              out => checkResult(out, expected, sameSetOnly, `${c.op} ${c.name}`));
        }
        await expectNoLeakAsync(() => asyncOp(c)(...inputs),
            out => checkResult(out, expected, sameSetOnly, `${c.op}Async ${c.name}`));
      } finally {
        tf.dispose(inputs);
      }
    });
  }
});

/** Seeded boxes of the kinds NMS meets: random, clustered, integer with duplicates and ties. */
function randomCase(n: number, kind: 'random'|'clustered'|'ties', seed: number) {
  const u = seededUniform(n * 6 + 64, 0, 1, seed);
  const boxes = new Float32Array(4 * n), scores = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = u.subarray(6 * i, 6 * i + 6);
    let x, y, w, h;
    if (kind === 'random') {
      [x, y, w, h] = [r[0] * 1000, r[1] * 1000, 1 + r[2] * 100, 1 + r[3] * 100];
    } else if (kind === 'clustered') {
      const c = Math.floor(r[4] * 16);
      const cu = u.subarray(n * 6 + 4 * (c % 16), n * 6 + 4 * (c % 16) + 4);
      [x, y, w, h] = [cu[0] * 200 + r[0] * 8, cu[1] * 200 + r[1] * 8, 10 + cu[2] * 50 + r[2] * 8, 10 + cu[3] * 50 + r[3] * 8];
    } else {
      [x, y, w, h] = [Math.floor(r[0] * 12), Math.floor(r[1] * 12), 1 + Math.floor(r[2] * 5), 1 + Math.floor(r[3] * 5)];
    }
    boxes.set([x, y, x + w, y + h], 4 * i);
    scores[i] = kind === 'ties' ? Math.floor(r[5] * 4) / 4 : r[5];
  }
  return {boxes, scores};
}

describe('nms: against torchvision\'s loop (kernels/reference/nms.ts nmsGreedy)', () => {
  const kinds = ['random', 'clustered', 'ties'] as const;
  for (const kind of kinds) {
    for (const thr of [0.2, 0.5, 0.8]) {
      it(`${kind}, 1500 boxes, iou ${thr}, plain and with 7 classes`, async () => {
        const {boxes, scores} = randomCase(1500, kind, 11 + kinds.indexOf(kind));
        const idxs = Int32Array.from(scores, (_, i) => (i * 7919) % 7);
        const expected = nmsGreedy(boxes, scores, null, thr);
        const expectedBatched = nmsGreedy(boxes, scores, idxs, thr);
        expectIndices(nmsKeep(boxes, scores, null, thr), expected, 'host grid');
        expectIndices(nmsKeep(boxes, scores, idxs, thr), expectedBatched, 'host grid, batched');
        const [b, s, c] = [tf.tensor2d(boxes, [1500, 4]), tf.tensor1d(scores), tf.tensor1d(idxs, 'int32')];
        await expectNoLeakAsync(() => runNms(b, s, thr), async out => expectIndices(await out.data(), expected, 'nms'));
        await expectNoLeakAsync(() => runNms(b, s, thr, c),
            async out => expectIndices(await out.data(), expectedBatched, 'batchedNms'));
        tf.dispose([b, s, c]);
      });
    }
  }

  it('batchedNms equals nms per class, merged in decreasing-score order', async () => {
    const {boxes, scores} = randomCase(900, 'clustered', 5);
    const idxs = Int32Array.from(scores, (_, i) => [-2, 0, 3, 1 << 20][i % 4]);
    const [b, s, c] = [tf.tensor2d(boxes, [900, 4]), tf.tensor1d(scores), tf.tensor1d(idxs, 'int32')];
    const kept: number[] = [];
    for (const cls of [-2, 0, 3, 1 << 20]) {
      const members = Array.from(idxs.keys()).filter(i => idxs[i] === cls);
      const [mb, ms] = [tf.gather(b, members), tf.gather(s, members)];
      const local = await runNms(mb, ms, 0.5);
      kept.push(...Array.from(await local.data(), k => members[k]));
      tf.dispose([mb, ms, local]);
    }
    const order = sortByScoreDescending(scores);
    const rank = new Int32Array(900);
    order.forEach((box, p) => rank[box] = p);
    kept.sort((x, y) => rank[x] - rank[y]);
    await expectNoLeakAsync(() => runNms(b, s, 0.5, c),
        async out => expectIndices(await out.data(), kept, 'batchedNms'));
    tf.dispose([b, s, c]);
  });
});

/**
 * Layouts that stress the GPU searches (pairs among boxes close in x1 order):
 * every box spanning the same x range (webgl: a band wider than its first
 * try), sides far below the coordinates' ulp scale, sides too small for the
 * overlap bound, thresholds near 0.
 */
describe('nms: wide, tiny and far boxes', () => {
  function layout(n: number, kind: 'sameX'|'far'|'tiny', seed: number) {
    const u = seededUniform(5 * n, 0, 1, seed);
    const boxes = new Float32Array(4 * n), scores = u.slice(4 * n);
    for (let i = 0; i < n; i++) {
      const [a, b, c, d] = u.subarray(4 * i, 4 * i + 4);
      const box = kind === 'sameX' ? [0, a * 1000, 1000, a * 1000 + 1 + b * 200] :
          kind === 'far' ? [1e5 + a * 0.05, 2e5 + b * 0.05, 1e5 + a * 0.05 + 0.01 + c * 0.03, 2e5 + b * 0.05 + 0.02] :
          [a * 1e-14, b * 1e-14, a * 1e-14 + (1 + c * 4) * 1e-16, b * 1e-14 + (1 + d * 4) * 1e-16];
      boxes.set(box, 4 * i);
    }
    return {boxes, scores};
  }

  const cases: Array<[string, 'sameX'|'far'|'tiny', number, number[]]> = [
    ['600 boxes over the same x range', 'sameX', 600, [0.5, 0, 1e-7]],
    ['800 boxes of sides 0.01-0.04 near x = 1e5', 'far', 800, [0.5, 0.05]],
    ['800 boxes of sides 1e-16-5e-16', 'tiny', 800, [0.5, 1e-3]],
  ];
  for (const [name, kind, n, thresholds] of cases) {
    it(`${name}, iou ${thresholds.join(' / ')}, plain and with 3 classes`, async () => {
      const {boxes, scores} = layout(n, kind, 31 + n);
      const idxs = Int32Array.from(scores, (_, i) => i % 3);
      const [b, s, c] = [tf.tensor2d(boxes, [n, 4]), tf.tensor1d(scores), tf.tensor1d(idxs, 'int32')];
      for (const thr of thresholds) {
        const expected = nmsGreedy(boxes, scores, null, thr);
        expect(expected.length).toBeLessThan(n);
        await expectNoLeakAsync(() => runNms(b, s, thr),
            async out => expectIndices(await out.data(), expected, `nms, iou ${thr}`));
        const expectedBatched = nmsGreedy(boxes, scores, idxs, thr);
        await expectNoLeakAsync(() => runNms(b, s, thr, c),
            async out => expectIndices(await out.data(), expectedBatched, `batchedNms, iou ${thr}`));
      }
      tf.dispose([b, s, c]);
    });
  }
});

describe('nms: edge cases', () => {
  async function run(boxes: number[][], scores: number[], thr: number, expected: number[]) {
    const [b, s] = [tf.tensor2d(boxes, [boxes.length, 4]), tf.tensor1d(scores)];
    await expectNoLeakAsync(() => runNms(b, s, thr), async out => expectIndices(await out.data(), expected, 'nms'));
    tf.dispose([b, s]);
  }

  it('keeps a pair whose IoU equals the threshold (strict >)', () =>
    run([[0, 0, 2, 2], [0, 0, 2, 1]], [1, 0.5], 0.5, [0, 1]));
  it('equal scores keep ascending index order', () =>
    run([[0, 0, 1, 1], [5, 5, 6, 6], [0, 0, 1, 1], [9, 9, 10, 10]], [0.5, 0.5, 0.5, 0.7], 0.5, [3, 0, 1]));
  it('NaN scores sort first, NaN boxes never suppress nor get suppressed', () =>
    run([[0, 0, 4, 4], [0, 0, 4, 4], [NaN, 0, 4, 4], [0, 0, 4, 4.1]], [0.2, NaN, 0.9, 0.8], 0.5, [1, 2]));
  it('two identical zero-area boxes (IoU NaN) are both kept', () =>
    run([[1, 1, 1, 1], [1, 1, 1, 1]], [0.9, 0.8], 0, [0, 1]));
  it('a negative threshold drops every later box with a defined IoU', () =>
    run([[0, 0, 1, 1], [5, 5, 6, 6], [1, 1, 1, 1], [1, 1, 1, 1]], [0.9, 0.8, 0.7, 0.6], -0.1, [0]));
  it('huge and infinite coordinates do not crash', () =>
    run([[-3e38, -3e38, 3e38, 3e38], [0, 0, Infinity, 1], [0, 0, 1, 1], [-Infinity, 0, 1, 1]],
        [0.9, 0.8, 0.7, 0.6], 0.5, [0, 1, 2, 3]));

  it('empty and single-box inputs', async () => {
    await run([], [], 0.5, []);
    await run([[0, 0, 1, 1]], [0.1], 0.5, [0]);
    const [b, s, c] = [tf.zeros([0, 4]), tf.zeros([0]), tf.zeros([0], 'int32')];
    await expectNoLeakAsync(() => runNms(b, s, 0.5, c), async out => expect(out.shape).toEqual([0]));
    const out = await vision.batchedNmsAsync(b as tf.Tensor2D, s as tf.Tensor1D, c as tf.Tensor1D, 0.5);
    expect(out.shape).toEqual([0]);
    tf.dispose([b, s, c, out]);
  });

  it('the sync ops on webgpu name their async variant', () => {
    if (syncSupported()) return;
    const [b, s, c] = [tf.zeros([1, 4]), tf.zeros([1]), tf.zeros([1], 'int32')];
    expectThrows(() => vision.nms(b as tf.Tensor2D, s as tf.Tensor1D, 0.5), /nms/, /nmsAsync/);
    expectThrows(() => vision.batchedNms(b as tf.Tensor2D, s as tf.Tensor1D, c as tf.Tensor1D, 0.5), /batchedNmsAsync/);
    tf.dispose([b, s, c]);
  });
});

describe('nms: detection pipeline', () => {
  it('removeSmallBoxes -> clipBoxesToImage -> batchedNms -> topk', async () => {
    const n = 400;
    const {boxes, scores} = randomCase(n, 'random', 21);
    for (let i = 0; i < n; i += 7) boxes[4 * i + 2] = boxes[4 * i] + 0.5;  // small
    const idxs = Int32Array.from(scores, (_, i) => i % 5);
    const [b, s, c] = [tf.tensor2d(boxes, [n, 4]), tf.tensor1d(scores), tf.tensor1d(idxs, 'int32')];
    const before = tf.memory().numTensors;
    const small = syncSupported() ? vision.removeSmallBoxes(b, 1) : await vision.removeSmallBoxesAsync(b, 1);
    const [clipped, ks, kc] = tf.tidy(() => [
      vision.clipBoxesToImage(tf.gather(b, small), [600, 800]) as tf.Tensor2D, tf.gather(s, small) as tf.Tensor1D,
      tf.gather(c, small) as tf.Tensor1D]);
    const kept = await runNms(clipped, ks, 0.5, kc);
    const {indices, values} = tf.tidy(() => {
      const top = tf.topk(tf.gather(ks, kept), 20);
      return {indices: tf.gather(tf.gather(small, kept), top.indices), values: top.values};
    });
    tf.dispose([clipped, ks, kc]);

    // The same on host arrays with the reference.
    const smallHost = Array.from(await small.data());
    const sub = (a: Float32Array|Int32Array, k: number) => smallHost.flatMap(i => Array.from(a.subarray(k * i, k * i + k)));
    const clippedHost = Float32Array.from(sub(boxes, 4), (v, i) => Math.min(Math.max(v, 0), i % 2 ? 600 : 800));
    const keptHost = nmsKeep(clippedHost, Float32Array.from(sub(scores, 1)), Int32Array.from(sub(idxs, 1)), 0.5);
    expectIndices(await kept.data(), keptHost, 'batchedNms in the pipeline');
    expectIndices(await indices.data(), Array.from(keptHost.slice(0, 20), k => smallHost[k]), 'top 20 boxes');
    expect((await values.data())[0]).toBe(Math.max(...Array.from(keptHost, k => scores[smallHost[k]])));
    tf.dispose([small, indices, values, kept]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([b, s, c]);
  });
});

describe('nms: argument validation', () => {
  const ok = () => tf.tensor2d([[0, 0, 1, 1], [0, 0, 2, 2]]);
  const sc = () => tf.tensor1d([0.5, 0.6]);
  const ids = () => tf.tensor1d([0, 1], 'int32');
  const cases: Array<[string, () => unknown, RegExp[]]> = [
    ['boxes rank', () => vision.nms(tf.zeros([2, 2, 4]) as any, sc(), 0.5), [/nms/, /'boxes'/, /rank 2/]],
    ['boxes last dim', () => vision.nms(tf.zeros([2, 5]) as any, sc(), 0.5), [/nms/, /'boxes'/, /last dimension 4/]],
    ['int boxes', () => vision.nms(tf.zeros([2, 4], 'int32') as any, sc(), 0.5), [/nms/, /'boxes'/, /float32/, /int32/]],
    ['boxes not a tensor', () => vision.nms({} as any, sc(), 0.5), [/nms/, /'boxes'/, /tf.Tensor/]],
    ['scores length', () => vision.nms(ok(), tf.tensor1d([1, 2, 3]), 0.5), [/nms/, /'scores'/, /one entry per box \(2\)/]],
    ['scores rank', () => vision.nms(ok(), tf.zeros([2, 1]) as any, 0.5), [/nms/, /'scores'/, /rank 1/]],
    ['int scores', () => vision.nms(ok(), tf.tensor1d([1, 2], 'int32'), 0.5), [/nms/, /'scores'/, /float32/]],
    ['NaN threshold', () => vision.nms(ok(), sc(), NaN), [/nms/, /'iouThreshold'/, /finite/]],
    ['infinite threshold', () => vision.nms(ok(), sc(), Infinity), [/nms/, /'iouThreshold'/]],
    ['threshold not a number', () => vision.nms(ok(), sc(), '0.5' as any), [/nms/, /'iouThreshold'/]],
    ['idxs length', () => vision.batchedNms(ok(), sc(), tf.tensor1d([0], 'int32'), 0.5), [/batchedNms/, /'idxs'/, /\(2\)/]],
    ['float idxs', () => vision.batchedNms(ok(), sc(), tf.tensor1d([0, 1]), 0.5), [/batchedNms/, /'idxs'/, /int32/]],
    ['batched int boxes', () => vision.batchedNms(tf.zeros([2, 4], 'int32') as any, sc(), ids(), 0.5), [/batchedNms/, /'boxes'/]],
    ['batched threshold', () => vision.batchedNms(ok(), sc(), ids(), -Infinity), [/batchedNms/, /'iouThreshold'/]],
  ];
  for (const [name, fn, patterns] of cases) {
    it(name, () => {
      const before = tf.memory().numTensors;
      tf.tidy(() => expectThrows(fn, ...patterns));
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('async variants reject with the same errors', async () => {
    const [b, s, floatIdxs] = [ok(), sc(), tf.tensor1d([0.5, 1])];
    await expectAsync(vision.nmsAsync(b, s, NaN), /nmsAsync.*'iouThreshold'/);
    await expectAsync(vision.batchedNmsAsync(b, s, floatIdxs, 0.5), /batchedNmsAsync.*'idxs'/);
    tf.dispose([b, s, floatIdxs]);
  });
});

async function expectAsync(p: Promise<unknown>, pattern: RegExp) {
  let error: unknown = null;
  try {
    tf.dispose(await p as tf.Tensor);
  } catch (e) {
    error = e;
  }
  if (!(error instanceof Error) || !pattern.test(error.message)) {
    throw new Error(`expected a rejection matching ${pattern}, got ${error}`);
  }
}

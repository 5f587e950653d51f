/**
 * torchvision's call forms: positional outputSize of the RoI ops, DeformConv2d(inChannels, outChannels,
 * kernelSize), positional layer constructors, non-object options rejected by name, TensorLike inputs.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor, Tensor4D} from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as vision from '../src/index';
import {expectNoLeak, expectTensorClose, expectThrows, seededUniform} from './support/helpers';
import {disposeLayer} from './support/layers';

/* eslint-disable @typescript-eslint/no-explicit-any */
type AnyFn = (...args: any[]) => any;

/** webgpu has no synchronous readback: only the async ops run there. */
const syncSupported = () => tf.getBackend() !== 'webgpu';

/** Expects fn to throw (matching every pattern) without leaking a tensor. */
function expectThrowsNoLeak(fn: () => unknown, ...patterns: RegExp[]) {
  const before = tf.memory().numTensors;
  expectThrows(fn, ...patterns);
  expect(tf.memory().numTensors).toBe(before);
}

/** Expects both results (tensors or arrays of tensors) to be equal: shapes, dtypes, values. */
async function expectSameTensors(a: Tensor|Tensor[], b: Tensor|Tensor[]) {
  const [as, bs] = [[a].flat(), [b].flat()];
  expect(as.length).toBe(bs.length);
  for (let i = 0; i < as.length; i++) {
    expect(as[i].dtype).toBe(bs[i].dtype);
    await expectTensorClose(as[i], bs[i], {atol: 0, rtol: 0});
  }
}

/** fn on the plain-array form of the inputs equals fn on the tensors, without leaks either way. */
async function expectArraysEqualTensors(fn: AnyFn, tensors: () => unknown[], arrays: () => Promise<unknown[]>) {
  const plain = await arrays();
  await expectNoLeak(() => tf.tidy(() => [fn(...tensors())].flat() as Tensor[]), async expected => {
    await expectNoLeak(() => [fn(...plain)].flat() as Tensor[], actual => expectSameTensors(actual, expected));
  });
}

const mapValues = seededUniform(1 * 6 * 7 * 8, -2, 2, 901);
const map = () => tf.tensor(mapValues, [1, 6, 7, 8]) as Tensor4D;
const mapArray = () => map().array() as Promise<number[][][][]>;
const ROIS = [[0, 0.5, 0.5, 4.5, 4], [0, 1, 0, 6, 5.5], [0, 2, 2, 2.5, 3]];
const rois = () => tf.tensor2d(ROIS);

interface RoiOp { name: string; fn: AnyFn; options: Record<string, unknown>; }
const ROI_OPS: RoiOp[] = [
  {name: 'roiAlign', fn: vision.roiAlign, options: {spatialScale: 0.5, samplingRatio: 2, aligned: true}},
  {name: 'roiPool', fn: vision.roiPool, options: {spatialScale: 0.5}},
  {name: 'psRoiAlign', fn: vision.psRoiAlign, options: {spatialScale: 0.5, samplingRatio: 2}},
  {name: 'psRoiPool', fn: vision.psRoiPool, options: {spatialScale: 0.5}},
];

describe('RoI ops: torchvision\'s positional outputSize', () => {
  for (const {name, fn, options} of ROI_OPS) {
    for (const outputSize of [2, [2, 1]] as const) {
      it(`${name}(x, boxes, ${JSON.stringify(outputSize)}, options) equals ${name}(x, boxes, {outputSize, ...})`, async () => {
        await expectNoLeak(() => tf.tidy(() => [fn(map(), rois(), outputSize, options),
          fn(map(), rois(), {outputSize, ...options})]), ([a, b]) => expectSameTensors(a, b));
      });
    }
    it(`${name}(x, boxes, 2) without options uses the defaults`, async () => {
      await expectNoLeak(() => tf.tidy(() => [fn(map(), rois(), 2), fn(map(), rois(), {outputSize: 2})]),
          ([a, b]) => expectSameTensors(a, b));
    });
    it(`${name}(x, boxes, [2, 2], {dataFormat: 'channelsFirst'})`, async () => {
      await expectNoLeak(() => tf.tidy(() => {
        const first = tf.transpose(map(), [0, 3, 1, 2]);
        return [fn(first, rois(), [2, 2], {dataFormat: 'channelsFirst'}),
          fn(first, rois(), {outputSize: 2, dataFormat: 'channelsFirst'})];
      }), ([a, b]) => expectSameTensors(a, b));
    });
    it(`${name}: a missing outputSize is an Error naming it`, () => {
      const x = map(), b = rois();
      expectThrowsNoLeak(() => fn(x, b), new RegExp(`^${name}:`), /'outputSize'/, /required/);
      expectThrowsNoLeak(() => fn(x, b, {spatialScale: 0.5}), new RegExp(`^${name}:`), /'outputSize'/, /required/,
          /spatialScale/);
      expectThrowsNoLeak(() => fn(x, b, {output_size: 2}), new RegExp(`^${name}:`), /'outputSize'/, /output_size/);
      tf.dispose([x, b]);
    });
    it(`${name}: non-object options and a bad third argument are Errors naming the argument`, () => {
      const x = map(), b = rois();
      for (const bad of [0.5, 'channelsFirst', [1], true, x]) {
        expectThrowsNoLeak(() => fn(x, b, 2, bad), new RegExp(`^${name}:`), /'options'/, /options object/);
      }
      for (const bad of ['seven', true, x]) {
        expectThrowsNoLeak(() => fn(x, b, bad), new RegExp(`^${name}:`), /'outputSize'/);
      }
      expectThrowsNoLeak(() => fn(x, b, 2, {outputSize: 3}), new RegExp(`^${name}:`), /'outputSize'/, /twice/);
      expectThrowsNoLeak(() => fn(x, b, {outputSize: 2}, {spatialScale: 1}), new RegExp(`^${name}:`), /'options'/);
      expectThrowsNoLeak(() => fn(x, b, [2, 0]), new RegExp(`^${name}:`), /'outputSize'/, /positive integer/);
      tf.dispose([x, b]);
    });
    it(`${name}: plain arrays equal tensors (x nested, boxes [K, 5], per-image list, typed rows)`, async () => {
      const perImage = ROIS.map(r => r.slice(1));
      await expectArraysEqualTensors((x, b) => fn(x, b, 2, options), () => [map(), rois()],
          async () => [await mapArray(), ROIS]);
      await expectArraysEqualTensors((x, b) => fn(x, b, 2, options), () => [map(), [tf.tensor2d(perImage)]],
          async () => [await mapArray(), [perImage]]);
      await expectArraysEqualTensors((x, b) => fn(x, b, 2, options), () => [map(), rois()],
          async () => [Float32Array.from(mapValues), ROIS.map(r => Float32Array.from(r))].map((v, i) =>
            i === 0 ? tf.util.toNestedArray([1, 6, 7, 8], v as Float32Array) : v));
    });
    it(`${name}: a non-TensorLike input is an Error naming it`, () => {
      const x = map(), b = rois();
      expectThrowsNoLeak(() => fn({}, b, 2), new RegExp(`^${name}:`), /'x'/, /TensorLike/);
      expectThrowsNoLeak(() => fn(null, b, 2), new RegExp(`^${name}:`), /'x'/);
      expectThrowsNoLeak(() => fn(x, 'boxes', 2), new RegExp(`^${name}:`), /'boxes'/);
      const z = tf.zeros([1, 4]);
      expectThrowsNoLeak(() => fn(x, [z, {}], 2), new RegExp(`^${name}:`), /'boxes\[1\]'/);
      z.dispose();
      expectThrowsNoLeak(() => fn([[1, 2], [3]], b, 2), new RegExp(`^${name}:`), /'x'/);
      expectThrowsNoLeak(() => fn(x, [[0, 0, 0, 1]], 2), new RegExp(`^${name}:`), /'boxes'/, /last dimension 5/);
      tf.dispose([x, b]);
    });
  }
});

describe('ops: a non-object options argument is an Error naming the op', () => {
  const b = () => tf.tensor2d([[0, 0, 2, 2], [1, 1, 3, 4]]);
  const x4 = () => tf.ones([1, 5, 5, 2]);
  const x5 = () => tf.ones([1, 3, 3, 3, 2]);
  const cases: Array<[string, (bad: unknown) => unknown]> = [
    ['boxArea', bad => vision.boxArea(b(), bad as any)],
    ['boxIou', bad => vision.boxIou(b(), b(), bad as any)],
    ['distanceBoxIou', bad => vision.distanceBoxIou(b(), b(), bad as any)],
    ['completeBoxIou', bad => vision.completeBoxIou(b(), b(), bad as any)],
    ['generalizedBoxIouLoss', bad => vision.generalizedBoxIouLoss(b(), b(), bad as any)],
    ['distanceBoxIouLoss', bad => vision.distanceBoxIouLoss(b(), b(), bad as any)],
    ['completeBoxIouLoss', bad => vision.completeBoxIouLoss(b(), b(), bad as any)],
    ['sigmoidFocalLoss', bad => vision.sigmoidFocalLoss(b(), b(), bad as any)],
    ['deformConv2d', bad => vision.deformConv2d(tf.ones([1, 3, 3, 2]), tf.zeros([1, 1, 1, 18]),
        tf.ones([4, 2, 3, 3]), bad as any)],
    ['dropBlock2d', bad => vision.dropBlock2d(x4(), 0.1, 3, bad as any)],
    ['dropBlock3d', bad => vision.dropBlock3d(x5(), 0.1, 3, bad as any)],
    ['stochasticDepth', bad => vision.stochasticDepth(x4(), 0.1, 'row', bad as any)],
  ];
  for (const [name, call] of cases) {
    it(name, () => {
      for (const bad of ['mean', 0.25, [1, 2], true, () => 1]) {
        const before = tf.memory().numTensors;
        tf.tidy(() => expectThrows(() => call(bad), new RegExp(`^${name}:`), /'options'/, /options object \{/));
        expect(tf.memory().numTensors).toBe(before);
      }
    });
    it(`${name}: undefined and null options mean the defaults`, async () => {
      await expectNoLeak(() => tf.tidy(() => [call(undefined), call(null)] as Tensor[]), async ([a, c]) => {
        if (name === 'dropBlock2d' || name === 'dropBlock3d' || name === 'stochasticDepth') {
          expect(a.shape).toEqual(c.shape);  // unseeded draws
        } else {
          await expectSameTensors(a, c);
        }
      });
    });
  }
  it('the options object still works (boxArea fmt, losses reduction)', async () => {
    await expectNoLeak(() => tf.tidy(() => vision.boxArea([[0, 0, 2, 3]], {fmt: 'xywh'})),
        out => expectTensorClose(out, [6]));
    await expectNoLeak(() => tf.tidy(() => vision.generalizedBoxIouLoss([[0, 0, 1, 1]], [[0, 0, 1, 1]],
        {reduction: 'sum'})), out => expectTensorClose(out, 0));
  });
});

describe('ops: TensorLike inputs equal tensor inputs', () => {
  const B1 = [[0, 0, 2, 2], [1, 1, 3, 4], [0.5, 0, 1.5, 5]];
  const B2 = [[1, 0, 3, 2], [0, 0, 4, 4]];
  const P1 = [[0, 0, 2, 2], [1, 1, 3, 4]];
  const t = (v: number[][]) => tf.tensor2d(v);
  const cases: Array<[string, AnyFn, () => unknown[], () => unknown[]]> = [
    ['boxArea', (a, o) => vision.boxArea(a, o), () => [t(B1), {fmt: 'xywh'}], () => [B1, {fmt: 'xywh'}]],
    ['boxArea typed array', a => vision.boxArea(a), () => [tf.tensor1d([0, 0, 2, 3])], () => [new Float32Array([0, 0, 2, 3])]],
    ['boxArea int32 typed rows', a => vision.boxArea(a), () => [tf.tensor2d([[0, 0, 2, 3]], undefined, 'int32')],
      () => [[Int32Array.from([0, 0, 2, 3])]]],
    ['boxConvert', (a: any) => vision.boxConvert(a, 'xyxy', 'cxcywh'), () => [t(B1)], () => [B1]],
    ['boxConvert same format', (a: any) => vision.boxConvert(a, 'xywh', 'xywh'), () => [t(B1)], () => [B1]],
    ['boxConvert rotated', (a: any) => vision.boxConvert(a, 'xywhr', 'cxcywhr'), () => [t([[1, 2, 3, 4, 30]])],
      () => [[[1, 2, 3, 4, 30]]]],
    ['boxIou', (a, b) => vision.boxIou(a, b), () => [t(B1), t(B2)], () => [B1, B2]],
    ['boxIou mixed', (a, b) => vision.boxIou(a, b), () => [t(B1), t(B2)], () => [t(B1), B2]],
    ['generalizedBoxIou', (a, b) => vision.generalizedBoxIou(a, b), () => [t(B1), t(B2)], () => [B1, B2]],
    ['distanceBoxIou', (a, b) => vision.distanceBoxIou(a, b), () => [t(B1), t(B2)], () => [B1, B2]],
    ['completeBoxIou', (a, b) => vision.completeBoxIou(a, b), () => [t(B1), t(B2)], () => [B1, B2]],
    ['clipBoxesToImage', a => vision.clipBoxesToImage(a, [3, 2]), () => [t(B1)], () => [B1]],
    ['masksToBoxes', m => vision.masksToBoxes(m), () => [tf.tensor3d([[[0, 1, 1], [0, 0, 1]], [[0, 0, 0], [0, 0, 0]]])],
      () => [[[[0, 1, 1], [0, 0, 1]], [[0, 0, 0], [0, 0, 0]]]]],
    ['masksToBoxes bool', m => vision.masksToBoxes(m), () => [tf.tensor3d([[[false, true], [false, false]]], undefined, 'bool')],
      () => [[[[false, true], [false, false]]]]],
    ['generalizedBoxIouLoss', (a, b) => vision.generalizedBoxIouLoss(a, b, {reduction: 'mean'}),
      () => [t(P1), t(B2)], () => [P1, B2]],
    ['distanceBoxIouLoss', (a, b) => vision.distanceBoxIouLoss(a, b), () => [t(P1), t(B2)], () => [P1, B2]],
    ['completeBoxIouLoss', (a, b) => vision.completeBoxIouLoss(a, b, {reduction: 'sum'}), () => [t(P1), t(B2)],
      () => [P1, B2]],
    ['sigmoidFocalLoss', (a, b) => vision.sigmoidFocalLoss(a, b), () => [tf.tensor1d([-2, 0, 3]), tf.tensor1d([0, 1, 1])],
      () => [[-2, 0, 3], [0, 1, 1]]],
    ['sigmoidFocalLoss bool targets', (a, b) => vision.sigmoidFocalLoss(a, b, {reduction: 'mean'}),
      () => [tf.tensor1d([-2, 0, 3]), tf.tensor1d([false, true, true], 'bool')], () => [[-2, 0, 3], [false, true, true]]],
    ['dropBlock2d eval', x => vision.dropBlock2d(x, 0.5, 3, {training: false}), () => [tf.ones([1, 3, 3, 1])],
      () => [[[[[1], [1], [1]], [[1], [1], [1]], [[1], [1], [1]]]]]],
    ['dropBlock2d seeded', x => vision.dropBlock2d(x, 0.5, 3, {seed: 3}), () => [tf.ones([1, 5, 5, 2])],
      () => [new Array(1).fill(0).map(() => new Array(5).fill(0).map(() => new Array(5).fill(0).map(() => [1, 1])))]],
    ['dropBlock3d seeded', x => vision.dropBlock3d(x, 0.5, 3, {seed: 4}), () => [tf.ones([1, 3, 3, 3, 1])],
      () => [[[0, 1, 2].map(() => [0, 1, 2].map(() => [0, 1, 2].map(() => [1])))]]],
    ['stochasticDepth seeded', x => vision.stochasticDepth(x, 0.5, 'row', {seed: 5}), () => [tf.ones([4, 2])],
      () => [[[1, 1], [1, 1], [1, 1], [1, 1]]]],
    ['stochasticDepth eval', x => vision.stochasticDepth(x, 0.5, 'batch', {training: false}), () => [tf.ones([2, 2])],
      () => [[[1, 1], [1, 1]]]],
  ];
  for (const [name, fn, tensors, arrays] of cases) {
    it(name, async () => {
      await expectArraysEqualTensors(fn, tensors, async () => arrays());
    });
  }

  const NB = [[0, 0, 2, 2], [0, 0, 2, 1], [5, 5, 6, 6], [0.2, 0, 2, 2]];
  const NS = [0.9, 0.8, 0.7, 0.85];
  const NI = [0, 1, 0, 0];
  it('nmsAsync and batchedNmsAsync', async () => {
    for (const [fn, tensors, arrays] of [
      [(b: any, s: any) => vision.nmsAsync(b, s, 0.4), () => [t(NB), tf.tensor1d(NS)], [NB, NS]],
      [(b: any, s: any, i: any) => vision.batchedNmsAsync(b, s, i, 0.4),
        () => [t(NB), tf.tensor1d(NS), tf.tensor1d(NI, 'int32')], [NB, NS, NI]],
      [(b: any, s: any, i: any) => vision.batchedNmsAsync(b, s, i, 0.4),
        () => [t(NB), tf.tensor1d(NS), tf.tensor1d(NI, 'int32')], [NB, Float32Array.from(NS), Int32Array.from(NI)]],
    ] as Array<[AnyFn, () => Tensor[], unknown[]]>) {
      const before = tf.memory().numTensors;
      const inputs = tensors();
      const expected = await fn(...inputs) as Tensor;
      tf.dispose(inputs);
      const actual = await fn(...arrays) as Tensor;
      await expectSameTensors(actual, expected);
      tf.dispose([actual, expected]);
      expect(tf.memory().numTensors).toBe(before);
    }
  });
  it('nms and batchedNms (sync backends)', async () => {
    if (!syncSupported()) return;
    await expectArraysEqualTensors((b, s) => vision.nms(b, s, 0.4), () => [t(NB), tf.tensor1d(NS)], async () => [NB, NS]);
    await expectArraysEqualTensors((b, s, i) => vision.batchedNms(b, s, i, 0.4),
        () => [t(NB), tf.tensor1d(NS), tf.tensor1d(NI, 'int32')], async () => [NB, NS, NI]);
  });
  it('removeSmallBoxesAsync and removeSmallBoxes', async () => {
    const before = tf.memory().numTensors;
    const boxes = t(B1);
    const expected = await vision.removeSmallBoxesAsync(boxes, 1.5);
    const actual = await vision.removeSmallBoxesAsync(B1, 1.5);
    await expectSameTensors(actual, expected);
    if (syncSupported()) {
      const sync = vision.removeSmallBoxes(B1, 1.5);
      await expectSameTensors(sync, expected);
      sync.dispose();
    }
    tf.dispose([boxes, expected, actual]);
    expect(tf.memory().numTensors).toBe(before);
  });
  it('nms family: bad plain inputs are Errors naming the argument, without leaks', async () => {
    const fails = async (p: Promise<unknown>, ...patterns: RegExp[]) => {
      let error: unknown = null;
      try {
        await p;
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(Error);
      for (const pattern of patterns) expect((error as Error).message).toMatch(pattern);
    };
    const before = tf.memory().numTensors;
    await fails(vision.nmsAsync(NB, [0.9, 0.8], 0.5), /nmsAsync/, /'scores'/, /one entry per box/);
    await fails(vision.batchedNmsAsync(NB, NS, {} as any, 0.5), /batchedNmsAsync/, /'idxs'/, /TensorLike/);
    await fails(vision.nmsAsync(NB, NS, {iouThreshold: 0.5} as any), /nmsAsync/, /'iouThreshold'/, /finite number/);
    if (syncSupported()) {
      expectThrowsNoLeak(() => vision.nms([[0, 0, 1]], [1], 0.5), /^nms:/, /'boxes'/, /last dimension 4/);
      expectThrowsNoLeak(() => vision.batchedNms(NB, NS, [0, 1], 0.5), /^batchedNms:/, /'idxs'/);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('deformConv2d: x, offset, weight, bias and mask as plain arrays', async () => {
    const x = () => tf.tensor(seededUniform(1 * 4 * 5 * 2, -1, 1, 911), [1, 4, 5, 2]);
    const offset = () => tf.tensor(seededUniform(1 * 4 * 5 * 18, -1, 1, 912), [1, 4, 5, 18]);
    const mask = () => tf.tensor(seededUniform(1 * 4 * 5 * 9, 0, 1, 913), [1, 4, 5, 9]);
    const weight = () => tf.tensor(seededUniform(3 * 2 * 3 * 3, -1, 1, 914), [3, 2, 3, 3]);
    const bias = () => tf.tensor1d([0.1, -0.2, 0.3]);
    const fn = (xs: any, o: any, w: any, b: any, m: any) => vision.deformConv2d(xs, o, w, {bias: b, mask: m, padding: 1});
    const all = () => [x(), offset(), weight(), bias(), mask()];
    await expectArraysEqualTensors(fn, all, async () => {
      const ts = all();
      const arrays = await Promise.all(ts.map(v => v.array()));
      tf.dispose(ts);
      return arrays;
    });
  });

  it('non-TensorLike inputs are Errors naming op and argument', () => {
    const ok = () => tf.tensor2d([[0, 0, 1, 1]]);
    const cases: Array<[() => unknown, RegExp[]]> = [
      [() => vision.boxIou({} as any, ok()), [/^boxIou:/, /'boxes1'/, /tf.Tensor or TensorLike/]],
      [() => vision.boxIou(ok(), undefined as any), [/^boxIou:/, /'boxes2'/]],
      [() => vision.boxArea('boxes' as any), [/^boxArea:/, /'boxes'/]],
      [() => vision.masksToBoxes(null as any), [/^masksToBoxes:/, /'masks'/]],
      [() => vision.generalizedBoxIouLoss(ok(), new Map() as any), [/^generalizedBoxIouLoss:/, /'boxes2'/, /Map/]],
      [() => vision.sigmoidFocalLoss({} as any, ok()), [/^sigmoidFocalLoss:/, /'inputs'/]],
      [() => vision.deformConv2d(tf.ones([1, 3, 3, 2]), {} as any, tf.ones([4, 2, 3, 3])), [/^deformConv2d:/, /'offset'/]],
      [() => vision.deformConv2d(tf.ones([1, 3, 3, 2]), tf.zeros([1, 1, 1, 18]), tf.ones([4, 2, 3, 3]), {bias: {} as any}),
        [/^deformConv2d:/, /'bias'/]],
      [() => vision.dropBlock2d({} as any, 0.1, 3), [/^dropBlock2d:/, /'x'/]],
      [() => vision.stochasticDepth(undefined as any, 0.1, 'row'), [/^stochasticDepth:/, /'x'/]],
      [() => vision.clipBoxesToImage([[0, 0, 1]], [2, 2]), [/^clipBoxesToImage:/, /'boxes'/, /last dimension 4/]],
    ];
    for (const [fn, patterns] of cases) {
      const before = tf.memory().numTensors;
      tf.tidy(() => expectThrows(fn, ...patterns));
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});

describe('DeformConv2d layer: torchvision\'s (inChannels, outChannels, kernelSize)', () => {
  const x = () => tf.tensor(seededUniform(2 * 5 * 6 * 4, -1, 1, 921), [2, 5, 6, 4]) as Tensor4D;
  const offset = () => tf.tensor(seededUniform(2 * 5 * 6 * 18, -1, 1, 922), [2, 5, 6, 18]) as Tensor4D;

  it('new DeformConv2d(4, 8, 3) builds inChannels 4, filters 8, a 3x3 kernel and equals the object form', async () => {
    const tv = new vision.DeformConv2d(4, 8, 3, {padding: 1, name: 'dcn'});
    const obj = new vision.DeformConv2d({inChannels: 4, filters: 8, kernelSize: 3, padding: 1, name: 'dcn'});
    expect(tv.inChannels).toBe(4);
    expect(tv.filters).toBe(8);
    expect(tv.kernelSize).toEqual([3, 3]);
    expect(tv.getConfig()).toEqual(obj.getConfig());
    const [xt, o] = [x(), offset()];
    tv.apply([xt, o]);
    obj.apply([xt, o]);
    expect(tv.getWeights().map(w => w.shape)).toEqual([[3, 3, 4, 8], [8]]);
    obj.setWeights(tv.getWeights());
    await expectNoLeak(() => [tv.apply([xt, o]) as Tensor, obj.apply([xt, o]) as Tensor],
        ([a, b]) => expectSameTensors(a, b));
    tf.dispose([xt, o]);
    disposeLayer(tv);
    disposeLayer(obj);
  });

  it('torchvision\'s further positional arguments (stride, padding, dilation, groups, bias) and [KH, KW]', () => {
    const layer = new vision.DeformConv2d(4, 8, [3, 1], 2, 1, 1, 2, false);
    expect([layer.inChannels, layer.filters, layer.kernelSize, layer.strides, layer.padding, layer.dilation,
      layer.groups, layer.useBias]).toEqual([4, 8, [3, 1], [2, 2], [1, 1], [1, 1], 2, false]);
    const withOptions = new vision.DeformConv2d(4, 8, 3, 1, {padding: 1, dataFormat: 'channelsFirst'});
    expect([withOptions.strides, withOptions.padding, withOptions.dataFormat]).toEqual([[1, 1], [1, 1], 'channelsFirst']);
  });

  it('the tfjs forms keep working: (filters, kernelSize, options?) and one object', () => {
    const two = new vision.DeformConv2d(8, 3);
    expect([two.inChannels, two.filters, two.kernelSize]).toEqual([null, 8, [3, 3]]);
    const withOptions = new vision.DeformConv2d(8, [3, 2], {padding: 1});
    expect([withOptions.inChannels, withOptions.filters, withOptions.kernelSize, withOptions.padding])
        .toEqual([null, 8, [3, 2], [1, 1]]);
    const obj = new vision.DeformConv2d({filters: 8, kernelSize: 3});
    expect([obj.inChannels, obj.filters]).toEqual([null, 8]);
  });

  it('getConfig / fromConfig round trip of the torchvision form', () => {
    const layer = new vision.DeformConv2d(4, 8, 3, {padding: 1, groups: 2});
    const config = layer.getConfig();
    expect(config.inChannels).toBe(4);
    const [cls, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap.DeformConv2d;
    const copy = fromConfig(cls, config) as vision.DeformConv2d;
    expect(copy.getConfig()).toEqual(config);
    expect(copy.inChannels).toBe(4);
  });

  it('x with other than inChannels channels is an Error', () => {
    const layer = new vision.DeformConv2d(6, 8, 3, {padding: 1});
    const [xt, o] = [x(), offset()];
    expectThrowsNoLeak(() => layer.apply([xt, o]), /DeformConv2d/, /'inputs'/, /4 channels/, /inChannels 6/);
    tf.dispose([xt, o]);
  });

  it('bad constructor forms are Errors naming the layer', () => {
    const bad: Array<[() => unknown, RegExp[]]> = [
      [() => new (vision.DeformConv2d as any)(), [/DeformConv2d/, /arguments/]],
      [() => new (vision.DeformConv2d as any)('4', 8, 3), [/DeformConv2d/, /arguments/, /inChannels, outChannels, kernelSize/]],
      [() => new (vision.DeformConv2d as any)(4, 8, 'x'), [/DeformConv2d/, /'options'/, /options object/]],
      [() => new (vision.DeformConv2d as any)(8, 3, {padding: 1}, 5), [/DeformConv2d/, /arguments/]],
      [() => new (vision.DeformConv2d as any)(4, 8, 3, {kernelSize: 5}), [/DeformConv2d/, /'kernelSize'/, /twice/]],
      [() => new (vision.DeformConv2d as any)(4, 8, 3, 1, 0, 1, 1, true, 9), [/DeformConv2d/, /at most 8 positional/]],
      [() => new (vision.DeformConv2d as any)({filters: 8, kernelSize: 3}, 4), [/DeformConv2d/, /nothing after the options object/]],
      [() => new vision.DeformConv2d(6, 8, 3, {groups: 4}), [/DeformConv2d/, /'groups'/, /inChannels \(6\)/]],
      [() => new vision.DeformConv2d(0, 8, 3), [/DeformConv2d/, /'inChannels'/]],
      [() => new vision.DeformConv2d(4, 8, 0), [/DeformConv2d/, /'kernelSize'/]],
    ];
    for (const [fn, patterns] of bad) expectThrowsNoLeak(fn, ...patterns);
  });
});

describe('layers: torchvision\'s positional constructors', () => {
  const same = (name: string, positional: () => tfl.layers.Layer, object: () => tfl.layers.Layer) => {
    it(`${name}`, () => {
      const before = tf.memory().numTensors;
      const [a, b] = [positional(), object()];
      expect(a.getClassName()).toBe(name === 'Permute' ? 'TorchvisionPermute' : name);
      expect(a.getConfig()).toEqual(b.getConfig());
      disposeLayer(a);
      disposeLayer(b);
      expect(tf.memory().numTensors).toBe(before);
    });
  };
  const n = {name: 'same'};
  same('RoIAlign', () => new vision.RoIAlign(2, 0.5, 2, true, n),
      () => new vision.RoIAlign({outputSize: 2, spatialScale: 0.5, samplingRatio: 2, aligned: true, ...n}));
  same('RoIAlign', () => new vision.RoIAlign([2, 3], 0.25, undefined, undefined, {dataFormat: 'channelsFirst', ...n}),
      () => new vision.RoIAlign({outputSize: [2, 3], spatialScale: 0.25, dataFormat: 'channelsFirst', ...n}));
  same('RoIPool', () => new vision.RoIPool(7, 1 / 16, n), () => new vision.RoIPool({outputSize: 7, spatialScale: 1 / 16, ...n}));
  same('PSRoIAlign', () => new vision.PSRoIAlign(3, 0.5, 2, n),
      () => new vision.PSRoIAlign({outputSize: 3, spatialScale: 0.5, samplingRatio: 2, ...n}));
  same('PSRoIPool', () => new vision.PSRoIPool(3, 0.5, n), () => new vision.PSRoIPool({outputSize: 3, spatialScale: 0.5, ...n}));
  same('MultiScaleRoIAlign', () => new vision.MultiScaleRoIAlign(['p2', 'p3'], 7, 2, n),
      () => new vision.MultiScaleRoIAlign({featmapNames: ['p2', 'p3'], outputSize: 7, samplingRatio: 2, ...n}));
  same('StochasticDepth', () => new vision.StochasticDepth(0.1, 'row', n),
      () => new vision.StochasticDepth({p: 0.1, mode: 'row', ...n}));
  same('DropBlock2d', () => new vision.DropBlock2d(0.1, 7, n), () => new vision.DropBlock2d({p: 0.1, blockSize: 7, ...n}));
  same('DropBlock3d', () => new vision.DropBlock3d(0.1, 3, {eps: 1e-5, ...n}),
      () => new vision.DropBlock3d({p: 0.1, blockSize: 3, eps: 1e-5, ...n}));
  same('FrozenBatchNorm2d', () => new vision.FrozenBatchNorm2d(8, 1e-3, n),
      () => new vision.FrozenBatchNorm2d({numFeatures: 8, eps: 1e-3, ...n}));
  same('Permute', () => new vision.Permute([0, 3, 1, 2], n), () => new vision.Permute({dims: [0, 3, 1, 2], ...n}));
  same('SqueezeExcitation', () => new vision.SqueezeExcitation(8, 4, n),
      () => new vision.SqueezeExcitation({inputChannels: 8, squeezeChannels: 4, ...n}));
  same('MLP', () => new vision.MLP(8, [16, 4], {dropout: 0.1, ...n}),
      () => new vision.MLP({inChannels: 8, hiddenChannels: [16, 4], dropout: 0.1, ...n}));
  same('FeaturePyramidNetwork', () => new vision.FeaturePyramidNetwork([8, 16], 8, n),
      () => new vision.FeaturePyramidNetwork({inChannelsList: [8, 16], outChannels: 8, ...n}));
  same('Conv2dNormActivation', () => new vision.Conv2dNormActivation(3, 16, 3, 2, n),
      () => new vision.Conv2dNormActivation({inChannels: 3, outChannels: 16, kernelSize: 3, stride: 2, ...n}));
  same('Conv3dNormActivation', () => new vision.Conv3dNormActivation(8, 16, undefined, undefined, undefined, 2, n),
      () => new vision.Conv3dNormActivation({inChannels: 8, outChannels: 16, groups: 2, ...n}));

  it('positional RoI layers pool as the op does', async () => {
    const layer = new vision.RoIAlign(2, 0.5, 2, true);
    await expectNoLeak(() => tf.tidy(() => [layer.apply([map(), rois()]) as Tensor,
      vision.roiAlign(map(), rois(), 2, {spatialScale: 0.5, samplingRatio: 2, aligned: true})]),
    ([a, b]) => expectSameTensors(a, b));
  });

  it('bad constructor forms are Errors naming the layer', () => {
    const any = vision as any;
    const bad: Array<[() => unknown, RegExp[]]> = [
      [() => new any.RoIAlign(), [/RoIAlign/, /arguments/, /outputSize, spatialScale, samplingRatio, aligned/]],
      [() => new any.RoIAlign(null), [/RoIAlign/, /arguments/]],
      [() => new any.RoIAlign('7'), [/RoIAlign/, /'outputSize'/]],
      [() => new any.RoIAlign(7, 1, 2, false, 3), [/RoIAlign/, /at most 4 positional/]],
      [() => new any.RoIAlign({outputSize: 7}, 1), [/RoIAlign/, /nothing after the options object/]],
      [() => new any.RoIAlign(7, {spatialScale: 1}, 2), [/RoIAlign/, /nothing after the options object/]],
      [() => new any.RoIAlign(7, 0.5, {spatialScale: 1}), [/RoIAlign/, /'spatialScale'/, /twice/]],
      [() => new any.RoIPool(7, 1, 2), [/RoIPool/, /at most 2 positional/]],
      [() => new any.PSRoIPool(), [/PSRoIPool/, /arguments/]],
      [() => new any.PSRoIAlign(true), [/PSRoIAlign/, /'outputSize'/]],
      [() => new any.StochasticDepth(), [/StochasticDepth/, /arguments/]],
      [() => new any.StochasticDepth(0.1), [/StochasticDepth/, /'mode'/]],
      [() => new any.DropBlock2d('0.1', 7), [/DropBlock2d/, /'p'/]],
      [() => new any.FrozenBatchNorm2d({numFeatures: 8}, 1e-5), [/FrozenBatchNorm2d/, /nothing after/]],
      [() => new any.MultiScaleRoIAlign('p2', 7, 2), [/MultiScaleRoIAlign/, /'featmapNames'/]],
      [() => new any.Permute(), [/Permute/, /arguments/]],
    ];
    for (const [fn, patterns] of bad) expectThrowsNoLeak(fn, ...patterns);
  });
});

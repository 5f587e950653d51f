/**
 * Size and argument limits (src/ops/limits.ts, docs/SEMANTICS.md "Limits"):
 * each over-limit call is an Error naming the op, the argument and the limit,
 * the same on every backend and before any kernel runs (so nothing is
 * allocated, nothing wraps and no other tensor is touched); values at the
 * limits still work where they are cheap. Also the wasm allocation guard and
 * int32 argument check under that validation.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor4D} from '@tensorflow/tfjs-core';
import * as vision from '../src/index';
import {roiAlignValues} from '../kernels/reference/roi_align';
import {allocOutput, int32Fields, WasmBackendLike} from '../kernels/wasm/module';
import {RoiAlign} from '../src/kernel_names';
import {roiAlignAttrs} from '../src/ops/roi_align';
import {MAX_ADAPTIVE_GRID, MAX_CONV_PARAM, MAX_OUTPUT_SIZE, MAX_SAMPLING_RATIO, MAX_TENSOR_BYTES, MAX_TENSOR_ELEMENTS} from '../src/ops/limits';
import {expectClose, expectNoLeak, expectThrows, seededUniform} from './support/helpers';

/** Runs fn (which must throw, matching patterns) next to a canary tensor, which must keep its values. */
async function expectThrowsKeepingCanary(fn: () => unknown, ...patterns: RegExp[]) {
  const canary = tf.fill([1024], 7);
  const before = tf.memory().numTensors;
  const start = Date.now();
  tf.tidy(() => expectThrows(fn, ...patterns));
  expect(Date.now() - start).toBeLessThan(5000);
  expect(tf.memory().numTensors).toBe(before);
  const values = await canary.data();
  canary.dispose();
  expect(values.every(v => v === 7)).toBe(true);
}

const map = () => tf.ones([1, 4, 4, 1]) as Tensor4D;
const box = () => tf.tensor2d([[-1, 0, 0, 3, 3]]);
const LIMIT = new RegExp(`${MAX_TENSOR_ELEMENTS} elements`);

describe('limits: the constants', () => {
  it('are the documented values', () => {
    expect(MAX_TENSOR_BYTES).toBe(2 ** 31 - 1);
    expect(MAX_TENSOR_ELEMENTS).toBe(2 ** 29 - 1);
    expect(MAX_OUTPUT_SIZE).toBe(65536);
    expect(MAX_SAMPLING_RATIO).toBe(65536);
    expect(MAX_ADAPTIVE_GRID).toBe(MAX_SAMPLING_RATIO);
    expect(MAX_CONV_PARAM).toBe(65536);
  });
});

describe('limits: RoI op outputs of 4 GiB and more (used to wrap the wasm allocation)', () => {
  const ops: Array<[string, (size: number|[number, number]) => unknown]> = [
    ['roiAlign', s => vision.roiAlign(map(), box(), {outputSize: s})],
    ['roiPool', s => vision.roiPool(map(), box(), {outputSize: s})],
    ['psRoiAlign', s => vision.psRoiAlign(map(), box(), {outputSize: s})],
    ['psRoiPool', s => vision.psRoiPool(map(), box(), {outputSize: s})],
  ];
  it('roiAlign outputSize 32768 (2^30 elements, 4 GiB): a named Error, other tensors untouched', async () => {
    await expectThrowsKeepingCanary(() => vision.roiAlign(map(), box(), {outputSize: 32768}),
        /^roiAlign: argument 'outputSize'/, /1×32768×32768×1 = 1073741824 elements/, LIMIT);
    // The backend still works.
    await expectNoLeak(() => tf.tidy(() => vision.roiAlign(tf.reshape(tf.range(0, 16), [1, 4, 4, 1]) as Tensor4D,
        [[0, 0, 0, 3, 3]], {outputSize: 2, samplingRatio: 1})),
    async out => expectClose(await out.data(), [3.75, 5.25, 9.75, 11.25]));
  });
  it('roiPool outputSize 32768: a named Error, other tensors untouched', async () => {
    await expectThrowsKeepingCanary(() => vision.roiPool(map(), box(), {outputSize: 32768}),
        /^roiPool: argument 'outputSize'/, LIMIT);
  });
  it('one element over the limit (2^29 = 16384 x 32768) is an Error', async () => {
    await expectThrowsKeepingCanary(() => vision.roiAlign(map(), box(), {outputSize: [16384, 32768]}),
        /^roiAlign: argument 'outputSize'/, /536870912 elements/, LIMIT);
  });
  it('K x C x oh x ow counts every factor (K boxes, C channels)', async () => {
    const boxes = tf.tidy(() => tf.tile(box(), [1024, 1]));
    await expectThrowsKeepingCanary(() => vision.roiAlign(tf.ones([1, 2, 2, 64]), boxes, {outputSize: 128}),
        /^roiAlign: argument 'outputSize'/, /1024×128×128×64 = 1073741824 elements/, LIMIT);
    // The per-image list form counts its boxes too; channelsFirst takes C from dimension 1.
    await expectThrowsKeepingCanary(() => vision.roiAlign(tf.ones([1, 64, 2, 2]),
        [tf.tile(tf.tensor2d([[0, 0, 3, 3]]), [1024, 1])], {outputSize: 128, dataFormat: 'channelsFirst'}),
    /^roiAlign: argument 'outputSize'/, /1024×128×128×64 = 1073741824 elements/, LIMIT);
    // The position-sensitive ops output C / (oh ow) channels: 16 * 65536 channels, 256 x 256 bins -> 16.
    await expectThrowsKeepingCanary(() => vision.psRoiPool(tf.zeros([1, 1, 1, 16 * 65536]), boxes, {outputSize: 256}),
        /^psRoiPool: argument 'outputSize'/, /1024×256×256×16 = 1073741824 elements/, LIMIT);
    await expectThrowsKeepingCanary(() => vision.psRoiAlign(tf.zeros([1, 1, 1, 16 * 65536]), boxes, {outputSize: 256}),
        /^psRoiAlign: argument 'outputSize'/, LIMIT);
    boxes.dispose();
  });
  for (const [name, call] of ops) {
    it(`${name} outputSize 1e6: "at most 65536 per side" on every backend, not a RangeError`, async () => {
      await expectThrowsKeepingCanary(() => call(1e6),
          new RegExp(`^${name}: argument 'outputSize' must be at most 65536 per side, got 1000000$`));
      await expectThrowsKeepingCanary(() => call([1, 65537]), new RegExp(`^${name}: argument 'outputSize'`), /65536/);
    });
  }
  it('outputSize 65536 on one side (the limit) still works', async () => {
    const xs = seededUniform(16, -1, 1, 5);
    const expected = new Float32Array(65536);
    const attrs = roiAlignAttrs('test', [1, 65536], 1, 1, false);
    roiAlignValues(xs, [1, 4, 4, 1], [0, 0, 0, 3, 3], 1, attrs, expected);
    await expectNoLeak(() => tf.tidy(() => vision.roiAlign(tf.tensor4d(xs, [1, 4, 4, 1]), [[0, 0, 0, 3, 3]],
        {outputSize: [1, 65536], samplingRatio: 1})), async out => {
      expect(out.shape).toEqual([1, 1, 65536, 1]);
      expectClose(await out.data(), expected);
    });
    await expectNoLeak(() => tf.tidy(() => vision.roiPool(tf.tensor4d(xs, [1, 4, 4, 1]), [[0, 0, 0, 3, 3]], [65536, 1])),
        async out => expect(out.shape).toEqual([1, 65536, 1, 1]));
  });
});

describe('limits: samplingRatio', () => {
  for (const [name, call] of [
    ['roiAlign', (sr: number) => vision.roiAlign(map(), box(), 1, {samplingRatio: sr})],
    ['psRoiAlign', (sr: number) => vision.psRoiAlign(map(), box(), 1, {samplingRatio: sr})],
  ] as const) {
    for (const sr of [2 ** 31, 2 ** 32 + 2, 2 ** 24 + 1, 65537]) {
      it(`${name} samplingRatio ${sr}: an Error, quickly`, async () => {
        await expectThrowsKeepingCanary(() => call(sr),
            new RegExp(`^${name}: argument 'samplingRatio' must be at most 65536 samples per bin and axis, got ${sr}$`));
      });
    }
  }
  it('65536 (the limit, also the adaptive grid cap) still works; a huge box keeps it cheap', async () => {
    const xs = seededUniform(16, -1, 1, 6);
    const boxes = [0, -1e5, -2e5, 1e5, 1e5];
    for (const samplingRatio of [MAX_SAMPLING_RATIO, -1]) {
      const expected = new Float32Array(1);
      roiAlignValues(xs, [1, 4, 4, 1], boxes, 1, roiAlignAttrs('test', 1, 1, samplingRatio, false), expected);
      expect(expected[0]).not.toBe(0);
      await expectNoLeak(() => tf.tidy(() => vision.roiAlign(tf.tensor4d(xs, [1, 4, 4, 1]), [boxes], 1, {samplingRatio})),
          async out => expectClose(await out.data(), expected));
    }
  });
  it('a huge negative samplingRatio is adaptive (it used to wrap to a positive int32 on wasm)', async () => {
    const xs = seededUniform(5 * 6 * 3, -1, 1, 7);
    const run = (samplingRatio: number) => vision.roiAlign(tf.tensor4d(xs, [1, 5, 6, 3]),
        [[0, 0.5, 0.2, 4.7, 3.9]], 2, {samplingRatio});
    const adaptive = run(-1);
    await expectNoLeak(() => tf.tidy(() => run(-(2 ** 32) + 5)), async out => expectClose(await out.data(), await adaptive.data()));
    adaptive.dispose();
  });
});

describe('limits: deformConv2d', () => {
  // x [1, 3, 3, 1], a 1x1 kernel: with stride 2^31 the output is 1x1 and the kernel used to run with a wrapped header.
  const x = () => tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
  const weight = () => tf.ones([1, 1, 1, 1]) as Tensor4D;
  const cases: Array<[string, number, number]> = [['stride', 2 ** 31, 1], ['padding', 2 ** 31, 4],
    ['dilation', 2 ** 31, 3], ['stride', 65537, 1], ['padding', 65537, 4], ['dilation', 65537, 3]];
  for (const [arg, value, side] of cases) {
    it(`${arg} ${value}: an Error naming it and the limit`, async () => {
      await expectThrowsKeepingCanary(() => vision.deformConv2d(x(), tf.zeros([1, side, side, 2]), weight(), {[arg]: value}),
          new RegExp(`^deformConv2d: argument '${arg}' must be at most 65536 per side, got ${value}$`));
      await expectThrowsKeepingCanary(() => vision.deformConv2d(x(), tf.zeros([1, side, side, 2]), weight(), {[arg]: [1, value]}),
          new RegExp(`^deformConv2d: argument '${arg}'`), /65536/);
    });
  }
  it('a kernel side over 65536 is an Error naming weight', async () => {
    await expectThrowsKeepingCanary(() => vision.deformConv2d(tf.zeros([1, 1, 65537, 1]), tf.zeros([1, 1, 1, 2 * 65537]),
        tf.zeros([1, 1, 1, 65537]) as Tensor4D), /^deformConv2d: argument 'weight'/, /at most 65536/);
  });
  it('an output of 4 GiB (Cout 2^20, 1024 positions) is a named Error, other tensors untouched', async () => {
    const w = tf.zeros([2 ** 20, 1, 1, 1]) as Tensor4D;
    await expectThrowsKeepingCanary(() => vision.deformConv2d(tf.ones([1, 1, 1024, 1]), tf.zeros([1, 1, 1024, 2]), w),
        /^deformConv2d: argument 'weight' gives an output \[B, OH, OW, Cout\] of 1×1×1024×1048576 = 1073741824 elements/,
        LIMIT);
    w.dispose();
  });
  it('stride, padding and dilation 65536 (the limit) still work, the same on every backend', async () => {
    // Output rows/columns sample at o * 65536 - 65536: only (1, 1) lands on the map, at x[0, 0].
    await expectNoLeak(() => tf.tidy(() => vision.deformConv2d(x(), tf.zeros([1, 3, 3, 2]), tf.fill([1, 1, 1, 1], 2) as Tensor4D,
        {stride: 65536, padding: 65536, dilation: 65536})), async out => {
      expect(out.shape).toEqual([1, 3, 3, 1]);
      expectClose(await out.data(), [0, 0, 0, 0, 2, 0, 0, 0, 0]);
    });
  });
});

describe('limits: the wasm allocation guard and int32 arguments', () => {
  /** A stand-in backend whose makeOutput records calls and hands out `offset`. */
  function fakeBackend(offset: number) {
    const calls: number[][] = [], disposed: object[] = [];
    const memory = new WebAssembly.Memory({initial: 1});
    const ids = new Map<object, number>();
    const b: WasmBackendLike = {
      wasm: {wasmMemory: memory},
      dataIdMap: {get: (id: object) => ids.has(id) ? {memoryOffset: ids.get(id)!} : undefined},
      makeOutput: (shape: number[], dtype: tf.DataType) => {
        calls.push(shape);
        const dataId = {};
        ids.set(dataId, offset);
        return {dataId, shape, dtype};
      },
      disposeData: (id: object) => { disposed.push(id); return true; },
    };
    return {b, calls, disposed};
  }
  it('refuses 4 GiB and more (and 2^31 bytes) before calling malloc, naming the buffer and the limit', () => {
    const {b, calls} = fakeBackend(64);
    for (const shape of [[32768, 32768], [2 ** 29], [1e6, 1e6]]) {
      expectThrows(() => allocOutput(b, shape, 'float32', 'roi_align output'),
          /tfjs-vision-ops\/wasm: roi_align output/, /2147483647 bytes/);
    }
    expect(calls.length).toBe(0);
    expect(allocOutput(b, [16], 'float32').offset).toBe(64);
  });
  it('a block outside the heap (malloc failed) is freed and an Error', () => {
    const {b, disposed} = fakeBackend(0);
    expectThrows(() => allocOutput(b, [16]), /could not allocate/);
    expect(disposed.length).toBe(1);
  });
  it('int32 arguments and header words that do not fit int32 are an Error naming the field', () => {
    expect(int32Fields('k', {a: 1, b: -(2 ** 31), c: 2 ** 31 - 1})).toEqual([1, -(2 ** 31), 2 ** 31 - 1]);
    expectThrows(() => int32Fields('deform_conv2d', {strideH: 2 ** 31}), /deform_conv2d \(wasm\)/, /'strideH'/, /int32/);
    expectThrows(() => int32Fields('roi_align', {samplingRatio: 2 ** 32 + 2}), /'samplingRatio'/);
    expectThrows(() => int32Fields('roi_align', {height: 1.5}), /'height'/);
  });
  it('on wasm, a kernel called past the op validation gets the guard, not a wrapped allocation', async () => {
    if (tf.getBackend() !== 'wasm') return;
    const [xt, bt] = [map(), box()];
    await expectThrowsKeepingCanary(() => tf.engine().runKernel(RoiAlign, {x: xt, boxes: bt},
        roiAlignAttrs('test', 32768, 1, 1, false)),
    /roi_align output/, /2147483647 bytes/);
    await expectThrowsKeepingCanary(() => tf.engine().runKernel(RoiAlign, {x: xt, boxes: bt},
        {...roiAlignAttrs('test', 1, 1, 1, false), samplingRatio: 2 ** 32 + 2}),
    /'samplingRatio'/, /int32/);
    tf.dispose([xt, bt]);
  });
});

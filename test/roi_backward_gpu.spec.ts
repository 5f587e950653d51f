/**
 * The RoI backward kernels over tile lists (kernels/gpu/roi_kernels.ts on
 * webgl and webgpu, and the same cases on every backend): the reference
 * gradient for boxes over many tiles, over the whole map, outside it, with
 * hostile coordinates and crowded into one tile; two runs bit-identical; no read-back; the chunked
 * paths (RoIs in chunks, weights computed where a table would be too large).
 */
import * as tf from '@tensorflow/tfjs-core';
import {tileGrid, TILE_MATRIX_BUDGET} from '../kernels/gpu/roi_kernels';
import {roiAlignGradValues} from '../kernels/reference/roi_align';
import {psRoiAlignGradValues, psRoiPoolGradValues} from '../kernels/reference/ps_roi';
import {roiPoolGradValues} from '../kernels/reference/roi_pool';
import {PsRoiAlignGrad, PsRoiPoolGrad, RoiAlignGrad, RoiPoolGrad} from '../src/kernel_names';
import {expectClose, expectNoLeak, seededUniform} from './support/helpers';
import {hostileBoxes, seededRois} from './support/roi';
import {GPU_BACKENDS} from './support/tolerances';

type Floats = Float32Array;
interface Op {
  name: string;
  /** Channels of x for `outChannels` channels of dy at bins [ph, pw]. */
  channels(outChannels: number, ph: number, pw: number): number;
  /** dx on the backend under test. */
  run(dy: tf.Tensor, x: tf.Tensor, boxes: tf.Tensor, attrs: object): tf.Tensor;
  /** dx of the reference math. */
  reference(dy: Floats, x: Floats, xShape: number[], boxes: Floats, numBoxes: number, attrs: object, dx: Floats): void;
}

const gradOf = (name: string, inputs: (dy: tf.Tensor, x: tf.Tensor, boxes: tf.Tensor) => tf.NamedTensorMap) =>
  (dy: tf.Tensor, x: tf.Tensor, boxes: tf.Tensor, attrs: object) =>
    tf.engine().runKernel(name, inputs(dy, x, boxes), {...attrs, xShape: x.shape} as never) as tf.Tensor;
const dyAndBoxes = (dy: tf.Tensor, _: tf.Tensor, boxes: tf.Tensor) => ({dy, boxes});
const same = (c: number) => c;
const perBin = (c: number, ph: number, pw: number) => c * ph * pw;

/* eslint-disable @typescript-eslint/no-explicit-any */
const OPS: Op[] = [
  {name: 'roiAlign', channels: same, run: gradOf(RoiAlignGrad, dyAndBoxes),
    reference: (dy, _x, xShape, b, k, a, dx) => roiAlignGradValues(dy, b, k, a as any, xShape, dx)},
  {name: 'roiPool', channels: same, run: gradOf(RoiPoolGrad, (dy, x, boxes) => ({dy, x, boxes})),
    reference: (dy, x, xShape, b, k, a, dx) => roiPoolGradValues(dy, x, xShape, b, k, a as any, dx)},
  {name: 'psRoiAlign', channels: perBin, run: gradOf(PsRoiAlignGrad, dyAndBoxes),
    reference: (dy, _x, xShape, b, k, a, dx) => psRoiAlignGradValues(dy, b, k, a as any, xShape, dx)},
  {name: 'psRoiPool', channels: perBin, run: gradOf(PsRoiPoolGrad, dyAndBoxes),
    reference: (dy, _x, xShape, b, k, a, dx) => psRoiPoolGradValues(dy, b, k, a as any, xShape, dx)},
];
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Rows [batch index, x1, y1, x2, y2] as a flat Float32Array. */
const rows = (boxes: number[][]) => Float32Array.from(boxes.flat());

interface Case {batch: number, height: number, width: number, outChannels: number, pooled: [number, number],
  boxes: Floats, attrs?: object}

/** dx of `op` on the backend and in the reference math for case `c`. */
async function gradients(op: Op, c: Case, seed = 1) {
  const [ph, pw] = c.pooled;
  const xShape = [c.batch, c.height, c.width, op.channels(c.outChannels, ph, pw)];
  const numBoxes = c.boxes.length / 5;
  const dyShape = [numBoxes, ph, pw, op.name.startsWith('ps') ? c.outChannels : xShape[3]];
  const xs = seededUniform(xShape.reduce((a, b) => a * b, 1), -2, 2, seed);
  const dys = seededUniform(dyShape.reduce((a, b) => a * b, 1), -1, 1, seed + 1);
  const attrs = {pooledHeight: ph, pooledWidth: pw, spatialScale: 1, samplingRatio: -1, aligned: false, ...c.attrs};
  const expected = new Float32Array(xs.length);
  op.reference(dys, xs, xShape, c.boxes, numBoxes, attrs, expected);
  const [x, boxes, dy] = [tf.tensor(xs, xShape), tf.tensor2d(c.boxes, [numBoxes, 5]), tf.tensor(dys, dyShape)];
  const run = () => op.run(dy, x, boxes, attrs);
  return {expected, run, dispose: () => tf.dispose([x, boxes, dy])};
}

async function expectReferenceGradient(op: Op, c: Case) {
  const {expected, run, dispose} = await gradients(op, c);
  await expectNoLeak(run, async dx => expectClose(await dx.data(), expected, undefined, `${op.name} dx`));
  dispose();
}

const [H, W] = [37, 41];
/** Box families on a 2 x 37 x 41 map (odd sides and channel counts: blocks past the edges). */
const BOXES: Record<string, Floats> = {
  'spread over many tiles': seededRois(60, 2, 7).map((v, i) => i % 5 === 0 ? v : v * 0.3),
  'covering the whole map': rows([[0, -1, -1, W + 1, H + 1], [1, 0, 0, W - 1, H - 1], [1, -20, -30, W + 40, H + 9]]),
  'outside the map or its batch': rows([[0, W + 3, 2, W + 9, 8], [1, -9, -9, -3, -2], [0, 3, H + 2, 9, H + 7],
    [2, 1, 1, 9, 9], [-1, 1, 1, 9, 9], [0.5, 2, 2, 6, 7], [1, 2, 3, 8, 9]]),
  'with NaN, inf and huge coordinates': rows([...hostileBoxes(2), [0, -3e7, 2, 3e7, 9], [1, 5, -1e20, 9, 1e20],
    [1, 2, 3, 11, 17]]),
  'crowded into one tile': rows(Array.from({length: 48}, (_, i) =>
    [i % 2, 9 + (i % 3) * 0.4, 13 + (i % 4) * 0.3, 10 + (i % 5) * 0.2, 14.5 + (i % 2) * 0.5])),
};

for (const op of OPS) {
  describe(`${op.name} backward over tile lists`, () => {
    for (const [name, boxes] of Object.entries(BOXES)) {
      it(`matches the reference: boxes ${name}`, async () => {
        await expectReferenceGradient(op, {batch: 2, height: H, width: W, outChannels: 3, pooled: [3, 2], boxes});
        await expectReferenceGradient(op, {batch: 2, height: H, width: W, outChannels: 5, pooled: [2, 2], boxes,
          attrs: {samplingRatio: 2, aligned: true, spatialScale: 0.5}});
      });
    }

    it('two runs are bit-identical; on a GPU, nothing is read back during the kernel', async () => {
      const boxes = seededRois(300, 2, 11).map((v, i) => i % 5 === 0 ? v : v * 0.6);
      const {run, dispose} = await gradients(op, {batch: 2, height: 64, width: 61, outChannels: 7, pooled: [3, 3], boxes});
      const backend = tf.backend() as unknown as Record<string, (...args: unknown[]) => unknown>;
      const reads = ['readSync', 'read'].filter(m => typeof backend[m] === 'function');
      const originals = reads.map(m => backend[m]);
      let readsDuringKernel = 0;
      reads.forEach((m, i) => backend[m] = (...args: unknown[]) => (readsDuringKernel++, originals[i].apply(backend, args)));
      let first: tf.Tensor, second: tf.Tensor;
      try {
        [first, second] = [run(), run()];
      } finally {
        reads.forEach((m, i) => backend[m] = originals[i]);
      }
      if (GPU_BACKENDS.includes(tf.getBackend())) expect(readsDuringKernel).toBe(0);
      const [a, b] = await Promise.all([first.data(), second.data()]);
      const [bitsA, bitsB] = [new Uint32Array(a.buffer, a.byteOffset, a.length), new Uint32Array(b.buffer, b.byteOffset, b.length)];
      expect(bitsA.findIndex((v, i) => v !== bitsB[i])).toBe(-1);
      tf.dispose([first, second]);
      dispose();
    });
  });
}

describe('RoI backward: chunks and budgets', () => {
  it('tileGrid: tiles of at least 4 pixels, growing to keep [tiles, K] within budget; RoIs chunked past it', () => {
    expect(tileGrid([2, 64, 64, 256], 512, [7, 7])).toEqual(
        {chunk: 512, weightTables: true, tileSize: 4, tilesY: 16, tilesX: 16});
    expect(tileGrid([2, 64, 64, 8], 10000)).toEqual(
        {chunk: 10000, weightTables: false, tileSize: 16, tilesY: 4, tilesX: 4});
    expect(tileGrid([2, 64, 64, 8], 10000, [7, 7]).chunk).toBe(2 ** 22 / (64 * 8));
    expect(tileGrid([4096, 1, 1, 1], 1000).chunk).toBe(TILE_MATRIX_BUDGET / 4096);
    expect(tileGrid([1, 64, 64, 1], 40, [2000, 3])).toEqual(
        {chunk: 32, weightTables: true, tileSize: 4, tilesY: 16, tilesX: 16});
    expect(tileGrid([1, 6, 5, 1], 3, [4096, 1]).weightTables).toBe(false);
  });

  const chunked: Array<[string, string[], Case]> = [
    ['RoIs in chunks of the tile lists', OPS.map(o => o.name), {batch: 4096, height: 2, width: 3, outChannels: 2,
      pooled: [2, 1], boxes: seededRois(700, 4096, 13).map((v, i) => i % 5 === 0 ? v : v * 0.03)}],
    ['RoIs in chunks of the weight tables', ['roiAlign'], {batch: 1, height: 64, width: 64, outChannels: 1,
      pooled: [2000, 3], boxes: seededRois(40, 1, 17).map((v, i) => i % 5 === 0 ? v : v * 0.6)}],
    ['weights computed (bins too many for a table)', ['roiAlign', 'psRoiAlign'], {batch: 1, height: 4, width: 5,
      outChannels: 1, pooled: [4096, 1], boxes: rows([[0, 0.5, 0.2, 4.1, 3.6], [0, -1, -1, 6, 5], [0, 1, 1, 1.5, 3]])}],
  ];
  for (const [name, ops, c] of chunked) {
    for (const op of OPS.filter(o => ops.includes(o.name))) {
      it(`${op.name}: ${name} match the reference`, async () => expectReferenceGradient(op, c));
    }
  }
});

/**
 * nms on the distribution (x1, y1 in [0, 1000), w, h in [1, 101),
 * iou 0.5) beside tf.image.nonMaxSuppression (tfjs's own kernel: other rules,
 * see SEMANTICS.md) and torchvision; batchedNms with 80 classes; and the
 * growth of nms from 5000 to 100000 boxes.
 */
import * as tf from '@tensorflow/tfjs-core';
import {batchedNms, batchedNmsAsync, nms, nmsAsync} from '../../src/index';
import {BenchCase, BenchRow, BenchSize, timeMedian} from '../harness';

const TORCH = 'torchvision 0.14, 1 thread';
const GPU = ['webgl', 'webgpu'];
/** Boxes of nms_5000 and batched_nms_5000x80: full (the names'), and tiny (`--tiny`). */
const BOXES: Record<BenchSize, number> = {full: 5000, tiny: 200};
const GROWTH: Record<BenchSize, number[]> = {full: [5000, 10000, 20000, 50000, 100000], tiny: [100, 200, 400]};

function randomBoxes(n: number, seed: number, extent = 1000) {
  return tf.tidy(() => {
    const xy = tf.randomUniform([n, 2], 0, extent, 'float32', seed);
    const wh = tf.randomUniform([n, 2], 1, 101, 'float32', seed + 1);
    return {
      boxes: tf.concat([xy, tf.add(xy, wh)], 1) as tf.Tensor2D,
      scores: tf.randomUniform([n], 0, 1, 'float32', seed + 2) as tf.Tensor1D,
      idxs: tf.cast(tf.randomUniform([n], 0, 80, 'float32', seed + 3), 'int32') as tf.Tensor1D,
    };
  });
}

export const nmsCase: BenchCase = {
  name: 'nms_5000',
  torchvisionCases: ['nms_5000'],
  backends: ['cpu', 'wasm', 'tensorflow', ...GPU],
  async run(backend, torchvision, size) {
    const {boxes, scores, idxs} = randomBoxes(BOXES[size], 0);
    // GPU backends: the async forms, which do not block on the read-back.
    const gpu = GPU.includes(backend);
    const ours = (await timeMedian(() => gpu ? nmsAsync(boxes, scores, 0.5) : nms(boxes, scores, 0.5),
        {runs: 15})).median;
    const tfjs = (await timeMedian(() => gpu ? tf.image.nonMaxSuppressionAsync(boxes, scores, BOXES[size], 0.5) :
        tf.image.nonMaxSuppression(boxes, scores, BOXES[size], 0.5), {runs: 15})).median;
    tf.dispose([boxes, scores, idxs]);
    const rows: BenchRow[] = [{case: 'nms_5000', backend, variant: gpu ? 'iou 0.5, nmsAsync' : 'iou 0.5',
      median_ms: ours, baseline: `tf.image.nonMaxSuppression${gpu ? 'Async' : ''}`, baseline_ms: tfjs}];
    const torch = torchvision.nms_5000;
    if (torch != null) {
      rows.push({case: 'nms_5000', backend, variant: 'iou 0.5', median_ms: ours, baseline: TORCH,
        baseline_ms: torch.forward_ms});
    }
    return rows;
  },
};

export const batchedNmsCase: BenchCase = {
  name: 'batched_nms_5000x80',
  torchvisionCases: ['batched_nms_5000x80'],
  backends: ['cpu', 'wasm', 'tensorflow', ...GPU],
  async run(backend, torchvision, size) {
    const {boxes, scores, idxs} = randomBoxes(BOXES[size], 10);
    const ours = (await timeMedian(() => GPU.includes(backend) ? batchedNmsAsync(boxes, scores, idxs, 0.5) :
        batchedNms(boxes, scores, idxs, 0.5), {runs: 15})).median;
    tf.dispose([boxes, scores, idxs]);
    const torch = torchvision.batched_nms_5000x80;
    return [{case: 'batched_nms_5000x80', backend, variant: '80 classes, iou 0.5', median_ms: ours,
      ...(torch != null ? {baseline: TORCH, baseline_ms: torch.forward_ms} : {})}];
  },
};

/**
 * Rows per size; the variant names the growth against 5000 boxes next to N^2's.
 * In the fixed 1000 x 1000 area, 20x the boxes also means ~10x the kept boxes
 * around each box; the last row keeps the density of 5000 boxes instead.
 */
export const nmsGrowthCase: BenchCase = {
  name: 'nms_growth',
  torchvisionCases: GROWTH.full.map(n => `nms_${n}`),
  backends: ['cpu', 'wasm'],
  async run(backend, torchvision, size) {
    const rows: BenchRow[] = [];
    const sizes = GROWTH[size];
    let first = 0;
    for (const n of sizes) {
      const {boxes, scores, idxs} = randomBoxes(n, 20);
      const ours = (await timeMedian(() => nms(boxes, scores, 0.5), {warmup: 1, runs: n > 20000 ? 3 : 7})).median;
      tf.dispose([boxes, scores, idxs]);
      if (n === sizes[0]) first = ours;
      const growth = `x${(ours / first).toFixed(1)} time for x${n / sizes[0]} boxes (N^2: x${(n / sizes[0]) ** 2})`;
      const torch = torchvision[`nms_${n}`];
      rows.push({case: `nms_${n}`, backend, variant: growth, median_ms: ours,
        ...(torch != null ? {baseline: TORCH, baseline_ms: torch.forward_ms} : {})});
    }
    const n = sizes[sizes.length - 1], scale = n / sizes[0];
    const {boxes, scores, idxs} = randomBoxes(n, 30, 1000 * Math.sqrt(scale));
    const ours = (await timeMedian(() => nms(boxes, scores, 0.5), {warmup: 1, runs: 3})).median;
    tf.dispose([boxes, scores, idxs]);
    rows.push({case: `nms_${n}_same_density`, backend,
      variant: `area x${scale}: x${(ours / first).toFixed(1)} time for x${scale} boxes`, median_ms: ours});
    return rows;
  },
};

/**
 * msDeformAttn as in an RT-DETR decoder layer: B=1, Q=300 queries, M=8 heads
 * of C=32 channels, levels 80x80, 40x40, 20x20, P=4 points; beside the same
 * math in plain tf ops (gather-based bilinear, tfjs autodiff) on the same
 * backend (its corner indices included in its time), and Deformable DETR's
 * PyTorch reference (ms_deform_attn_core_pytorch on F.grid_sample).
 * forward+backward takes the gradients of value, samplingLocations and
 * attentionWeights. The composite's gradient goes through tfjs's
 * UnsortedSegmentSum: on webgl it visits every (value row, gathered row)
 * pair, so there it is timed once at 1% of the queries (Q = 3), a lower bound
 * of its full-size time; on cpu it runs tensor ops per value row (at Q = 1
 * already 128 s), so it is not run.
 */
import * as tf from '@tensorflow/tfjs-core';
import {msDeformAttn} from '../../src/index';
import {BenchCase, BenchRow, BenchSize, timeMedian} from '../harness';

const NAME = 'ms_deform_attn_q300_8x32_80-40-20_p4';
const TORCH = 'PyTorch ms_deform_attn_core_pytorch, 1 thread';
/** Batch, queries, heads, channels, points and levels: full (the name's), and tiny (`--tiny`). */
const DIMS: Record<BenchSize, {batch: number, queries: number, heads: number, channels: number, points: number,
  levels: Array<[number, number]>}> = {
  full: {batch: 1, queries: 300, heads: 8, channels: 32, points: 4, levels: [[80, 80], [40, 40], [20, 20]]},
  tiny: {batch: 1, queries: 8, heads: 2, channels: 4, points: 2, levels: [[4, 4], [2, 2], [1, 1]]},
};

export function levelStarts(levels: Array<[number, number]>) {
  return levels.map((_, l) => levels.slice(0, l).reduce((s, [h, w]) => s + h * w, 0));
}

/** Where the composite's corners read, nw ne sw se: rows of value [B S M, C] and in-level masks. */
export type CompositeCorners = {rows: tf.Tensor[], inside: tf.Tensor[]};

function pixelCoordinates(locations: tf.Tensor, levels: Array<[number, number]>) {
  const perLevel = (v: number[]) => tf.tensor(v, [1, 1, 1, levels.length, 1]);
  const height = perLevel(levels.map(s => s[0])), width = perLevel(levels.map(s => s[1]));
  const [lx, ly] = tf.unstack(locations, 5);
  return {x: tf.sub(tf.mul(lx, width), 0.5), y: tf.sub(tf.mul(ly, height), 0.5), height, width};
}

/**
 * The corners of every sample: piecewise constant in the locations, so a
 * tfjs user computes them outside autodiff (tfjs has no stop-gradient, and
 * gather's gradient for its indices is not a float tensor).
 */
export function compositeCorners(
    valueShape: number[], levels: Array<[number, number]>, starts: number[], locations: tf.Tensor): CompositeCorners {
  return tf.tidy(() => {
    const [batch, spatialSize, heads] = valueShape;
    const {x, y, height, width} = pixelCoordinates(locations, levels);
    const x0 = tf.floor(x), y0 = tf.floor(y);
    const start = tf.tensor(starts, [1, 1, 1, levels.length, 1]);
    // Row of (b, position 0, m); float, exact below 2^24.
    const base = tf.add(tf.reshape(tf.range(0, batch * spatialSize * heads, spatialSize * heads), [batch, 1, 1, 1, 1]),
        tf.reshape(tf.range(0, heads), [1, 1, heads, 1, 1]));
    const inside = (c: tf.Tensor, size: tf.Tensor) => tf.logicalAnd(tf.greaterEqual(c, 0), tf.less(c, size));
    const clamp = (c: tf.Tensor, size: tf.Tensor) => tf.minimum(tf.maximum(c, 0), tf.sub(size, 1));
    const corners: CompositeCorners = {rows: [], inside: []};
    for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
      const cx = tf.add(x0, dx), cy = tf.add(y0, dy);
      const position = tf.add(start, tf.add(tf.mul(clamp(cy, height), width), clamp(cx, width)));
      corners.rows.push(tf.cast(tf.add(base, tf.mul(position, heads)), 'int32'));
      corners.inside.push(tf.cast(tf.logicalAnd(inside(cx, width), inside(cy, height)), 'float32'));
    }
    return corners;
  });
}

/**
 * What a tfjs user would write without this package: per corner, one
 * tf.gather of value rows for all levels and points, times its bilinear
 * weight (zero outside the level) and the attention weight, summed; tfjs
 * autodiff gives its gradients.
 */
export function compositeMsDeformAttn(
    value: tf.Tensor4D, levels: Array<[number, number]>, locations: tf.Tensor, weights: tf.Tensor,
    corners: CompositeCorners): tf.Tensor3D {
  return tf.tidy(() => {
    const [batch, spatialSize, heads, channels] = value.shape;
    const {x, y} = pixelCoordinates(locations, levels);
    const fx = tf.sub(x, tf.floor(x)), fy = tf.sub(y, tf.floor(y));
    const gx = tf.sub(1, fx), gy = tf.sub(1, fy);
    const rows = tf.reshape(value, [batch * spatialSize * heads, channels]);
    let sampled: tf.Tensor|null = null;
    for (const [k, [wy, wx]] of [[gy, gx], [gy, fx], [fy, gx], [fy, fx]].entries()) {
      const w = tf.mul(tf.mul(tf.mul(wy, wx), corners.inside[k]), weights);
      const term = tf.mul(tf.gather(rows, corners.rows[k]), tf.expandDims(w, -1));
      sampled = sampled == null ? term : tf.add(sampled, term);
    }
    return tf.reshape(tf.sum(sampled!, [3, 4]), [batch, locations.shape[1]!, heads * channels]) as tf.Tensor3D;
  });
}

export function msDeformAttnProblem(size: BenchSize, queries = DIMS[size].queries) {
  const {batch, heads, channels, points, levels} = DIMS[size];
  const spatialSize = levels.reduce((s, [h, w]) => s + h * w, 0);
  const samples = [batch, queries, heads, levels.length, points];
  return tf.tidy(() => ({
    levels, starts: levelStarts(levels),
    value: tf.randomNormal([batch, spatialSize, heads, channels], 0, 1, 'float32', 0) as tf.Tensor4D,
    locations: tf.randomUniform([...samples, 2], 0, 1, 'float32', 1),
    weights: tf.div(tf.randomUniform(samples, 0, 1, 'float32', 2), levels.length * points),
    dy: tf.randomNormal([batch, queries, heads * channels], 0, 1, 'float32', 3),
  }));
}

export const msDeformAttnCase: BenchCase = {
  name: NAME,
  torchvisionCases: [NAME],
  backends: ['cpu', 'wasm', 'tensorflow', 'webgl', 'webgpu'],
  async run(backend, torchvision, size) {
    const p = msDeformAttnProblem(size);
    const ours = (v: tf.Tensor, l: tf.Tensor, w: tf.Tensor) => msDeformAttn(v as tf.Tensor4D, p.levels, p.starts, l, w);
    const xs = [p.value, p.locations, p.weights];
    const forward = (await timeMedian(() => ours(p.value, p.locations, p.weights))).median;
    const both = (await timeMedian(() => tf.grads(ours)(xs, p.dy))).median;
    const composite = (q: typeof p, grad: boolean) => {
      const corners = compositeCorners(q.value.shape, q.levels, q.starts, q.locations);
      const f = (v: tf.Tensor, l: tf.Tensor, w: tf.Tensor) =>
          compositeMsDeformAttn(v as tf.Tensor4D, q.levels, l, w, corners);
      const out = grad ? tf.grads(f)([q.value, q.locations, q.weights], q.dy) :
          f(q.value, q.locations, q.weights);
      tf.dispose([...corners.rows, ...corners.inside]);
      return out;
    };
    const compForward = (await timeMedian(() => composite(p, false))).median;
    const full = size === 'full';
    let compBoth: number|null = null;
    if (full && backend === 'webgl') {
      const small = msDeformAttnProblem(size, 3);
      compBoth = (await timeMedian(() => composite(small, true), {warmup: 0, runs: 1})).median;
      tf.dispose([small.value, small.locations, small.weights, small.dy]);
    } else if (!(full && backend === 'cpu')) {
      compBoth = (await timeMedian(() => composite(p, true))).median;
    }
    tf.dispose([p.value, p.locations, p.weights, p.dy]);
    const COMPOSITE = 'tf ops composite (gather)';
    const rows: BenchRow[] = [
      {case: NAME, backend, variant: 'forward', median_ms: forward, baseline: COMPOSITE, baseline_ms: compForward},
      {case: NAME, backend, variant: 'forward+backward (3 gradients)', median_ms: both,
        ...compBoth == null ? {baseline: `${COMPOSITE}: not run (tfjs-cpu's gather gradient: minutes)`} : {
          baseline: full && backend === 'webgl' ? `${COMPOSITE} at Q = 3 (1% of the work; a lower bound)` : COMPOSITE,
          baseline_ms: compBoth}},
    ];
    const variants: Array<[string, number, string]> = [['forward', forward, 'forward_ms'],
      ['forward+backward (3 gradients)', both, 'forward_backward_ms']];
    const torch = torchvision[NAME];
    if (torch != null) {
      rows.push(...variants.map(([variant, ms, key]) =>
        ({case: NAME, backend, variant, median_ms: ms, baseline: TORCH, baseline_ms: torch[key]})));
    }
    return rows;
  },
};

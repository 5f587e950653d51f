/**
 * nms on the distribution (x1, y1 in [0, 1000), w, h in [1, 101),
 * iou 0.5) beside tf.image.nonMaxSuppression (tfjs's own kernel: other rules,
 * see SEMANTICS.md) and torchvision; batchedNms with 80 classes; and the
 * growth of nms from 5000 to 100000 boxes. On webgl, the share of nmsAsync
 * spent on the host scan (band download + keptFromBand), in the timed calls
 * at 5000 boxes and at 50000 (the growth case's distribution).
 */
import * as tf from '@tensorflow/tfjs-core';
import {batchedNms, batchedNmsAsync, nms, nmsAsync} from '../../src/index';
import {keptFromBand} from '../../kernels/webgl/nms_band';
import {BenchCase, BenchRow, BenchSize, timeMedian} from '../harness';

const TORCH = 'torchvision 0.14, 1 thread';
const GPU = ['webgl', 'webgpu'];
/** Boxes of nms_5000 and batched_nms_5000x80: full (the names'), and tiny (`--tiny`). */
const BOXES: Record<BenchSize, number> = {full: 5000, tiny: 200};
const GROWTH: Record<BenchSize, number[]> = {full: [5000, 10000, 20000, 50000, 100000], tiny: [100, 200, 400]};
/** Boxes of the second webgl host-scan row: full, and tiny. */
const SCAN_BOXES: Record<BenchSize, number> = {full: 50000, tiny: 400};

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

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/**
 * Splits webgl nmsAsync calls into GPU wait and host scan from the backend's
 * side, with the kernel untouched: wraps read (the band's readback), the
 * fence that read awaits and runWebGLProgram. Per call: the download is each
 * read from its fence on; keptFromBand is run again, after the call, on each
 * band read; the rest of the host time after each read (until the next
 * program, a retry with a wider band, or the call's end) is `after`.
 * Time calls through `time`; `restore` unwraps.
 */
function hostScanMeter() {
  type Backend = Record<string, (...a: unknown[]) => unknown> & {gpgpu: Record<string, (...a: unknown[]) => unknown>};
  const webgl = tf.backend() as unknown as Backend;
  const original = {read: webgl.read, runWebGLProgram: webgl.runWebGLProgram};
  const fence = webgl.gpgpu.createAndWaitForFence;
  let events: Array<[string, number]> | null = null;
  let bands: Float32Array[] = [];
  const mark = (kind: string) => events?.push([kind, performance.now()]);
  webgl.read = async function(this: unknown, ...a: unknown[]) {
    mark('read');
    try {
      const values = await original.read.apply(this, a) as Float32Array;
      if (events != null) bands.push(values);
      return values;
    } finally {
      mark('readEnd');
    }
  };
  webgl.gpgpu.createAndWaitForFence = async function(this: unknown, ...a: unknown[]) {
    await fence.apply(this, a);
    mark('fenceEnd');
  };
  webgl.runWebGLProgram = function(this: unknown, ...a: unknown[]) {
    mark('run');
    return original.runWebGLProgram.apply(this, a);
  };
  const calls: Array<{total: number, gpuWait: number, download: number, kept: number, after: number}> = [];
  return {
    async time(n: number, fn: () => Promise<tf.Tensor>) {
      [events, bands] = [[['start', performance.now()]], []];
      const out = await fn();
      mark('end');
      const call = {total: events[events.length - 1][1] - events[0][1], gpuWait: 0, download: 0, kept: 0, after: 0};
      let readAt = 0, fenceAt = 0, hostFrom: number | null = null;
      for (const [kind, t] of events) {
        if (kind === 'read') readAt = t;
        if (kind === 'fenceEnd') [fenceAt, call.gpuWait] = [t, call.gpuWait + t - readAt];
        if (kind === 'readEnd') [call.download, hostFrom] = [call.download + t - fenceAt, t];
        if ((kind === 'run' || kind === 'end') && hostFrom != null) [call.after, hostFrom] = [call.after + t - hostFrom, null];
      }
      events = null;
      for (const band of bands) {
        const start = performance.now();
        keptFromBand(band, n, band.length / n - 3);
        call.kept += performance.now() - start;
      }
      calls.push(call);
      return out;
    },
    /** Medians over the calls after the first (shader compiles): ms, band reads and the host scan's share. */
    summary() {
      const timed = calls.length > 1 ? calls.slice(1) : calls;
      const of = (f: (c: typeof calls[0]) => number) => median(timed.map(f));
      return {total: of(c => c.total), gpuWait: of(c => c.gpuWait), download: of(c => c.download),
        kept: of(c => c.kept), after: of(c => c.after), share: of(c => (c.download + c.kept) / c.total),
        reads: bands.length};
    },
    restore() {
      Object.assign(webgl, original);
      webgl.gpgpu.createAndWaitForFence = fence;
    },
  };
}

function hostScanRow(n: number, backend: string, parts: ReturnType<ReturnType<typeof hostScanMeter>['summary']>) {
  const ms = (v: number) => v.toFixed(1);
  return {case: `nms_${n}`, backend, median_ms: parts.total, variant: `nmsAsync host scan ` +
      `${(100 * parts.share).toFixed(1)}% of the call: band download ${ms(parts.download)} ms + keptFromBand ` +
      `${ms(parts.kept)} ms (GPU wait ${ms(parts.gpuWait)} ms, ${parts.reads} band read(s), all host time after ` +
      `them ${ms(parts.after)} ms)`};
}

export const nmsCase: BenchCase = {
  name: 'nms_5000',
  torchvisionCases: ['nms_5000'],
  backends: ['cpu', 'wasm', 'tensorflow', ...GPU],
  async run(backend, torchvision, size) {
    const {boxes, scores, idxs} = randomBoxes(BOXES[size], 0);
    // GPU backends: the async forms, which do not block on the read-back.
    const gpu = GPU.includes(backend);
    const meter = backend === 'webgl' ? hostScanMeter() : null;
    const ours = (await timeMedian(() => meter ? meter.time(BOXES[size], () => nmsAsync(boxes, scores, 0.5)) :
        gpu ? nmsAsync(boxes, scores, 0.5) : nms(boxes, scores, 0.5), {runs: 15})).median;
    meter?.restore();
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
    if (meter != null) {
      rows.push(hostScanRow(BOXES[size], backend, meter.summary()));
      const many = randomBoxes(SCAN_BOXES[size], 20);
      const manyMeter = hostScanMeter();
      // Its first call (which summary() drops) apart: past 5 s, timeMedian's first run is its only one.
      tf.dispose(await manyMeter.time(SCAN_BOXES[size], () => nmsAsync(many.boxes, many.scores, 0.5)));
      await timeMedian(() => manyMeter.time(SCAN_BOXES[size], () => nmsAsync(many.boxes, many.scores, 0.5)),
          {warmup: 1, runs: 3});
      manyMeter.restore();
      tf.dispose([many.boxes, many.scores, many.idxs]);
      rows.push(hostScanRow(SCAN_BOXES[size], backend, manyMeter.summary()));
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

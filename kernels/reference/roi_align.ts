/**
 * Reference math of torchvision's roi_align (0.14.1 CPU kernel) on channelsLast
 * typed arrays, shared by the cpu kernel and the host path of tfjs-node.
 *
 * Sample positions are torchvision's float32 arithmetic, step by step
 * (Math.fround). The four bilinear weights of a sample are a row weight times
 * a column weight, and the in-range test is per axis too, so every bin is a
 * short list of rows and one of columns with summed weights ("taps"): the
 * channel loop then runs over contiguous memory once per (row, column) pair.
 *
 * Non-finite and huge coordinates: only the samples that can fall inside
 * [-1, size] are visited (their index range is solved for, then each sample is
 * tested exactly as torchvision does), so the work is bounded by the map size;
 * the adaptive grid is capped at MAX_ADAPTIVE_GRID per axis (torchvision would
 * overflow int there); an RoI whose batch index is NaN or outside [0, N) gives
 * zeros and no gradient.
 */
import {MAX_ADAPTIVE_GRID} from '../constants.ts';

type Floats = ArrayLike<number> & {[i: number]: number};
const f = Math.fround;

export interface RoiAlignParams {
  pooledHeight: number;
  pooledWidth: number;
  spatialScale: number;
  samplingRatio: number;
  aligned: boolean;
}

/** One axis of one RoI: first sample offset, bin size and samples per bin (float32 values). */
export interface RoiAxis { start: number; bin: number; grid: number; }

export function roiAlignAxis(
    c1: number, c2: number, scale: number, pooled: number, samplingRatio: number,
    aligned: boolean): RoiAxis {
  const offset = aligned ? 0.5 : 0;
  const start = f(f(c1 * f(scale)) - offset);
  const end = f(f(c2 * f(scale)) - offset);
  let size = f(end - start);
  if (!aligned && size < 1) size = 1;  // NaN stays NaN, as std::max(NaN, 1)
  const bin = f(size / pooled);
  return {start, bin, grid: samplingRatio > 0 ? samplingRatio : adaptiveGrid(bin)};
}

/** ceil(bin) as torchvision, with NaN and negatives giving no samples and a cap. */
export function adaptiveGrid(bin: number): number {
  const g = Math.ceil(bin);
  return g > 0 ? Math.min(g, MAX_ADAPTIVE_GRID) : 0;
}

/** Position of sample i of bin p: start + p bin + (i + .5) bin / grid in float32. */
export function samplePosition(axis: RoiAxis, p: number, i: number): number {
  return f(f(axis.start + f(p * axis.bin)) + f(f((i + 0.5) * axis.bin) / axis.grid));
}

/**
 * Indices [lo, hi] of the samples of bin p that can lie in [-1, size] (a
 * superset by one on each side; callers test each sample exactly).
 * hi < lo when there are none.
 */
export function sampleRange(axis: RoiAxis, p: number, size: number): [number, number] {
  const {bin, grid} = axis;
  const base = f(axis.start + f(p * bin));
  if (!(grid > 0) || !Number.isFinite(base) || !Number.isFinite(bin)) return [0, -1];
  if (bin === 0) return base >= -1 && base <= size ? [0, grid - 1] : [0, -1];
  const t1 = (-1 - base) / bin * grid - 0.5;
  const t2 = (size - base) / bin * grid - 0.5;
  const lo = Math.max(0, Math.floor(Math.min(t1, t2)) - 1);
  const hi = Math.min(grid - 1, Math.ceil(Math.max(t1, t2)) + 1);
  return [lo, hi];
}

/** Per bin of one axis: the rows (or columns) its samples touch and their summed weights. */
export interface Taps { start: Int32Array; index: Int32Array; weight: Float64Array; }

/**
 * The taps of every bin of one axis of `size` pixels. A sample outside
 * [-1, size] adds nothing (it still counts in the average); inside, it is
 * clamped to >= 0 and split between floor and floor + 1 (both size - 1 at the
 * far edge), as torchvision's bilinear_interpolate.
 */
export function axisTaps(axis: RoiAxis, pooled: number, size: number): Taps {
  const start = new Int32Array(pooled + 1);
  const index: number[] = [], weight: number[] = [];
  const dense = new Float64Array(size);
  for (let p = 0; p < pooled; p++) {
    start[p] = index.length;
    const [lo, hi] = sampleRange(axis, p, size);
    let first = size, last = -1;
    for (let i = lo; i <= hi; i++) {
      let y = samplePosition(axis, p, i);
      if (!(y >= -1 && y <= size)) continue;
      if (y <= 0) y = 0;
      let low = Math.floor(y), high = low + 1;
      if (low >= size - 1) {
        low = high = size - 1;
        y = low;
      }
      const l = f(y - low);
      dense[low] += f(1 - l);
      dense[high] += l;
      first = Math.min(first, low);
      last = Math.max(last, high);
    }
    for (let r = first; r <= last; r++) {
      if (dense[r] !== 0) {
        index.push(r);
        weight.push(dense[r]);
        dense[r] = 0;
      }
    }
  }
  start[pooled] = index.length;
  return {start, index: Int32Array.from(index), weight: Float64Array.from(weight)};
}

/** Everything one RoI needs: its image, row and column taps and 1 / (samples per bin). */
export interface RoiAlignRoi { n: number; rows: Taps; cols: Taps; invCount: number; }

/** The RoI at `k`, or null when it samples nothing (bad batch index, empty grid, empty map). */
export function roiAlignRoi(
    boxes: ArrayLike<number>, k: number, batch: number, height: number, width: number,
    p: RoiAlignParams): RoiAlignRoi|null {
  const b = boxes[k * 5];
  if (!(b > -1 && b < batch) || height === 0 || width === 0) return null;
  const {pooledHeight: ph, pooledWidth: pw, spatialScale: s, samplingRatio: sr, aligned} = p;
  const y = roiAlignAxis(boxes[k * 5 + 2], boxes[k * 5 + 4], s, ph, sr, aligned);
  const x = roiAlignAxis(boxes[k * 5 + 1], boxes[k * 5 + 3], s, pw, sr, aligned);
  if (!(y.grid > 0 && x.grid > 0)) return null;
  return {
    n: Math.trunc(b),
    rows: axisTaps(y, ph, height),
    cols: axisTaps(x, pw, width),
    invCount: 1 / f(y.grid * x.grid),
  };
}

/**
 * Calls visit(k, bin, pairs, offsets, weights) for every bin (bin = ph * PW +
 * pw) of every RoI k that samples anything: its `pairs` (row, column) taps are
 * the pixels (n H + h) W + w of x [N, H, W, C], times `stride`, at offsets[i]
 * (int32) with weights[i] (1/count included). Shared with ps_roi_align.
 */
export function forEachAlignBin(
    boxes: ArrayLike<number>, numBoxes: number, p: RoiAlignParams, xShape: number[], stride: number,
    visit: (k: number, bin: number, pairs: number, offsets: Int32Array, weights: Float64Array) => void) {
  const [batch, height, width] = xShape;
  const {pooledHeight, pooledWidth} = p;
  let offsets = new Int32Array(16), weights = new Float64Array(16);
  for (let k = 0; k < numBoxes; k++) {
    const roi = roiAlignRoi(boxes, k, batch, height, width, p);
    if (roi == null) continue;
    const {n, rows, cols, invCount} = roi;
    for (let ph = 0; ph < pooledHeight; ph++) {
      for (let pw = 0; pw < pooledWidth; pw++) {
        const size = (rows.start[ph + 1] - rows.start[ph]) * (cols.start[pw + 1] - cols.start[pw]);
        if (size > offsets.length) {
          offsets = new Int32Array(size);
          weights = new Float64Array(size);
        }
        let pairs = 0;
        for (let a = rows.start[ph]; a < rows.start[ph + 1]; a++) {
          const rowBase = (n * height + rows.index[a]) * width;
          const wy = rows.weight[a] * invCount;
          for (let b = cols.start[pw]; b < cols.start[pw + 1]; b++) {
            offsets[pairs] = (rowBase + cols.index[b]) * stride;
            weights[pairs++] = wy * cols.weight[b];
          }
        }
        visit(k, ph * pooledWidth + pw, pairs, offsets, weights);
      }
    }
  }
}

/** out[K, ph, pw, C] (zero-filled) from x[N, H, W, C] and boxes[K, 5]. */
export function roiAlignValues(
    x: ArrayLike<number>, xShape: number[], boxes: ArrayLike<number>, numBoxes: number,
    p: RoiAlignParams, out: Floats) {
  const channels = xShape[3], bins = p.pooledHeight * p.pooledWidth;
  forEachAlignBin(boxes, numBoxes, p, xShape, channels, (k, bin, pairs, offsets, weights) => {
    const o = (k * bins + bin) * channels;
    // Up to eight taps per pass over the channels: one read-modify-write of out per pass.
    for (let i = 0; i < pairs; i += 8) {
      const n = Math.min(8, pairs - i);
      if (n === 8) {
        const a = offsets[i], b = offsets[i + 1], c = offsets[i + 2], d = offsets[i + 3];
        const e = offsets[i + 4], f = offsets[i + 5], g = offsets[i + 6], h = offsets[i + 7];
        const wa = weights[i], wb = weights[i + 1], wc = weights[i + 2], wd = weights[i + 3];
        const we = weights[i + 4], wf = weights[i + 5], wg = weights[i + 6], wh = weights[i + 7];
        for (let ch = 0; ch < channels; ch++) {
          out[o + ch] += wa * x[a + ch] + wb * x[b + ch] + wc * x[c + ch] + wd * x[d + ch] +
              we * x[e + ch] + wf * x[f + ch] + wg * x[g + ch] + wh * x[h + ch];
        }
      } else {
        addTaps(out, o, x, offsets, weights, i, n, channels);
      }
    }
  });
}

/** out[o + ch] += sum of the n < 8 taps from i on (four at a time). */
function addTaps(
    out: Floats, o: number, x: ArrayLike<number>, offsets: Int32Array, weights: Float64Array,
    i: number, n: number, channels: number) {
  if (n >= 4) {
    const a = offsets[i], b = offsets[i + 1], c = offsets[i + 2], d = offsets[i + 3];
    const wa = weights[i], wb = weights[i + 1], wc = weights[i + 2], wd = weights[i + 3];
    for (let ch = 0; ch < channels; ch++) {
      out[o + ch] += wa * x[a + ch] + wb * x[b + ch] + wc * x[c + ch] + wd * x[d + ch];
    }
    i += 4;
    n -= 4;
  }
  if (n === 3) {
    const a = offsets[i], b = offsets[i + 1], c = offsets[i + 2];
    const wa = weights[i], wb = weights[i + 1], wc = weights[i + 2];
    for (let ch = 0; ch < channels; ch++) out[o + ch] += wa * x[a + ch] + wb * x[b + ch] + wc * x[c + ch];
  } else if (n === 2) {
    const a = offsets[i], b = offsets[i + 1], wa = weights[i], wb = weights[i + 1];
    for (let ch = 0; ch < channels; ch++) out[o + ch] += wa * x[a + ch] + wb * x[b + ch];
  } else if (n === 1) {
    const a = offsets[i], wa = weights[i];
    for (let ch = 0; ch < channels; ch++) out[o + ch] += wa * x[a + ch];
  }
}

/** dx[N, H, W, C] (zero-filled) += the bilinear weights of every sample times dy[K, ph, pw, C]. */
export function roiAlignGradValues(
    dy: ArrayLike<number>, boxes: ArrayLike<number>, numBoxes: number, p: RoiAlignParams,
    xShape: number[], dx: Floats) {
  const channels = xShape[3], bins = p.pooledHeight * p.pooledWidth;
  forEachAlignBin(boxes, numBoxes, p, xShape, channels, (k, bin, pairs, offsets, weights) => {
    const o = (k * bins + bin) * channels;
    let i = 0;
    for (; i + 4 <= pairs; i += 4) {
      const a = offsets[i], b = offsets[i + 1], c = offsets[i + 2], d = offsets[i + 3];
      const wa = weights[i], wb = weights[i + 1], wc = weights[i + 2], wd = weights[i + 3];
      for (let ch = 0; ch < channels; ch++) {
        const g = dy[o + ch];
        dx[a + ch] += wa * g;
        dx[b + ch] += wb * g;
        dx[c + ch] += wc * g;
        dx[d + ch] += wd * g;
      }
    }
    for (; i < pairs; i++) {
      const a = offsets[i], wa = weights[i];
      for (let ch = 0; ch < channels; ch++) dx[a + ch] += wa * dy[o + ch];
    }
  });
}

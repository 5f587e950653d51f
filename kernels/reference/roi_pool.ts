/**
 * Reference math of torchvision's roi_pool (0.14.1 CPU kernel) on channelsLast
 * typed arrays, shared by the cpu kernel and the host path of tfjs-node.
 *
 * Box corners are rounded half away from zero after scaling (float32); the
 * RoI is end - start + 1 pixels (at least 1); bin ph covers rows
 * [floor(ph * bin), ceil((ph + 1) * bin)) + start, clipped to [0, H]. The max
 * starts at -FLT_MAX and takes strictly greater values in row-major order, so
 * the first maximum wins; an empty bin gives 0 and no gradient. The backward
 * pass recomputes that argmax from x and sends each bin's dy to it.
 *
 * Non-finite and huge coordinates: rounded corners are clamped to +-2^24 (a
 * NaN corner gives empty bins), and an RoI whose batch index is NaN or outside
 * [0, N) gives zeros and no gradient.
 */
import {FLT_MAX, MAX_ROUNDED_COORD} from '../constants.ts';
type Floats = ArrayLike<number> & {[i: number]: number};
const f = Math.fround;


export interface RoiPoolParams { pooledHeight: number; pooledWidth: number; spatialScale: number; }

/** round() of C: half away from zero; clamped to +-2^24, NaN stays NaN. */
export function roundCoord(v: number): number {
  const r = v < 0 ? -Math.round(-v) : Math.round(v);
  return Math.min(Math.max(r, -MAX_ROUNDED_COORD), MAX_ROUNDED_COORD);
}

/**
 * Bin bounds of one axis: [lo[p], hi[p]) for every bin p (lo = hi: empty).
 * `plusOne` is roi_pool's end - start + 1 (ps_roi_pool has none); `clipTo` the
 * exclusive upper clip (H for roi_pool).
 */
export function poolBins(
    c1: number, c2: number, scale: number, pooled: number, size: number, plusOne: boolean,
    clipTo: number): {lo: Int32Array, hi: Int32Array} {
  const lo = new Int32Array(pooled), hi = new Int32Array(pooled);
  const start = roundCoord(f(c1 * f(scale))), end = roundCoord(f(c2 * f(scale)));
  if (Number.isNaN(start) || Number.isNaN(end) || size === 0) return {lo, hi};
  const roi = Math.max(end - start + (plusOne ? 1 : 0), 1);
  const bin = f(f(roi) / pooled);
  for (let p = 0; p < pooled; p++) {
    lo[p] = Math.min(Math.max(Math.floor(f(p * bin)) + start, 0), clipTo);
    hi[p] = Math.min(Math.max(Math.ceil(f((p + 1) * bin)) + start, 0), clipTo);
  }
  return {lo, hi};
}

function batchIndex(b: number, batch: number): number {
  return b > -1 && b < batch ? Math.trunc(b) : -1;
}

/**
 * Visits every bin of every RoI with its image, bounds and output offset;
 * `visit` gets (n, y0, y1, x0, x1, o) with o the bin's offset in [K, PH, PW, C].
 */
function forEachBin(
    boxes: ArrayLike<number>, numBoxes: number, p: RoiPoolParams, xShape: number[],
    visit: (n: number, y0: number, y1: number, x0: number, x1: number, o: number) => void) {
  const [batch, height, width, channels] = xShape;
  const {pooledHeight: ph, pooledWidth: pw, spatialScale: s} = p;
  for (let k = 0; k < numBoxes; k++) {
    const n = batchIndex(boxes[k * 5], batch);
    if (n < 0) continue;
    const rows = poolBins(boxes[k * 5 + 2], boxes[k * 5 + 4], s, ph, height, true, height);
    const cols = poolBins(boxes[k * 5 + 1], boxes[k * 5 + 3], s, pw, width, true, width);
    for (let i = 0; i < ph; i++) {
      for (let j = 0; j < pw; j++) {
        if (rows.hi[i] <= rows.lo[i] || cols.hi[j] <= cols.lo[j]) continue;
        visit(n, rows.lo[i], rows.hi[i], cols.lo[j], cols.hi[j], ((k * ph + i) * pw + j) * channels);
      }
    }
  }
}

/** Max and argmax (h * W + w) of one bin for every channel, into out/arg at o. */
function binMax(
    x: ArrayLike<number>, xShape: number[], n: number, y0: number, y1: number, x0: number,
    x1: number, out: Floats, o: number, arg: Int32Array, a: number) {
  const [, height, width, channels] = xShape;
  for (let c = 0; c < channels; c++) {
    out[o + c] = -FLT_MAX;
    arg[a + c] = -1;
  }
  for (let h = y0; h < y1; h++) {
    for (let w = x0; w < x1; w++) {
      const at = ((n * height + h) * width + w) * channels;
      const index = h * width + w;
      for (let c = 0; c < channels; c++) {
        const v = x[at + c];
        if (v > out[o + c]) {
          out[o + c] = v;
          arg[a + c] = index;
        }
      }
    }
  }
}

/** out[K, PH, PW, C] (zero-filled) from x[N, H, W, C] and boxes[K, 5]. */
export function roiPoolValues(
    x: ArrayLike<number>, xShape: number[], boxes: ArrayLike<number>, numBoxes: number,
    p: RoiPoolParams, out: Floats) {
  const arg = new Int32Array(xShape[3]);
  forEachBin(boxes, numBoxes, p, xShape, (n, y0, y1, x0, x1, o) =>
      binMax(x, xShape, n, y0, y1, x0, x1, out, o, arg, 0));
}

/** dx[N, H, W, C] (zero-filled): each bin's dy goes to its argmax in x. */
export function roiPoolGradValues(
    dy: ArrayLike<number>, x: ArrayLike<number>, xShape: number[], boxes: ArrayLike<number>,
    numBoxes: number, p: RoiPoolParams, dx: Floats) {
  const [, height, width, channels] = xShape;
  const max = new Float32Array(channels), arg = new Int32Array(channels);
  forEachBin(boxes, numBoxes, p, xShape, (n, y0, y1, x0, x1, o) => {
    binMax(x, xShape, n, y0, y1, x0, x1, max, 0, arg, 0);
    for (let c = 0; c < channels; c++) {
      if (arg[c] >= 0) dx[(n * height * width + arg[c]) * channels + c] += dy[o + c];
    }
  });
}

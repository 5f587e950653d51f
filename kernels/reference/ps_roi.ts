/**
 * Reference math of torchvision's position-sensitive RoI ops (0.14.1 CPU
 * kernels) on channelsLast typed arrays, shared by the cpu kernels and the
 * host path of tfjs-node. Bin (ph, pw) of output channel c reads input
 * channel (c * PH + ph) * PW + pw.
 *
 * ps_roi_align: roi_align's sampling with the -0.5 shift always and never the
 * >= 1 size clamp. torchvision divides by grid_h * grid_w without max(., 1),
 * which gives NaN (0 / 0) for an adaptive grid of 0 (a degenerate box); we
 * give 0 there, as for every RoI that samples nothing.
 *
 * ps_roi_pool: corners rounded half away from zero, roi = max(end - start, 1)
 * (no + 1), the mean of each bin. torchvision clips the bin bounds to
 * [0, H - 1] in the forward pass but to [0, H] in the backward pass (so the
 * last row and column never reach the output yet get gradient, divided by the
 * larger backward area); we reproduce both, for gradient parity.
 */
import {forEachAlignBin} from './roi_align.ts';
import {poolBins} from './roi_pool.ts';

type Floats = ArrayLike<number> & {[i: number]: number};

export interface PsRoiAlignParams {
  pooledHeight: number;
  pooledWidth: number;
  spatialScale: number;
  samplingRatio: number;
}

export interface PsRoiPoolParams { pooledHeight: number; pooledWidth: number; spatialScale: number; }

/** out[K, PH, PW, Cout] (zero-filled) from x[N, H, W, Cout * PH * PW]. */
export function psRoiAlignValues(
    x: ArrayLike<number>, xShape: number[], boxes: ArrayLike<number>, numBoxes: number,
    p: PsRoiAlignParams, out: Floats) {
  const channels = xShape[3];
  const bins = p.pooledHeight * p.pooledWidth, outChannels = channels / bins;
  forEachAlignBin(boxes, numBoxes, {...p, aligned: true}, xShape, 1, (k, bin, pairs, offsets, weights) => {
    const o = (k * bins + bin) * outChannels;
    for (let c = 0; c < outChannels; c++) {
      const cin = c * bins + bin;
      let sum = 0;
      for (let i = 0; i < pairs; i++) sum += weights[i] * x[offsets[i] * channels + cin];
      out[o + c] = sum;
    }
  });
}

/** dx[N, H, W, C] (zero-filled) from dy[K, PH, PW, Cout]. */
export function psRoiAlignGradValues(
    dy: ArrayLike<number>, boxes: ArrayLike<number>, numBoxes: number, p: PsRoiAlignParams,
    xShape: number[], dx: Floats) {
  const channels = xShape[3];
  const bins = p.pooledHeight * p.pooledWidth, outChannels = channels / bins;
  forEachAlignBin(boxes, numBoxes, {...p, aligned: true}, xShape, 1, (k, bin, pairs, offsets, weights) => {
    const o = (k * bins + bin) * outChannels;
    for (let c = 0; c < outChannels; c++) {
      const cin = c * bins + bin, g = dy[o + c];
      for (let i = 0; i < pairs; i++) dx[offsets[i] * channels + cin] += weights[i] * g;
    }
  });
}

/**
 * Visits every non-empty bin of every RoI: visit(n, y0, y1, x0, x1, k, bin),
 * bounds clipped to [0, size - 1] (forward) or [0, size] (backward).
 */
function forEachPoolBin(
    boxes: ArrayLike<number>, numBoxes: number, p: PsRoiPoolParams, xShape: number[], backward: boolean,
    visit: (n: number, y0: number, y1: number, x0: number, x1: number, k: number, bin: number) => void) {
  const [batch, height, width] = xShape;
  const {pooledHeight: ph, pooledWidth: pw, spatialScale: s} = p;
  const clip = backward ? 0 : 1;
  for (let k = 0; k < numBoxes; k++) {
    const b = boxes[k * 5];
    if (!(b > -1 && b < batch)) continue;
    const rows = poolBins(boxes[k * 5 + 2], boxes[k * 5 + 4], s, ph, height, false, height - clip);
    const cols = poolBins(boxes[k * 5 + 1], boxes[k * 5 + 3], s, pw, width, false, width - clip);
    for (let i = 0; i < ph; i++) {
      for (let j = 0; j < pw; j++) {
        if (rows.hi[i] > rows.lo[i] && cols.hi[j] > cols.lo[j]) {
          visit(Math.trunc(b), rows.lo[i], rows.hi[i], cols.lo[j], cols.hi[j], k, i * pw + j);
        }
      }
    }
  }
}

/** out[K, PH, PW, Cout] (zero-filled): the mean of each bin of its input channel. */
export function psRoiPoolValues(
    x: ArrayLike<number>, xShape: number[], boxes: ArrayLike<number>, numBoxes: number,
    p: PsRoiPoolParams, out: Floats) {
  const [, height, width, channels] = xShape;
  const bins = p.pooledHeight * p.pooledWidth, outChannels = channels / bins;
  forEachPoolBin(boxes, numBoxes, p, xShape, false, (n, y0, y1, x0, x1, k, bin) => {
    const area = (y1 - y0) * (x1 - x0);
    for (let c = 0; c < outChannels; c++) {
      const cin = c * bins + bin;
      let sum = 0;
      for (let h = y0; h < y1; h++) {
        for (let w = x0; w < x1; w++) sum += x[((n * height + h) * width + w) * channels + cin];
      }
      out[(k * bins + bin) * outChannels + c] = sum / area;
    }
  });
}

/** dx[N, H, W, C] (zero-filled): dy / area spread over each bin (backward clipping). */
export function psRoiPoolGradValues(
    dy: ArrayLike<number>, boxes: ArrayLike<number>, numBoxes: number, p: PsRoiPoolParams,
    xShape: number[], dx: Floats) {
  const [, height, width, channels] = xShape;
  const bins = p.pooledHeight * p.pooledWidth, outChannels = channels / bins;
  forEachPoolBin(boxes, numBoxes, p, xShape, true, (n, y0, y1, x0, x1, k, bin) => {
    const area = (y1 - y0) * (x1 - x0);
    for (let c = 0; c < outChannels; c++) {
      const cin = c * bins + bin, g = dy[(k * bins + bin) * outChannels + c] / area;
      for (let h = y0; h < y1; h++) {
        for (let w = x0; w < x1; w++) dx[((n * height + h) * width + w) * channels + cin] += g;
      }
    }
  });
}

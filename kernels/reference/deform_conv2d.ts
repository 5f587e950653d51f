/**
 * Reference math of torchvision's deform_conv2d (0.14.1 CPU kernel) on
 * channelsLast typed arrays, shared by the cpu kernel and the host path of
 * tfjs-node. Layouts as in src/kernel_names.ts (DeformConv2d); weight HWIO.
 *
 * Output positions p = (b, oy, ox) are processed in chunks of at most
 * chunkPositions(...) rows, so the temporary "columns" stay within
 * COLUMN_BUDGET floats whatever the input size (torchvision: 32 images).
 * A column row holds, per weight group g, kernel point ij and channel c of
 * that group, mask * bilinear(x, sample(p, ij, offset group of c)); then
 *   forward   out[p, g]   = col[p, g] . W[g]          (GEMM)
 *   backward  dcol[p, g]  = dy[p, g] . W[g]^T         (GEMM)
 *             dx, doffset, dmask from dcol, one pass over the samples
 *             dW[g]      += col[., g]^T . dy[., g]     (GEMM)
 *
 * Sampling is torchvision's: y = (oy sh - ph + i dh) + offset_y in float32;
 * the value is 0 unless -1 < y < H and -1 < x < W, and corners outside the
 * map count 0. The offset gradient takes the same floor corners without the
 * -1 cut-off (torchvision's get_coordinate_weight). Non-finite positions
 * sample nothing and get no gradient (torchvision's behaviour is undefined).
 */
import {env} from '@tensorflow/tfjs-core';
import {DeformConv2dAttrs} from '../../src/kernel_names.ts';

type Floats = ArrayLike<number> & {[i: number]: number};

/** Floats of columns per chunk (4 MiB; the backward pass holds two such buffers). */
export const COLUMN_BUDGET = 1 << 20;

/**
 * The tfjs flag holding the budget every backend's kernels use (default
 * COLUMN_BUDGET); specs lower it with `tf.env().set` to run many chunks on small inputs.
 */
export const COLUMN_BUDGET_FLAG = 'VISION_OPS_DEFORM_COLUMN_BUDGET';
env().registerFlag(COLUMN_BUDGET_FLAG, () => COLUMN_BUDGET);

export function columnBudget(): number {
  return env().getNumber(COLUMN_BUDGET_FLAG);
}

export interface DeformGeometry {
  batch: number; height: number; width: number; channels: number;
  outHeight: number; outWidth: number; outChannels: number;
  kernelHeight: number; kernelWidth: number;
  strideH: number; strideW: number; padH: number; padW: number; dilationH: number; dilationW: number;
  groups: number; offsetGroups: number; useMask: boolean;
}

export function deformOutputSize(size: number, kernel: number, stride: number, pad: number, dilation: number) {
  return Math.floor((size + 2 * pad - (dilation * (kernel - 1) + 1)) / stride) + 1;
}

export function deformGeometry(xShape: number[], weightShape: number[], p: DeformConv2dAttrs): DeformGeometry {
  const [batch, height, width, channels] = xShape;
  const [kernelHeight, kernelWidth, , outChannels] = weightShape;
  const [strideH, strideW] = p.strides, [padH, padW] = p.pad, [dilationH, dilationW] = p.dilations;
  return {
    batch, height, width, channels, outChannels, kernelHeight, kernelWidth,
    outHeight: deformOutputSize(height, kernelHeight, strideH, padH, dilationH),
    outWidth: deformOutputSize(width, kernelWidth, strideW, padW, dilationW),
    strideH, strideW, padH, padW, dilationH, dilationW,
    groups: p.groups, offsetGroups: p.offsetGroups, useMask: p.useMask,
  };
}

/** Column row length: Cin * KH * KW. */
export function columnLength(g: DeformGeometry) {
  return g.channels * g.kernelHeight * g.kernelWidth;
}

/** Output positions per chunk: as many as fit COLUMN_BUDGET (at least one). */
export function chunkPositions(positions: number, rowLength: number, budget = columnBudget()) {
  return Math.max(1, Math.min(positions, Math.floor(budget / Math.max(1, rowLength))));
}

/**
 * One sample: the four corners' pixel indices (-1 when outside the map), their
 * bilinear weights, the fractional parts, and whether the sample is inside the
 * forward cut-off (-1 < y < H, -1 < x < W).
 */
interface Sample {
  c00: number; c01: number; c10: number; c11: number;
  w00: number; w01: number; w10: number; w11: number;
  ly: number; lx: number; inRange: boolean;
}

function newSample(): Sample {
  return {c00: -1, c01: -1, c10: -1, c11: -1, w00: 0, w01: 0, w10: 0, w11: 0, ly: 0, lx: 0, inRange: false};
}

/** Fills s for sample position (y, x) of image b; false when the position is not finite. */
function sampleAt(s: Sample, y: number, x: number, b: number, height: number, width: number): boolean {
  s.c00 = s.c01 = s.c10 = s.c11 = -1;
  s.w00 = s.w01 = s.w10 = s.w11 = 0;
  s.inRange = false;
  if (!Number.isFinite(y) || !Number.isFinite(x)) return false;
  const y0 = Math.floor(y), x0 = Math.floor(x);
  const ly = Math.fround(y - y0), lx = Math.fround(x - x0);
  s.ly = ly;
  s.lx = lx;
  const hy = 1 - ly, hx = 1 - lx;
  const yIn0 = y0 >= 0 && y0 < height, yIn1 = y0 + 1 >= 0 && y0 + 1 < height;
  const xIn0 = x0 >= 0 && x0 < width, xIn1 = x0 + 1 >= 0 && x0 + 1 < width;
  const row0 = (b * height + y0) * width, row1 = row0 + width;
  if (yIn0 && xIn0) s.c00 = row0 + x0;
  if (yIn0 && xIn1) s.c01 = row0 + x0 + 1;
  if (yIn1 && xIn0) s.c10 = row1 + x0;
  if (yIn1 && xIn1) s.c11 = row1 + x0 + 1;
  s.w00 = hy * hx;
  s.w01 = hy * lx;
  s.w10 = ly * hx;
  s.w11 = ly * lx;
  s.inRange = y > -1 && y < height && x > -1 && x < width;
  return true;
}

/**
 * Calls visit(p, og, ij, s, m) for every output position p in [p0, p1),
 * offset group og and kernel point ij, with the sample s and the mask value m.
 */
function forEachSample(
    offset: ArrayLike<number>, mask: ArrayLike<number>, g: DeformGeometry, p0: number, p1: number,
    visit: (p: number, og: number, ij: number, s: Sample, m: number, finite: boolean) => void) {
  const {height, width, outHeight, outWidth, kernelHeight: kh, kernelWidth: kw, offsetGroups} = g;
  const kk = kh * kw;
  const s = newSample();
  for (let p = p0; p < p1; p++) {
    const ox = p % outWidth, rest = (p - ox) / outWidth;
    const oy = rest % outHeight, b = (rest - oy) / outHeight;
    for (let og = 0; og < offsetGroups; og++) {
      const offRow = (p * offsetGroups + og) * 2 * kk, maskRow = (p * offsetGroups + og) * kk;
      for (let i = 0; i < kh; i++) {
        const baseY = oy * g.strideH - g.padH + i * g.dilationH;
        for (let j = 0; j < kw; j++) {
          const ij = i * kw + j;
          const y = Math.fround(baseY + offset[offRow + 2 * ij]);
          const x = Math.fround(ox * g.strideW - g.padW + j * g.dilationW + offset[offRow + 2 * ij + 1]);
          const finite = sampleAt(s, y, x, b, height, width);
          visit(p, og, ij, s, g.useMask ? mask[maskRow + ij] : 1, finite);
        }
      }
    }
  }
}

/**
 * Columns of positions [p0, p1): col[(p - p0) K + (grp KK + ij) Cg + c - grp Cg]
 * for channel c of weight group grp (K = Cin KK, Cg = Cin / groups).
 */
export function deformColumns(
    x: ArrayLike<number>, offset: ArrayLike<number>, mask: ArrayLike<number>, g: DeformGeometry,
    p0: number, p1: number, col: Floats) {
  const {channels, groups, offsetGroups} = g;
  const kk = g.kernelHeight * g.kernelWidth, rowLength = channels * kk;
  const cg = channels / groups, cog = channels / offsetGroups;
  forEachSample(offset, mask, g, p0, p1, (p, og, ij, s, m) => {
    const row = (p - p0) * rowLength;
    const {c00, c01, c10, c11, w00, w01, w10, w11} = s;
    const a = c00 * channels, b = c01 * channels, c = c10 * channels, d = c11 * channels;
    for (let ch = og * cog, end = ch + cog; ch < end;) {
      const grp = Math.floor(ch / cg), segEnd = Math.min(end, (grp + 1) * cg);
      const base = row + (grp * kk + ij) * cg - grp * cg;
      if (!s.inRange) {
        for (; ch < segEnd; ch++) col[base + ch] = m * 0;
      } else if (c00 >= 0 && c01 >= 0 && c10 >= 0 && c11 >= 0) {
        for (; ch < segEnd; ch++) {
          col[base + ch] = m * (w00 * x[a + ch] + w01 * x[b + ch] + w10 * x[c + ch] + w11 * x[d + ch]);
        }
      } else {
        for (; ch < segEnd; ch++) {
          const v = (c00 >= 0 ? w00 * x[a + ch] : 0) + (c01 >= 0 ? w01 * x[b + ch] : 0) +
              (c10 >= 0 ? w10 * x[c + ch] : 0) + (c11 >= 0 ? w11 * x[d + ch] : 0);
          col[base + ch] = m * v;
        }
      }
    }
  });
}

/** W^T per weight group: wt[(grp Cog + co) Kg + k] = W[k Cout + grp Cog + co] (rows for dot products). */
function transposedWeight(weight: ArrayLike<number>, g: DeformGeometry): Float32Array {
  const {groups, outChannels} = g;
  const kg = columnLength(g) / groups, cog = outChannels / groups;
  const wt = new Float32Array(kg * outChannels);
  for (let grp = 0; grp < groups; grp++) {
    for (let co = 0; co < cog; co++) {
      const row = (grp * cog + co) * kg;
      for (let k = 0; k < kg; k++) wt[row + k] = weight[k * outChannels + grp * cog + co];
    }
  }
  return wt;
}

/** out[p0 .. p1) = col . W per weight group: dot products of column rows and W^T rows, four at a time. */
function columnsTimesWeight(col: Floats, wt: Float32Array, g: DeformGeometry, p0: number, p1: number, out: Floats) {
  const {groups, outChannels} = g;
  const kg = columnLength(g) / groups, rowLength = kg * groups, cog = outChannels / groups;
  for (let p = p0; p < p1; p++) {
    const row = (p - p0) * rowLength;
    for (let grp = 0; grp < groups; grp++) {
      const a0 = row + grp * kg, o = p * outChannels + grp * cog;
      let co = 0;
      for (; co + 4 <= cog; co += 4) {
        const w0 = (grp * cog + co) * kg, w1 = w0 + kg, w2 = w1 + kg, w3 = w2 + kg;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let k = 0; k < kg; k++) {
          const a = col[a0 + k];
          s0 += a * wt[w0 + k];
          s1 += a * wt[w1 + k];
          s2 += a * wt[w2 + k];
          s3 += a * wt[w3 + k];
        }
        out[o + co] = s0;
        out[o + co + 1] = s1;
        out[o + co + 2] = s2;
        out[o + co + 3] = s3;
      }
      for (; co < cog; co++) {
        const w = (grp * cog + co) * kg;
        let sum = 0;
        for (let k = 0; k < kg; k++) sum += col[a0 + k] * wt[w + k];
        out[o + co] = sum;
      }
    }
  }
}

/** out[B, OH, OW, Cout] (no bias) from x, offset, mask (ignored unless useMask) and HWIO weight. */
export function deformConv2dValues(
    x: ArrayLike<number>, offset: ArrayLike<number>, mask: ArrayLike<number>, weight: ArrayLike<number>,
    g: DeformGeometry, out: Floats) {
  const positions = g.batch * g.outHeight * g.outWidth, rowLength = columnLength(g);
  if (positions === 0 || g.outChannels === 0) return;
  const chunk = chunkPositions(positions, rowLength);
  const col = new Float32Array(chunk * rowLength);
  const wt = transposedWeight(weight, g);
  for (let p0 = 0; p0 < positions; p0 += chunk) {
    const p1 = Math.min(positions, p0 + chunk);
    deformColumns(x, offset, mask, g, p0, p1, col);
    columnsTimesWeight(col, wt, g, p0, p1, out);
  }
}

/** dcol[p - p0] = dy[p] . W^T per weight group. */
function outputGradToColumns(dy: ArrayLike<number>, weight: ArrayLike<number>, g: DeformGeometry, p0: number,
    p1: number, dcol: Floats) {
  const {groups, outChannels} = g;
  const kg = columnLength(g) / groups, rowLength = kg * groups, cog = outChannels / groups;
  for (let p = p0; p < p1; p++) {
    const row = (p - p0) * rowLength;
    for (let grp = 0; grp < groups; grp++) {
      const d = p * outChannels + grp * cog, c = row + grp * kg;
      let k = 0;
      for (; k + 4 <= kg; k += 4) {  // four kernel rows share each dy load
        const w0 = k * outChannels + grp * cog, w1 = w0 + outChannels, w2 = w1 + outChannels, w3 = w2 + outChannels;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let co = 0; co < cog; co++) {
          const v = dy[d + co];
          s0 += v * weight[w0 + co];
          s1 += v * weight[w1 + co];
          s2 += v * weight[w2 + co];
          s3 += v * weight[w3 + co];
        }
        dcol[c + k] = s0;
        dcol[c + k + 1] = s1;
        dcol[c + k + 2] = s2;
        dcol[c + k + 3] = s3;
      }
      for (; k < kg; k++) {
        const w = k * outChannels + grp * cog;
        let sum = 0;
        for (let co = 0; co < cog; co++) sum += dy[d + co] * weight[w + co];
        dcol[c + k] = sum;
      }
    }
  }
}

/**
 * dW[g] += col[., g]^T . dy[., g] over positions [p0, p1): blocks of 2 kernel
 * rows x 4 output channels summed over the positions in registers.
 */
function accumulateWeightGrad(col: Floats, dy: ArrayLike<number>, g: DeformGeometry, p0: number, p1: number,
    dWeight: Float64Array) {
  const {groups, outChannels} = g;
  const kg = columnLength(g) / groups, rowLength = kg * groups, cog = outChannels / groups;
  for (let grp = 0; grp < groups; grp++) {
    for (let k = 0; k < kg; k += 2) {
      const two = k + 1 < kg;
      for (let co = 0; co < cog; co += 4) {
        const n = Math.min(4, cog - co);
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0;
        for (let p = p0; p < p1; p++) {
          const a = (p - p0) * rowLength + grp * kg + k, d = p * outChannels + grp * cog + co;
          const c0 = col[a], c1 = two ? col[a + 1] : 0;
          const d0 = dy[d], d1 = n > 1 ? dy[d + 1] : 0, d2 = n > 2 ? dy[d + 2] : 0, d3 = n > 3 ? dy[d + 3] : 0;
          s0 += c0 * d0;
          s1 += c0 * d1;
          s2 += c0 * d2;
          s3 += c0 * d3;
          t0 += c1 * d0;
          t1 += c1 * d1;
          t2 += c1 * d2;
          t3 += c1 * d3;
        }
        const w = k * outChannels + grp * cog + co, sums = [s0, s1, s2, s3], next = [t0, t1, t2, t3];
        for (let i = 0; i < n; i++) {
          dWeight[w + i] += sums[i];
          if (two) dWeight[w + outChannels + i] += next[i];
        }
      }
    }
  }
}

/**
 * Gradients of sum(dy * out): dx (zero-filled), dOffset, dMask (zero-filled;
 * left zero unless useMask) and dWeight (HWIO).
 */
export function deformConv2dGradValues(
    dy: ArrayLike<number>, x: ArrayLike<number>, offset: ArrayLike<number>, mask: ArrayLike<number>,
    weight: ArrayLike<number>, g: DeformGeometry, dx: Floats, dOffset: Floats, dMask: Floats, dWeight: Floats) {
  const positions = g.batch * g.outHeight * g.outWidth, rowLength = columnLength(g);
  if (positions === 0 || rowLength === 0) return;
  const {channels, groups, offsetGroups, useMask} = g;
  const kk = g.kernelHeight * g.kernelWidth, cg = channels / groups, cog = channels / offsetGroups;
  const chunk = chunkPositions(positions, rowLength);
  const col = new Float32Array(chunk * rowLength), dcol = new Float32Array(chunk * rowLength);
  const dw = new Float64Array(dWeight.length);
  for (let p0 = 0; p0 < positions; p0 += chunk) {
    const p1 = Math.min(positions, p0 + chunk);
    outputGradToColumns(dy, weight, g, p0, p1, dcol);
    forEachSample(offset, mask, g, p0, p1, (p, og, ij, s, m, finite) => {
      const row = (p - p0) * rowLength;
      const {c00, c01, c10, c11, w00, w01, w10, w11, inRange} = s;
      const a = c00 * channels, b = c01 * channels, c = c10 * channels, d = c11 * channels;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0;
      for (let ch = og * cog, end = ch + cog; ch < end;) {
        const grp = Math.floor(ch / cg), segEnd = Math.min(end, (grp + 1) * cg);
        const base = row + (grp * kk + ij) * cg - grp * cg;
        for (; ch < segEnd; ch++) {
          const gc = dcol[base + ch];
          const v00 = c00 >= 0 ? x[a + ch] : 0, v01 = c01 >= 0 ? x[b + ch] : 0;
          const v10 = c10 >= 0 ? x[c + ch] : 0, v11 = c11 >= 0 ? x[d + ch] : 0;
          s00 += gc * v00;
          s01 += gc * v01;
          s10 += gc * v10;
          s11 += gc * v11;
          if (!inRange) {
            col[base + ch] = m * 0;
            continue;
          }
          col[base + ch] = m * (w00 * v00 + w01 * v01 + w10 * v10 + w11 * v11);
          const mg = m * gc;
          if (c00 >= 0) dx[a + ch] += w00 * mg;
          if (c01 >= 0) dx[b + ch] += w01 * mg;
          if (c10 >= 0) dx[c + ch] += w10 * mg;
          if (c11 >= 0) dx[d + ch] += w11 * mg;
        }
      }
      const o = (p * offsetGroups + og) * 2 * kk + 2 * ij;
      if (finite) {
        const {ly, lx} = s;
        dOffset[o] = m * (lx * (s11 - s01) + (1 - lx) * (s10 - s00));
        dOffset[o + 1] = m * (ly * (s11 - s10) + (1 - ly) * (s01 - s00));
      } else {
        dOffset[o] = dOffset[o + 1] = 0;
      }
      if (useMask) {
        dMask[(p * offsetGroups + og) * kk + ij] =
            inRange ? w00 * s00 + w01 * s01 + w10 * s10 + w11 * s11 : 0;
      }
    });
    accumulateWeightGrad(col, dy, g, p0, p1, dw);
  }
  for (let i = 0; i < dw.length; i++) dWeight[i] = dw[i];
}

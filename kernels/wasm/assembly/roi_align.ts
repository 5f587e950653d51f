/**
 * roi_align forward and backward on channelsLast tensors, the same math as
 * kernels/reference/roi_align.ts: per RoI, the rows and columns every bin
 * samples ("taps": bilinear weights summed per row and per column) are built
 * once in the caller's scratch buffer; then, per bin, the (row, column) pairs
 * are applied to 16 contiguous channels at a time in f32x4 lanes.
 *
 * Scratch, in 4-byte words (sized by runRoiAlignWasm in ../RoiAlign.ts):
 * denseY[H], denseX[W], rowCount[PH], rowIndex[PH * maxRowTaps],
 * rowWeight[PH * maxRowTaps], colCount[PW], colIndex[PW * maxColTaps],
 * colWeight[PW * maxColTaps], pairOffset[maxRowTaps * maxColTaps],
 * pairWeight[maxRowTaps * maxColTaps]. Each sample touches two rows, so a
 * bin has at most min(H, 2 * samplingRatio) row taps (H when adaptive).
 *
 * Every float-to-int conversion is clamped in float first: NaN, inf and huge
 * coordinates never index outside the map, the output or the scratch.
 */

import {MAX_ADAPTIVE_GRID} from '../generated/constants';

/** Samples per bin along one axis (0: none). */
// @ts-ignore: decorator
@inline function gridSize(bin: f32, samplingRatio: i32): f32 {
  if (samplingRatio > 0) return <f32>samplingRatio;
  const g = ceil<f32>(bin);
  return g > 0 ? min<f32>(g, <f32>MAX_ADAPTIVE_GRID) : 0; // NaN: 0
}

/**
 * Taps of every bin of one axis: bin p has counts[p] taps at index/weight +
 * p * maxTaps. Returns the grid (samples per bin; 0: the RoI samples nothing).
 * dense: `size` zeros, left zeroed.
 */
export function axisTaps(
    c1: f32, c2: f32, scale: f32, pooled: i32, samplingRatio: i32, aligned: bool, size: i32,
    maxTaps: i32, dense: usize, counts: usize, index: usize, weight: usize): f32 {
  const offset: f32 = aligned ? 0.5 : 0.0;
  const roiStart = c1 * scale - offset;
  let roiSize = (c2 * scale - offset) - roiStart;
  if (!aligned && roiSize < 1.0) roiSize = 1.0;
  const bin = roiSize / <f32>pooled;
  const grid = gridSize(bin, samplingRatio);
  const fsize = <f32>size;
  for (let p = 0; p < pooled; p++) {
    const base = roiStart + <f32>p * bin;
    // Sample indices that can land in [-1, size], one extra on each side.
    let lo: i32 = 0, hi: i32 = -1;
    if (grid > 0 && isFinite<f32>(base) && isFinite<f32>(bin)) {
      if (bin == 0) {
        if (base >= -1.0 && base <= fsize) hi = <i32>grid - 1;
      } else {
        const t1 = (-1.0 - <f64>base) / <f64>bin * <f64>grid - 0.5;
        const t2 = (<f64>fsize - <f64>base) / <f64>bin * <f64>grid - 0.5;
        const top = <f64>grid - 1;
        lo = <i32>min<f64>(max<f64>(floor<f64>(min<f64>(t1, t2)) - 1, 0), top + 1);
        hi = <i32>max<f64>(min<f64>(ceil<f64>(max<f64>(t1, t2)) + 1, top), -1);
      }
    }
    let first = size, last = -1;
    for (let i = lo; i <= hi; i++) {
      let y: f32 = base + (<f32>i + 0.5) * bin / grid;
      if (!(y >= -1.0 && y <= fsize)) continue;
      if (y <= 0) y = 0;
      let low = <i32>y; // y in [0, size]
      let high = low + 1;
      if (low >= size - 1) {
        low = high = size - 1;
        y = <f32>low;
      }
      const l: f32 = y - <f32>low;
      const at = dense + (<usize>low << 2), next = dense + (<usize>high << 2);
      store<f32>(at, load<f32>(at) + (1.0 - l));
      store<f32>(next, load<f32>(next) + l);
      if (low < first) first = low;
      if (high > last) last = high;
    }
    const binTaps = <usize>(p * maxTaps) << 2;
    let count: i32 = 0;
    for (let r = first; r <= last; r++) {
      const at = dense + (<usize>r << 2);
      const w = load<f32>(at);
      if (w != 0 && count < maxTaps) {
        store<i32>(index + binTaps + (<usize>count << 2), r);
        store<f32>(weight + binTaps + (<usize>count << 2), w);
        count++;
      }
      store<f32>(at, 0);
    }
    store<i32>(counts + (<usize>p << 2), count);
  }
  return grid;
}

// @ts-ignore: decorator
@inline export function words(p: usize, n: i32): usize {
  return p + (<usize>n << 2);
}

/** Zeroes n words at p. */
// @ts-ignore: decorator
@inline export function zeroWords(p: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) v128.store(p + (<usize>i << 2), i32x4.splat(0));
  for (let i = n4; i < n; i++) store<f32>(p + (<usize>i << 2), 0);
}

/**
 * Per-bin pair list of one bin: byte offsets into x and weights (1/count
 * included); returns the number of pairs.
 */
// @ts-ignore: decorator
@inline export function binPairs(
    rowCount: i32, rowIndex: usize, rowWeight: usize, colCount: i32, colIndex: usize,
    colWeight: usize, imageRow0: i32, width: i32, channels: i32, x: usize, invCount: f32,
    pairOffset: usize, pairWeight: usize): i32 {
  let n: i32 = 0;
  for (let a = 0; a < rowCount; a++) {
    const rowBase = (imageRow0 + load<i32>(words(rowIndex, a))) * width;
    const wy = load<f32>(words(rowWeight, a)) * invCount;
    for (let b = 0; b < colCount; b++) {
      const pixel = rowBase + load<i32>(words(colIndex, b));
      store<usize>(words(pairOffset, n), x + (<usize>(pixel * channels) << 2));
      store<f32>(words(pairWeight, n), wy * load<f32>(words(colWeight, b)));
      n++;
    }
  }
  return n;
}

/** out[o .. o + channels) = sum of weight * x[offset ..] over the pairs. */
// @ts-ignore: decorator
@inline function gatherBin(
    out: usize, channels: i32, pairs: i32, pairOffset: usize, pairWeight: usize): void {
  let c: i32 = 0;
  for (; c + 16 <= channels; c += 16) {
    const cb = <usize>c << 2;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let i = 0; i < pairs; i++) {
      const w = v128.load32_splat(words(pairWeight, i));
      const p = load<usize>(words(pairOffset, i)) + cb;
      a0 = f32x4.add(a0, f32x4.mul(w, v128.load(p)));
      a1 = f32x4.add(a1, f32x4.mul(w, v128.load(p, 16)));
      a2 = f32x4.add(a2, f32x4.mul(w, v128.load(p, 32)));
      a3 = f32x4.add(a3, f32x4.mul(w, v128.load(p, 48)));
    }
    v128.store(out + cb, a0);
    v128.store(out + cb, a1, 16);
    v128.store(out + cb, a2, 32);
    v128.store(out + cb, a3, 48);
  }
  for (; c + 4 <= channels; c += 4) {
    const cb = <usize>c << 2;
    let a = f32x4.splat(0);
    for (let i = 0; i < pairs; i++) {
      const w = v128.load32_splat(words(pairWeight, i));
      a = f32x4.add(a, f32x4.mul(w, v128.load(load<usize>(words(pairOffset, i)) + cb)));
    }
    v128.store(out + cb, a);
  }
  for (; c < channels; c++) {
    const cb = <usize>c << 2;
    let a: f32 = 0;
    for (let i = 0; i < pairs; i++) {
      a += load<f32>(words(pairWeight, i)) * load<f32>(load<usize>(words(pairOffset, i)) + cb);
    }
    store<f32>(out + cb, a);
  }
}

/** x[offset ..] += weight * dy[o .. o + channels) for every pair. */
// @ts-ignore: decorator
@inline function scatterBin(
    dy: usize, channels: i32, pairs: i32, pairOffset: usize, pairWeight: usize): void {
  let c: i32 = 0;
  for (; c + 16 <= channels; c += 16) {
    const cb = <usize>c << 2;
    const g0 = v128.load(dy + cb), g1 = v128.load(dy + cb, 16);
    const g2 = v128.load(dy + cb, 32), g3 = v128.load(dy + cb, 48);
    for (let i = 0; i < pairs; i++) {
      const w = v128.load32_splat(words(pairWeight, i));
      const p = load<usize>(words(pairOffset, i)) + cb;
      v128.store(p, f32x4.add(v128.load(p), f32x4.mul(w, g0)));
      v128.store(p, f32x4.add(v128.load(p, 16), f32x4.mul(w, g1)), 16);
      v128.store(p, f32x4.add(v128.load(p, 32), f32x4.mul(w, g2)), 32);
      v128.store(p, f32x4.add(v128.load(p, 48), f32x4.mul(w, g3)), 48);
    }
  }
  for (; c + 4 <= channels; c += 4) {
    const cb = <usize>c << 2;
    const g = v128.load(dy + cb);
    for (let i = 0; i < pairs; i++) {
      const w = v128.load32_splat(words(pairWeight, i));
      const p = load<usize>(words(pairOffset, i)) + cb;
      v128.store(p, f32x4.add(v128.load(p), f32x4.mul(w, g)));
    }
  }
  for (; c < channels; c++) {
    const cb = <usize>c << 2;
    const g = load<f32>(dy + cb);
    for (let i = 0; i < pairs; i++) {
      const p = load<usize>(words(pairOffset, i)) + cb;
      store<f32>(p, load<f32>(p) + load<f32>(words(pairWeight, i)) * g);
    }
  }
}

// Per-bin actions of run().
// @ts-ignore: decorator
@inline export const GATHER = 0;
// @ts-ignore: decorator
@inline export const SCATTER = 1;
// @ts-ignore: decorator
@inline export const PS_GATHER = 2;
// @ts-ignore: decorator
@inline export const PS_SCATTER = 3;

/** ps_roi_align's forward of one bin: out[c] = sum of weight * x[offset + (c * bins + bin)]. */
// @ts-ignore: decorator
@inline function psGatherBin(
    out: usize, outChannels: i32, bins: i32, bin: i32, pairs: i32, pairOffset: usize,
    pairWeight: usize): void {
  for (let c = 0; c < outChannels; c++) {
    const cb = <usize>(c * bins + bin) << 2;
    let sum: f32 = 0;
    for (let i = 0; i < pairs; i++) {
      sum += load<f32>(words(pairWeight, i)) * load<f32>(load<usize>(words(pairOffset, i)) + cb);
    }
    store<f32>(words(out, c), sum);
  }
}

/** ps_roi_align's backward of one bin. */
// @ts-ignore: decorator
@inline function psScatterBin(
    dy: usize, outChannels: i32, bins: i32, bin: i32, pairs: i32, pairOffset: usize,
    pairWeight: usize): void {
  for (let c = 0; c < outChannels; c++) {
    const cb = <usize>(c * bins + bin) << 2;
    const g = load<f32>(words(dy, c));
    for (let i = 0; i < pairs; i++) {
      const p = load<usize>(words(pairOffset, i)) + cb;
      store<f32>(p, load<f32>(p) + load<f32>(words(pairWeight, i)) * g);
    }
  }
}

/**
 * Visits every bin of every RoI and, by `mode`, gathers it from x (GATHER),
 * scatters it into dx (SCATTER), or either position-sensitively (PS_GATHER,
 * PS_SCATTER). `data` is x or dx; `bins` is out or dy, [K, PH, PW, C] (C /
 * (PH PW) channels when position-sensitive).
 */
// @ts-ignore: decorator
@inline export function run(
    mode: i32, data: usize, boxes: usize, bins: usize, scratch: usize, batch: i32, height: i32,
    width: i32, channels: i32, numBoxes: i32, pooledHeight: i32, pooledWidth: i32,
    spatialScale: f32, samplingRatio: i32, aligned: bool, maxRowTaps: i32, maxColTaps: i32): void {
  const binCount = pooledHeight * pooledWidth;
  const outChannels = mode >= PS_GATHER ? channels / binCount : channels;
  const denseY = scratch;
  const denseX = words(denseY, height);
  const rowCount = words(denseX, width);
  const rowIndex = words(rowCount, pooledHeight);
  const rowWeight = words(rowIndex, pooledHeight * maxRowTaps);
  const colCount = words(rowWeight, pooledHeight * maxRowTaps);
  const colIndex = words(colCount, pooledWidth);
  const colWeight = words(colIndex, pooledWidth * maxColTaps);
  const pairOffset = words(colWeight, pooledWidth * maxColTaps);
  const pairWeight = words(pairOffset, maxRowTaps * maxColTaps);
  zeroWords(denseY, height + width);
  const binWords = binCount * outChannels;
  const fbatch = <f32>batch;
  for (let k = 0; k < numBoxes; k++) {
    const box = boxes + <usize>k * 20;
    const roiBins = bins + (<usize>(k * binWords) << 2);
    const b = load<f32>(box);
    let gridY: f32 = 0, gridX: f32 = 0;
    if (b > -1.0 && b < fbatch && height > 0 && width > 0) {
      gridY = axisTaps(load<f32>(box, 8), load<f32>(box, 16), spatialScale, pooledHeight,
          samplingRatio, aligned, height, maxRowTaps, denseY, rowCount, rowIndex, rowWeight);
      gridX = axisTaps(load<f32>(box, 4), load<f32>(box, 12), spatialScale, pooledWidth,
          samplingRatio, aligned, width, maxColTaps, denseX, colCount, colIndex, colWeight);
    }
    if (!(gridY > 0 && gridX > 0)) {
      if (mode == GATHER || mode == PS_GATHER) zeroWords(roiBins, binWords);
      continue;
    }
    const imageRow0 = <i32>b * height;
    const invCount: f32 = 1.0 / (gridY * gridX);
    for (let ph = 0; ph < pooledHeight; ph++) {
      for (let pw = 0; pw < pooledWidth; pw++) {
        const pairs = binPairs(
            load<i32>(words(rowCount, ph)), words(rowIndex, ph * maxRowTaps),
            words(rowWeight, ph * maxRowTaps), load<i32>(words(colCount, pw)),
            words(colIndex, pw * maxColTaps), words(colWeight, pw * maxColTaps), imageRow0, width,
            channels, data, invCount, pairOffset, pairWeight);
        const binIndex = ph * pooledWidth + pw;
        const bin = roiBins + (<usize>(binIndex * outChannels) << 2);
        if (mode == GATHER) gatherBin(bin, channels, pairs, pairOffset, pairWeight);
        else if (mode == SCATTER) scatterBin(bin, channels, pairs, pairOffset, pairWeight);
        else if (mode == PS_GATHER) psGatherBin(bin, outChannels, binCount, binIndex, pairs, pairOffset, pairWeight);
        else psScatterBin(bin, outChannels, binCount, binIndex, pairs, pairOffset, pairWeight);
      }
    }
  }
}

/**
 * out[K, PH, PW, C] = roi_align of x[N, H, W, C] at boxes[K, 5]; scratch as
 * in the file comment. Pointers are byte offsets.
 */
export function roi_align(
    x: usize, boxes: usize, out: usize, scratch: usize, batch: i32, height: i32, width: i32,
    channels: i32, numBoxes: i32, maxRowTaps: i32, maxColTaps: i32, pooledHeight: i32, pooledWidth: i32,
    spatialScale: f32, samplingRatio: i32, aligned: i32): void {
  run(GATHER, x, boxes, out, scratch, batch, height, width, channels, numBoxes, pooledHeight,
      pooledWidth, spatialScale, samplingRatio, aligned != 0, maxRowTaps, maxColTaps);
}

/** dx[N, H, W, C] = gradient of roi_align for x, from dy[K, PH, PW, C]. */
export function roi_align_grad(
    dy: usize, boxes: usize, dx: usize, scratch: usize, batch: i32, height: i32, width: i32,
    channels: i32, numBoxes: i32, maxRowTaps: i32, maxColTaps: i32, pooledHeight: i32, pooledWidth: i32,
    spatialScale: f32, samplingRatio: i32, aligned: i32): void {
  zeroWords(dx, batch * height * width * channels);
  run(SCATTER, dx, boxes, dy, scratch, batch, height, width, channels, numBoxes, pooledHeight,
      pooledWidth, spatialScale, samplingRatio, aligned != 0, maxRowTaps, maxColTaps);
}

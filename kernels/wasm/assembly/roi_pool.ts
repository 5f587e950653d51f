/**
 * roi_pool forward and backward on channelsLast tensors, the math of
 * kernels/reference/roi_pool.ts, four channels per f32x4: the running max
 * takes strictly greater values in row-major order (first maximum wins) and
 * its argmax is tracked per lane; the backward pass recomputes that argmax and
 * adds dy where it matches. Bounds are clamped in float before any int
 * conversion, so no coordinate can index outside the map.
 */

import {FLT_MAX as FLT_MAX_F64, MAX_ROUNDED_COORD} from '../generated/constants';
import {zeroWords} from './roi_align';

// @ts-ignore: decorator
@inline const FLT_MAX: f32 = <f32>FLT_MAX_F64;

/** round() of C (half away from zero) of a float32 product, clamped to +-2^24; NaN stays NaN. */
// @ts-ignore: decorator
@inline export function roundCoord(v: f32): f64 {
  const a = abs<f64>(<f64>v);
  let r = floor<f64>(a);
  if (a - r >= 0.5) r += 1;
  return min<f64>(max<f64>(v < 0 ? -r : r, -MAX_ROUNDED_COORD), MAX_ROUNDED_COORD);
}

/** Packs a bin's [lo, hi) bounds as lo | hi << 32 (lo = hi: empty). */
// @ts-ignore: decorator
@inline export function binBounds(start: f64, bin: f32, p: i32, size: i32): u64 {
  const fsize = <f64>size;
  const lo = min<f64>(max<f64>(<f64>floor<f32>(<f32>p * bin) + start, 0), fsize);
  const hi = min<f64>(max<f64>(<f64>ceil<f32>(<f32>(p + 1) * bin) + start, 0), fsize);
  return <u64><u32><i32>lo | (<u64><u32><i32>hi << 32);
}

/** Bin size along one axis, roi = end - start + plusOne (NaN when a corner is NaN). */
// @ts-ignore: decorator
@inline export function binSize(start: f64, end: f64, pooled: i32, plusOne: f64): f32 {
  return <f32>max<f64>(end - start + plusOne, 1) / <f32>pooled;
}

/** Max over the bin rows [y0, y1) x columns [x0, x1) of the four channels at byte offset cb. */
// @ts-ignore: decorator
@inline function maxBlock(
    image: usize, width: i32, channels: i32, y0: i32, y1: i32, x0: i32, x1: i32, cb: usize): v128 {
  let best = f32x4.splat(-FLT_MAX);
  for (let h = y0; h < y1; h++) {
    for (let w = x0; w < x1; w++) {
      const v = v128.load(image + (<usize>((h * width + w) * channels) << 2) + cb);
      best = v128.bitselect(v, best, f32x4.gt(v, best));
    }
  }
  return best;
}

/** Argmax (h * W + w, first maximum) of the same block; -1 where nothing beats -FLT_MAX. */
// @ts-ignore: decorator
@inline function argBlock(
    image: usize, width: i32, channels: i32, y0: i32, y1: i32, x0: i32, x1: i32, cb: usize): v128 {
  let best = f32x4.splat(-FLT_MAX);
  let arg = i32x4.splat(-1);
  for (let h = y0; h < y1; h++) {
    for (let w = x0; w < x1; w++) {
      const v = v128.load(image + (<usize>((h * width + w) * channels) << 2) + cb);
      const m = f32x4.gt(v, best);
      best = v128.bitselect(v, best, m);
      arg = v128.bitselect(i32x4.splat(h * width + w), arg, m);
    }
  }
  return arg;
}

/**
 * Visits every bin: forward writes out (0 for empty bins and invalid RoIs);
 * backward adds dy to dx at the recomputed argmax.
 */
// @ts-ignore: decorator
@inline function run(
    forward: bool, x: usize, boxes: usize, bins: usize, dx: usize, batch: i32, height: i32,
    width: i32, channels: i32, numBoxes: i32, pooledHeight: i32, pooledWidth: i32,
    spatialScale: f32): void {
  const c4 = channels & ~3;
  const plane = height * width;
  for (let k = 0; k < numBoxes; k++) {
    const box = boxes + <usize>k * 20;
    const b = load<f32>(box);
    const valid = b > -1.0 && b < <f32>batch && height > 0 && width > 0;
    const n = valid ? <i32>b : 0;
    const startW = roundCoord(load<f32>(box, 4) * spatialScale);
    const startH = roundCoord(load<f32>(box, 8) * spatialScale);
    const binW = binSize(startW, roundCoord(load<f32>(box, 12) * spatialScale), pooledWidth, 1);
    const binH = binSize(startH, roundCoord(load<f32>(box, 16) * spatialScale), pooledHeight, 1);
    // NaN corners: every comparison below fails and the bins stay empty.
    const sampling = valid && !isNaN<f32>(binW) && !isNaN<f32>(binH) && !isNaN<f64>(startW) &&
        !isNaN<f64>(startH);
    const image = x + (<usize>(n * plane * channels) << 2);
    const grad = dx + (<usize>(n * plane * channels) << 2);
    for (let ph = 0; ph < pooledHeight; ph++) {
      const rows = sampling ? binBounds(startH, binH, ph, height) : 0;
      const y0 = <i32>rows, y1 = <i32>(rows >> 32);
      for (let pw = 0; pw < pooledWidth; pw++) {
        const cols = sampling ? binBounds(startW, binW, pw, width) : 0;
        const x0 = <i32>cols, x1 = <i32>(cols >> 32);
        const bin = bins + (<usize>(((k * pooledHeight + ph) * pooledWidth + pw) * channels) << 2);
        const empty = y1 <= y0 || x1 <= x0;
        if (forward) {
          for (let c = 0; c < c4; c += 4) {
            const cb = <usize>c << 2;
            v128.store(bin + cb, empty ? f32x4.splat(0) :
                maxBlock(image, width, channels, y0, y1, x0, x1, cb));
          }
          for (let c = c4; c < channels; c++) {
            const cb = <usize>c << 2;
            let best: f32 = empty ? 0 : -FLT_MAX;
            for (let h = y0; h < y1 && !empty; h++) {
              for (let w = x0; w < x1; w++) {
                const v = load<f32>(image + (<usize>((h * width + w) * channels) << 2) + cb);
                if (v > best) best = v;
              }
            }
            store<f32>(bin + cb, best);
          }
        } else if (!empty) {
          for (let c = 0; c < c4; c += 4) {
            const cb = <usize>c << 2;
            const arg = argBlock(image, width, channels, y0, y1, x0, x1, cb);
            const g = v128.load(bin + cb);
            for (let h = y0; h < y1; h++) {
              for (let w = x0; w < x1; w++) {
                const at = grad + (<usize>((h * width + w) * channels) << 2) + cb;
                const hit = i32x4.eq(arg, i32x4.splat(h * width + w));
                v128.store(at, f32x4.add(v128.load(at), v128.and(g, hit)));
              }
            }
          }
          for (let c = c4; c < channels; c++) {
            const cb = <usize>c << 2;
            let best: f32 = -FLT_MAX;
            let arg: i32 = -1;
            for (let h = y0; h < y1; h++) {
              for (let w = x0; w < x1; w++) {
                const v = load<f32>(image + (<usize>((h * width + w) * channels) << 2) + cb);
                if (v > best) {
                  best = v;
                  arg = h * width + w;
                }
              }
            }
            if (arg >= 0) {
              const at = grad + (<usize>(arg * channels) << 2) + cb;
              store<f32>(at, load<f32>(at) + load<f32>(bin + cb));
            }
          }
        }
      }
    }
  }
}

/** out[K, PH, PW, C] = roi_pool of x[N, H, W, C] at boxes[K, 5]; pointers are byte offsets. */
export function roi_pool(
    x: usize, boxes: usize, out: usize, batch: i32, height: i32, width: i32, channels: i32,
    numBoxes: i32, pooledHeight: i32, pooledWidth: i32, spatialScale: f32): void {
  run(true, x, boxes, out, 0, batch, height, width, channels, numBoxes, pooledHeight, pooledWidth,
      spatialScale);
}

/** dx[N, H, W, C] = gradient of roi_pool for x, from dy[K, PH, PW, C]. */
export function roi_pool_grad(
    dy: usize, x: usize, boxes: usize, dx: usize, batch: i32, height: i32, width: i32,
    channels: i32, numBoxes: i32, pooledHeight: i32, pooledWidth: i32, spatialScale: f32): void {
  zeroWords(dx, batch * height * width * channels);
  run(false, x, boxes, dy, dx, batch, height, width, channels, numBoxes, pooledHeight, pooledWidth,
      spatialScale);
}

/**
 * Multi-scale deformable attention forward and backward, the math of
 * kernels/reference/ms_deform_attn.ts in the same float32 operations and
 * order: every sum, the channel sums of the backward included, runs in the
 * reference's order, and the value gradient is scattered in (b, q, m, l, p)
 * order, so results are deterministic. For a fixed (b, s, m) the C channels
 * of value [B, S, M, C] are contiguous: each sample's four corners are applied
 * to 4 channels at a time in f32x4 lanes, then a scalar tail.
 *
 * The level tables are data: a corner outside its level, or whose position
 * start + cy W + cx (in i64: any H, W, start) is outside [0, S), or any
 * corner of a level that fails levelUsable, reads 0 and gets no gradient.
 */
import {MAX_ATTN_LEVEL_CELLS} from '../generated/constants';
import {words, zeroWords} from './roi_align';

/** The reference's levelUsable: H, W >= 1 and (H + 1)(W + 1) <= MAX_ATTN_LEVEL_CELLS, in float32. */
// @ts-ignore: decorator
@inline function levelUsable(height: i32, width: i32): bool {
  return height >= 1 && width >= 1 &&
      (<f32>height + <f32>1) * (<f32>width + <f32>1) <= <f32>MAX_ATTN_LEVEL_CELLS;
}

/** Byte offset in value of corner (cy, cx) of a level for (b, m), or -1 outside the level or value. */
// @ts-ignore: decorator
@inline function cornerOffset(
    cy: f64, cx: f64, height: i32, width: i32, start: i32, spatialSize: i32, row0: i32, heads: i32,
    m: i32, channels: i32): i32 {
  if (!(cy >= 0 && cy < <f64>height && cx >= 0 && cx < <f64>width)) return -1;
  const s = <i64>start + <i64>cy * <i64>width + <i64>cx;
  if (s < 0 || s >= <i64>spatialSize) return -1;
  return (((row0 + <i32>s) * heads + m) * channels) << 2;
}

/** out[0 .. C) += a * (sum of the valid corners' w * value), out as in the reference. */
// @ts-ignore: decorator
@inline function gatherSample(
    out: usize, value: usize, channels: i32, a: f32, o0: i32, o1: i32, o2: i32, o3: i32,
    w0: f32, w1: f32, w2: f32, w3: f32): void {
  const av = f32x4.splat(a);
  const v0 = f32x4.splat(w0), v1 = f32x4.splat(w1), v2 = f32x4.splat(w2), v3 = f32x4.splat(w3);
  let c: i32 = 0;
  for (; c + 4 <= channels; c += 4) {
    const cb = <usize>c << 2;
    let v = f32x4.splat(0);
    if (o0 >= 0) v = f32x4.add(v, f32x4.mul(v0, v128.load(value + <usize>o0 + cb)));
    if (o1 >= 0) v = f32x4.add(v, f32x4.mul(v1, v128.load(value + <usize>o1 + cb)));
    if (o2 >= 0) v = f32x4.add(v, f32x4.mul(v2, v128.load(value + <usize>o2 + cb)));
    if (o3 >= 0) v = f32x4.add(v, f32x4.mul(v3, v128.load(value + <usize>o3 + cb)));
    v128.store(out + cb, f32x4.add(v128.load(out + cb), f32x4.mul(av, v)));
  }
  for (; c < channels; c++) {
    const cb = <usize>c << 2;
    let v: f32 = 0;
    if (o0 >= 0) v += w0 * load<f32>(value + <usize>o0 + cb);
    if (o1 >= 0) v += w1 * load<f32>(value + <usize>o1 + cb);
    if (o2 >= 0) v += w2 * load<f32>(value + <usize>o2 + cb);
    if (o3 >= 0) v += w3 * load<f32>(value + <usize>o3 + cb);
    store<f32>(out + cb, load<f32>(out + cb) + a * v);
  }
}

/** dValue[at ..] += w * a dy on one channel block. */
// @ts-ignore: decorator
@inline function cornerGrad(at: usize, w: v128, ad: v128, dValue: usize): void {
  v128.store(dValue + at, f32x4.add(v128.load(dValue + at), f32x4.mul(w, ad)));
}

/** s + lane 0 + lane 1 + lane 2 + lane 3, in that order (the reference's channel order). */
// @ts-ignore: decorator
@inline function addLanes(s: f32, t: v128): f32 {
  s += f32x4.extract_lane(t, 0);
  s += f32x4.extract_lane(t, 1);
  s += f32x4.extract_lane(t, 2);
  return s + f32x4.extract_lane(t, 3);
}

/**
 * One sample's backward: dValue of its valid corners += w * a * dy, and its
 * dAttentionWeight and dLocation (x, y) at dWeight, dLocation.
 */
// @ts-ignore: decorator
@inline function scatterSample(
    dy: usize, value: usize, dValue: usize, dWeight: usize, dLocation: usize, channels: i32, a: f32,
    o0: i32, o1: i32, o2: i32, o3: i32, lx: f32, ly: f32, width: i32, height: i32): void {
  const hx: f32 = 1 - lx, hy: f32 = 1 - ly;
  const w0 = hy * hx, w1 = hy * lx, w2 = ly * hx, w3 = ly * lx;
  // d(corner weight)/dix and /diy, nw ne sw se.
  const x0: f32 = -hy, x1 = hy, x2: f32 = -ly, x3 = ly;
  const y0: f32 = -hx, y1: f32 = -lx, y2 = hx, y3 = lx;
  const av = f32x4.splat(a);
  const W0 = f32x4.splat(w0), W1 = f32x4.splat(w1), W2 = f32x4.splat(w2), W3 = f32x4.splat(w3);
  const X0 = f32x4.splat(x0), X1 = f32x4.splat(x1), X2 = f32x4.splat(x2), X3 = f32x4.splat(x3);
  const Y0 = f32x4.splat(y0), Y1 = f32x4.splat(y1), Y2 = f32x4.splat(y2), Y3 = f32x4.splat(y3);
  let dw: f32 = 0, gx: f32 = 0, gy: f32 = 0;
  let c: i32 = 0;
  for (; c + 4 <= channels; c += 4) {
    const cb = <usize>c << 2;
    const d = v128.load(dy + cb);
    const ad = f32x4.mul(av, d);
    let v = f32x4.splat(0), vx = f32x4.splat(0), vy = f32x4.splat(0);
    if (o0 >= 0) {
      const at = <usize>o0 + cb, u = v128.load(value + at);
      v = f32x4.add(v, f32x4.mul(W0, u));
      vx = f32x4.add(vx, f32x4.mul(X0, u));
      vy = f32x4.add(vy, f32x4.mul(Y0, u));
      cornerGrad(at, W0, ad, dValue);
    }
    if (o1 >= 0) {
      const at = <usize>o1 + cb, u = v128.load(value + at);
      v = f32x4.add(v, f32x4.mul(W1, u));
      vx = f32x4.add(vx, f32x4.mul(X1, u));
      vy = f32x4.add(vy, f32x4.mul(Y1, u));
      cornerGrad(at, W1, ad, dValue);
    }
    if (o2 >= 0) {
      const at = <usize>o2 + cb, u = v128.load(value + at);
      v = f32x4.add(v, f32x4.mul(W2, u));
      vx = f32x4.add(vx, f32x4.mul(X2, u));
      vy = f32x4.add(vy, f32x4.mul(Y2, u));
      cornerGrad(at, W2, ad, dValue);
    }
    if (o3 >= 0) {
      const at = <usize>o3 + cb, u = v128.load(value + at);
      v = f32x4.add(v, f32x4.mul(W3, u));
      vx = f32x4.add(vx, f32x4.mul(X3, u));
      vy = f32x4.add(vy, f32x4.mul(Y3, u));
      cornerGrad(at, W3, ad, dValue);
    }
    dw = addLanes(dw, f32x4.mul(d, v));
    gx = addLanes(gx, f32x4.mul(ad, vx));
    gy = addLanes(gy, f32x4.mul(ad, vy));
  }
  for (; c < channels; c++) {
    const cb = <usize>c << 2;
    const d = load<f32>(dy + cb);
    const ad = a * d;
    let v: f32 = 0, vx: f32 = 0, vy: f32 = 0;
    if (o0 >= 0) {
      const at = <usize>o0 + cb, u = load<f32>(value + at);
      v += w0 * u;
      vx += x0 * u;
      vy += y0 * u;
      store<f32>(dValue + at, load<f32>(dValue + at) + w0 * ad);
    }
    if (o1 >= 0) {
      const at = <usize>o1 + cb, u = load<f32>(value + at);
      v += w1 * u;
      vx += x1 * u;
      vy += y1 * u;
      store<f32>(dValue + at, load<f32>(dValue + at) + w1 * ad);
    }
    if (o2 >= 0) {
      const at = <usize>o2 + cb, u = load<f32>(value + at);
      v += w2 * u;
      vx += x2 * u;
      vy += y2 * u;
      store<f32>(dValue + at, load<f32>(dValue + at) + w2 * ad);
    }
    if (o3 >= 0) {
      const at = <usize>o3 + cb, u = load<f32>(value + at);
      v += w3 * u;
      vx += x3 * u;
      vy += y3 * u;
      store<f32>(dValue + at, load<f32>(dValue + at) + w3 * ad);
    }
    dw += d * v;
    gx += ad * vx;
    gy += ad * vy;
  }
  store<f32>(dWeight, dw);
  store<f32>(dLocation, <f32>(<f64>gx * <f64>width));
  store<f32>(dLocation, <f32>(<f64>gy * <f64>height), 4);
}

/**
 * Visits every sample (b, q, m, l, p) in the reference's order: forward
 * (grad false) accumulates out, backward scatters into dValue (zeroed by the
 * caller) and writes dLocations and dWeights.
 */
// @ts-ignore: decorator
@inline function run(
    grad: bool, dy: usize, value: usize, shapes: usize, starts: usize, locations: usize, weights: usize,
    out: usize, dValue: usize, dLocations: usize, dWeights: usize, batch: i32, spatialSize: i32, heads: i32,
    channels: i32, queries: i32, levels: i32, points: i32): void {
  for (let b = 0; b < batch; b++) {
    const row0 = b * spatialSize;
    for (let q = 0; q < queries; q++) {
      for (let m = 0; m < heads; m++) {
        const bqm = (b * queries + q) * heads + m;
        const outOrDy = words(grad ? dy : out, bqm * channels);
        if (!grad) zeroWords(outOrDy, channels);
        for (let l = 0; l < levels; l++) {
          const height = load<i32>(words(shapes, 2 * l)), width = load<i32>(words(shapes, 2 * l + 1));
          const start = load<i32>(words(starts, l));
          // Every corner of an unusable level is outside it.
          const cornerHeight = levelUsable(height, width) ? height : 0;
          for (let p = 0; p < points; p++) {
            const j = (bqm * levels + l) * points + p;
            const a = load<f32>(words(weights, j));
            const location = words(locations, 2 * j);
            const ix = <f32>(<f64>load<f32>(location) * <f64>width) - <f32>0.5;
            const iy = <f32>(<f64>load<f32>(location, 4) * <f64>height) - <f32>0.5;
            if (!(isFinite<f32>(ix) && isFinite<f32>(iy))) {
              // The reference's sample is NaN: out += a NaN is NaN; no value gradient.
              if (grad) {
                store<f32>(words(dWeights, j), <f32>NaN);
                store<f32>(words(dLocations, 2 * j), <f32>NaN);
                store<f32>(words(dLocations, 2 * j + 1), <f32>NaN);
              } else {
                for (let c = 0; c < channels; c++) store<f32>(words(outOrDy, c), <f32>NaN);
              }
              continue;
            }
            const fx = floor<f32>(ix), fy = floor<f32>(iy);
            const lx = ix - fx, ly = iy - fy;
            const cx = <f64>fx, cy = <f64>fy;
            const o0 = cornerOffset(cy, cx, cornerHeight, width, start, spatialSize, row0, heads, m, channels);
            const o1 = cornerOffset(cy, cx + 1, cornerHeight, width, start, spatialSize, row0, heads, m, channels);
            const o2 = cornerOffset(cy + 1, cx, cornerHeight, width, start, spatialSize, row0, heads, m, channels);
            const o3 = cornerOffset(cy + 1, cx + 1, cornerHeight, width, start, spatialSize, row0, heads, m, channels);
            if (grad) {
              scatterSample(outOrDy, value, dValue, words(dWeights, j), words(dLocations, 2 * j), channels, a,
                  o0, o1, o2, o3, lx, ly, width, height);
            } else {
              const hx: f32 = 1 - lx, hy: f32 = 1 - ly;
              gatherSample(outOrDy, value, channels, a, o0, o1, o2, o3, hy * hx, hy * lx, ly * hx, ly * lx);
            }
          }
        }
      }
    }
  }
}

/**
 * out[B, Q, M, C] = msDeformAttn of value [B, S, M, C], spatialShapes [L, 2]
 * (int32 H, W), levelStartIndex [L] (int32), samplingLocations
 * [B, Q, M, L, P, 2], attentionWeights [B, Q, M, L, P]. Pointers are byte offsets.
 */
export function ms_deform_attn(
    value: usize, shapes: usize, starts: usize, locations: usize, weights: usize, out: usize, batch: i32,
    spatialSize: i32, heads: i32, channels: i32, queries: i32, levels: i32, points: i32): void {
  run(false, 0, value, shapes, starts, locations, weights, out, 0, 0, 0, batch, spatialSize, heads, channels,
      queries, levels, points);
}

/** dValue, dLocations, dWeights (shapes of value, locations, weights) from dy [B, Q, M, C]. */
export function ms_deform_attn_grad(
    dy: usize, value: usize, shapes: usize, starts: usize, locations: usize, weights: usize, dValue: usize,
    dLocations: usize, dWeights: usize, batch: i32, spatialSize: i32, heads: i32, channels: i32, queries: i32,
    levels: i32, points: i32): void {
  zeroWords(dValue, batch * spatialSize * heads * channels);
  run(true, dy, value, shapes, starts, locations, weights, 0, dValue, dLocations, dWeights, batch, spatialSize,
      heads, channels, queries, levels, points);
}

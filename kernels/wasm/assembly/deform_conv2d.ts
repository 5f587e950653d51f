/**
 * deform_conv2d forward and backward on channelsLast tensors, the algorithm of
 * kernels/reference/deform_conv2d.ts (read it first): chunks of output
 * positions, a column buffer per chunk (bilinear samples in f32x4 lanes over
 * contiguous channels), and register-tiled f32x4 GEMMs.
 *
 * The caller (kernels/wasm/DeformConv2d.ts) passes `scratch`: a header of
 * DEFORM_HEADER_WORDS i32 (the geometry), then
 *   forward:  zero[C] (padded to 4), col[chunk K]
 *   backward: zero[C], sink[C], col[chunk K], dcol[chunk K], wt[Cout Kg]
 * (C channels, K = C KH KW, Kg = K / groups). Corners outside the map read
 * `zero` and (backward) write `sink`, so the channel loops have no branches.
 * Every float is range-checked before it becomes an index.
 */

// Header fields: word indices of DEFORM_HEADER (kernels/constants.ts).
import {
  DEFORM_BATCH, DEFORM_CHANNELS, DEFORM_CHUNK, DEFORM_DILATION_H, DEFORM_DILATION_W, DEFORM_GROUPS,
  DEFORM_HEADER_WORDS, DEFORM_HEIGHT, DEFORM_KERNEL_HEIGHT, DEFORM_KERNEL_WIDTH, DEFORM_OFFSET_GROUPS,
  DEFORM_OUT_CHANNELS, DEFORM_OUT_HEIGHT, DEFORM_OUT_WIDTH, DEFORM_PAD_H, DEFORM_PAD_W, DEFORM_STRIDE_H,
  DEFORM_STRIDE_W, DEFORM_USE_MASK, DEFORM_WIDTH,
} from '../generated/constants';

/** dW's GEMM runs over this many positions at a time (its A block stays in cache). */
// @ts-ignore: decorator
@inline const WEIGHT_GRAD_ROWS = 128;

// @ts-ignore: decorator
@inline function field(h: usize, i: i32): i32 { return load<i32>(h + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function at(p: usize, i: i32): usize { return p + (<usize>i << 2); }
// @ts-ignore: decorator
@inline function padded(n: i32): i32 { return (n + 3) & ~3; }

// @ts-ignore: decorator
@inline function zeroFloats(p: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) v128.store(at(p, i), f32x4.splat(0));
  for (let i = n4; i < n; i++) store<f32>(at(p, i), 0);
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) +
      (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// --- GEMM: C[m, n] (+)= sum_t A[m ams + t ats] B[t bts + n] (element strides, B rows contiguous) ---

// @ts-ignore: decorator
@inline function tile4x8(
    a: usize, ams: i32, ats: i32, b: usize, bts: i32, c: usize, cs: i32, T: i32, add: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const am = <usize>ams << 2, at_ = <usize>ats << 2, bt = <usize>bts << 2;
  let ap = a, bp = b;
  for (let t = 0; t < T; t++) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let av = v128.load32_splat(ap);
    c00 = f32x4.add(c00, f32x4.mul(av, b0));
    c01 = f32x4.add(c01, f32x4.mul(av, b1));
    av = v128.load32_splat(ap + am);
    c10 = f32x4.add(c10, f32x4.mul(av, b0));
    c11 = f32x4.add(c11, f32x4.mul(av, b1));
    av = v128.load32_splat(ap + 2 * am);
    c20 = f32x4.add(c20, f32x4.mul(av, b0));
    c21 = f32x4.add(c21, f32x4.mul(av, b1));
    av = v128.load32_splat(ap + 3 * am);
    c30 = f32x4.add(c30, f32x4.mul(av, b0));
    c31 = f32x4.add(c31, f32x4.mul(av, b1));
    ap += at_;
    bp += bt;
  }
  const cr = <usize>cs << 2;
  if (add) {
    c00 = f32x4.add(c00, v128.load(c));
    c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + cr));
    c11 = f32x4.add(c11, v128.load(c + cr, 16));
    c20 = f32x4.add(c20, v128.load(c + 2 * cr));
    c21 = f32x4.add(c21, v128.load(c + 2 * cr, 16));
    c30 = f32x4.add(c30, v128.load(c + 3 * cr));
    c31 = f32x4.add(c31, v128.load(c + 3 * cr, 16));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c + cr, c10);
  v128.store(c + cr, c11, 16);
  v128.store(c + 2 * cr, c20);
  v128.store(c + 2 * cr, c21, 16);
  v128.store(c + 3 * cr, c30);
  v128.store(c + 3 * cr, c31, 16);
}

/** One row of C, columns [n0, n0 + 4 w) in w vectors (w = 1 or 2), or n0 alone when w = 0. */
// @ts-ignore: decorator
@inline function tileRow(
    a: usize, ats: i32, b: usize, bts: i32, c: usize, T: i32, add: bool, w: i32): void {
  const at_ = <usize>ats << 2, bt = <usize>bts << 2;
  let ap = a, bp = b;
  if (w == 0) {
    let s: f32 = 0;
    for (let t = 0; t < T; t++) {
      s += load<f32>(ap) * load<f32>(bp);
      ap += at_;
      bp += bt;
    }
    store<f32>(c, add ? load<f32>(c) + s : s);
    return;
  }
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  for (let t = 0; t < T; t++) {
    const av = v128.load32_splat(ap);
    c0 = f32x4.add(c0, f32x4.mul(av, v128.load(bp)));
    if (w == 2) c1 = f32x4.add(c1, f32x4.mul(av, v128.load(bp, 16)));
    ap += at_;
    bp += bt;
  }
  if (add) c0 = f32x4.add(c0, v128.load(c));
  v128.store(c, c0);
  if (w == 2) v128.store(c, add ? f32x4.add(c1, v128.load(c, 16)) : c1, 16);
}

function gemm(
    a: usize, ams: i32, ats: i32, b: usize, bts: i32, c: usize, cs: i32, M: i32, N: i32, T: i32,
    add: bool): void {
  let m = 0;
  for (; m + 4 <= M; m += 4) {
    const am = at(a, m * ams), cm = at(c, m * cs);
    let n = 0;
    for (; n + 8 <= N; n += 8) tile4x8(am, ams, ats, at(b, n), bts, at(cm, n), cs, T, add);
    for (let r = 0; r < 4; r++) {
      const ar = at(am, r * ams), cr = at(cm, r * cs);
      let k = n;
      for (; k + 4 <= N; k += 4) tileRow(ar, ats, at(b, k), bts, at(cr, k), T, add, 1);
      for (; k < N; k++) tileRow(ar, ats, at(b, k), bts, at(cr, k), T, add, 0);
    }
  }
  for (; m < M; m++) {
    const am = at(a, m * ams), cm = at(c, m * cs);
    let n = 0;
    for (; n + 8 <= N; n += 8) tileRow(am, ats, at(b, n), bts, at(cm, n), T, add, 2);
    for (; n + 4 <= N; n += 4) tileRow(am, ats, at(b, n), bts, at(cm, n), T, add, 1);
    for (; n < N; n++) tileRow(am, ats, at(b, n), bts, at(cm, n), T, add, 0);
  }
}

// --- sampling ---------------------------------------------------------------------------------

/**
 * (y, x) of kernel point (i, j) of offset group og at output position p, in
 * lanes 0 and 1 (float32 as torchvision: integer base + offset).
 */
// @ts-ignore: decorator
@inline function samplePosition(
    h: usize, offset: usize, p: i32, og: i32, i: i32, j: i32): v128 {
  const outWidth = field(h, DEFORM_OUT_WIDTH), outHeight = field(h, DEFORM_OUT_HEIGHT);
  const kw = field(h, DEFORM_KERNEL_WIDTH), kk = field(h, DEFORM_KERNEL_HEIGHT) * kw;
  const ox = p % outWidth, oy = (p / outWidth) % outHeight;
  const ij = i * kw + j;
  const o = at(offset, (p * field(h, DEFORM_OFFSET_GROUPS) + og) * 2 * kk + 2 * ij);
  const y: f32 = <f32>(oy * field(h, DEFORM_STRIDE_H) - field(h, DEFORM_PAD_H) + i * field(h, DEFORM_DILATION_H)) + load<f32>(o);
  const x: f32 = <f32>(ox * field(h, DEFORM_STRIDE_W) - field(h, DEFORM_PAD_W) + j * field(h, DEFORM_DILATION_W)) + load<f32>(o, 4);
  return f32x4.replace_lane(f32x4.splat(y), 1, x);
}

/**
 * Pointer to channel 0 of pixel (y0, x0) of image b when inside the map,
 * else `fallback`. fy, fx are floors as floats (any finite value).
 */
// @ts-ignore: decorator
@inline function pixel(
    base: usize, fallback: usize, b: i32, fy: f32, fx: f32, height: i32, width: i32, channels: i32): usize {
  if (!(fy >= 0 && fy < <f32>height && fx >= 0 && fx < <f32>width)) return fallback;
  return at(base, ((b * height + <i32>fy) * width + <i32>fx) * channels);
}

/** col[c] = m (w00 v00 + w01 v01 + w10 v10 + w11 v11) for c in [c0, c1) (4 lanes, then a tail). */
// @ts-ignore: decorator
@inline function columnSegment(
    dst: usize, c0: i32, c1: i32, m: f32, p00: usize, p01: usize, p10: usize, p11: usize,
    w00: f32, w01: f32, w10: f32, w11: f32): void {
  const mv = f32x4.splat(m);
  const a = f32x4.splat(w00), b = f32x4.splat(w01), c = f32x4.splat(w10), d = f32x4.splat(w11);
  let ch = c0;
  for (; ch + 4 <= c1; ch += 4) {
    const o = <usize>ch << 2;
    let v = f32x4.mul(a, v128.load(p00 + o));
    v = f32x4.add(v, f32x4.mul(b, v128.load(p01 + o)));
    v = f32x4.add(v, f32x4.mul(c, v128.load(p10 + o)));
    v = f32x4.add(v, f32x4.mul(d, v128.load(p11 + o)));
    v128.store(dst + o, f32x4.mul(mv, v));
  }
  for (; ch < c1; ch++) {
    const o = <usize>ch << 2;
    const v = w00 * load<f32>(p00 + o) + w01 * load<f32>(p01 + o) + w10 * load<f32>(p10 + o) +
        w11 * load<f32>(p11 + o);
    store<f32>(dst + o, m * v);
  }
}

/** The columns of positions [p0, p1) (layout in the reference). */
function sampleColumns(h: usize, x: usize, offset: usize, mask: usize, col: usize, zero: usize, p0: i32, p1: i32): void {
  const height = field(h, DEFORM_HEIGHT), width = field(h, DEFORM_WIDTH), channels = field(h, DEFORM_CHANNELS);
  const kh = field(h, DEFORM_KERNEL_HEIGHT), kw = field(h, DEFORM_KERNEL_WIDTH), kk = kh * kw, rowLength = channels * kk;
  const groups = field(h, DEFORM_GROUPS), offsetGroups = field(h, DEFORM_OFFSET_GROUPS), useMask = field(h, DEFORM_USE_MASK) != 0;
  const cg = channels / groups, cog = channels / offsetGroups, perImage = field(h, DEFORM_OUT_HEIGHT) * field(h, DEFORM_OUT_WIDTH);
  const fh = <f32>height, fw = <f32>width;
  for (let p = p0; p < p1; p++) {
    const b = p / perImage, row = at(col, (p - p0) * rowLength);
    for (let og = 0; og < offsetGroups; og++) {
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const ij = i * kw + j;
          const pos = samplePosition(h, offset, p, og, i, j);
          const y = f32x4.extract_lane(pos, 0), xx = f32x4.extract_lane(pos, 1);
          const m: f32 = useMask ? load<f32>(at(mask, (p * offsetGroups + og) * kk + ij)) : 1;
          let p00 = zero, p01 = zero, p10 = zero, p11 = zero;
          let w00: f32 = 0, w01: f32 = 0, w10: f32 = 0, w11: f32 = 0;
          if (y > -1 && y < fh && xx > -1 && xx < fw) {
            const fy = floor<f32>(y), fx = floor<f32>(xx);
            const ly = y - fy, lx = xx - fx, hy: f32 = 1 - ly, hx: f32 = 1 - lx;
            w00 = hy * hx;
            w01 = hy * lx;
            w10 = ly * hx;
            w11 = ly * lx;
            p00 = pixel(x, zero, b, fy, fx, height, width, channels);
            p01 = pixel(x, zero, b, fy, fx + 1, height, width, channels);
            p10 = pixel(x, zero, b, fy + 1, fx, height, width, channels);
            p11 = pixel(x, zero, b, fy + 1, fx + 1, height, width, channels);
          }
          for (let ch = og * cog, end = ch + cog; ch < end;) {
            const grp = ch / cg, segEnd = min(end, (grp + 1) * cg);
            // Channel ch of group grp sits at (grp KK + ij) Cg + ch - grp Cg.
            const dst = at(row, (grp * kk + ij) * cg - grp * cg);
            columnSegment(dst, ch, segEnd, m, p00, p01, p10, p11, w00, w01, w10, w11);
            ch = segEnd;
          }
        }
      }
    }
  }
}

/**
 * out[B, OH, OW, Cout] = deform_conv2d of x[B, H, W, C] (no bias), offset,
 * mask (read only when the header's useMask), weight HWIO; scratch as in the
 * file comment. Pointers are byte offsets.
 */
export function deform_conv2d(x: usize, offset: usize, mask: usize, weight: usize, out: usize, scratch: usize): void {
  const h = scratch;
  const channels = field(h, DEFORM_CHANNELS), kk = field(h, DEFORM_KERNEL_HEIGHT) * field(h, DEFORM_KERNEL_WIDTH), rowLength = channels * kk;
  const groups = field(h, DEFORM_GROUPS), outChannels = field(h, DEFORM_OUT_CHANNELS), chunk = field(h, DEFORM_CHUNK);
  const kg = rowLength / groups, cog = outChannels / groups;
  const positions = field(h, DEFORM_BATCH) * field(h, DEFORM_OUT_HEIGHT) * field(h, DEFORM_OUT_WIDTH);
  const zero = at(scratch, DEFORM_HEADER_WORDS), col = at(zero, padded(channels));
  zeroFloats(zero, channels);
  for (let p0 = 0; p0 < positions; p0 += chunk) {
    const p1 = min(positions, p0 + chunk), rows = p1 - p0;
    sampleColumns(h, x, offset, mask, col, zero, p0, p1);
    for (let g = 0; g < groups; g++) {
      gemm(at(col, g * kg), rowLength, 1, at(weight, g * cog), outChannels,
          at(out, p0 * outChannels + g * cog), outChannels, rows, cog, kg, false);
    }
  }
}

// --- backward ---------------------------------------------------------------------------------

/**
 * One segment of channels [c0, c1) of a sample in the backward pass: returns
 * the four sums of dcol * corner value (as vectors added to s), writes the
 * columns and (when inRange) scatters m w dcol into the dx corners q.
 */
// @ts-ignore: decorator
@inline function backwardSegment(
    colDst: usize, dcolSrc: usize, c0: i32, c1: i32, m: f32, inRange: bool,
    p00: usize, p01: usize, p10: usize, p11: usize, q00: usize, q01: usize, q10: usize, q11: usize,
    w00: f32, w01: f32, w10: f32, w11: f32, sums: usize): void {
  let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s10 = f32x4.splat(0), s11 = f32x4.splat(0);
  const mv = f32x4.splat(m);
  const a = f32x4.splat(w00), b = f32x4.splat(w01), c = f32x4.splat(w10), d = f32x4.splat(w11);
  let ch = c0;
  for (; ch + 4 <= c1; ch += 4) {
    const o = <usize>ch << 2;
    const g = v128.load(dcolSrc + o);
    const v00 = v128.load(p00 + o), v01 = v128.load(p01 + o), v10 = v128.load(p10 + o), v11 = v128.load(p11 + o);
    s00 = f32x4.add(s00, f32x4.mul(g, v00));
    s01 = f32x4.add(s01, f32x4.mul(g, v01));
    s10 = f32x4.add(s10, f32x4.mul(g, v10));
    s11 = f32x4.add(s11, f32x4.mul(g, v11));
    if (inRange) {
      let v = f32x4.mul(a, v00);
      v = f32x4.add(v, f32x4.mul(b, v01));
      v = f32x4.add(v, f32x4.mul(c, v10));
      v = f32x4.add(v, f32x4.mul(d, v11));
      v128.store(colDst + o, f32x4.mul(mv, v));
      const mg = f32x4.mul(mv, g);
      v128.store(q00 + o, f32x4.add(v128.load(q00 + o), f32x4.mul(a, mg)));
      v128.store(q01 + o, f32x4.add(v128.load(q01 + o), f32x4.mul(b, mg)));
      v128.store(q10 + o, f32x4.add(v128.load(q10 + o), f32x4.mul(c, mg)));
      v128.store(q11 + o, f32x4.add(v128.load(q11 + o), f32x4.mul(d, mg)));
    } else {
      v128.store(colDst + o, f32x4.mul(mv, f32x4.splat(0)));
    }
  }
  let t00 = hsum(s00), t01 = hsum(s01), t10 = hsum(s10), t11 = hsum(s11);
  for (; ch < c1; ch++) {
    const o = <usize>ch << 2;
    const g = load<f32>(dcolSrc + o);
    const v00 = load<f32>(p00 + o), v01 = load<f32>(p01 + o), v10 = load<f32>(p10 + o), v11 = load<f32>(p11 + o);
    t00 += g * v00;
    t01 += g * v01;
    t10 += g * v10;
    t11 += g * v11;
    if (inRange) {
      store<f32>(colDst + o, m * (w00 * v00 + w01 * v01 + w10 * v10 + w11 * v11));
      const mg = m * g;
      store<f32>(q00 + o, load<f32>(q00 + o) + w00 * mg);
      store<f32>(q01 + o, load<f32>(q01 + o) + w01 * mg);
      store<f32>(q10 + o, load<f32>(q10 + o) + w10 * mg);
      store<f32>(q11 + o, load<f32>(q11 + o) + w11 * mg);
    } else {
      store<f32>(colDst + o, m * 0);
    }
  }
  store<f32>(sums, load<f32>(sums) + t00);
  store<f32>(sums, load<f32>(sums, 4) + t01, 4);
  store<f32>(sums, load<f32>(sums, 8) + t10, 8);
  store<f32>(sums, load<f32>(sums, 12) + t11, 12);
}

/** Columns, dx, dOffset and dMask of positions [p0, p1) from dcol. `sums`: 4 scratch floats. */
function sampleGradients(
    h: usize, x: usize, offset: usize, mask: usize, col: usize, dcol: usize, dx: usize, dOffset: usize,
    dMask: usize, zero: usize, sink: usize, sums: usize, p0: i32, p1: i32): void {
  const height = field(h, DEFORM_HEIGHT), width = field(h, DEFORM_WIDTH), channels = field(h, DEFORM_CHANNELS);
  const kh = field(h, DEFORM_KERNEL_HEIGHT), kw = field(h, DEFORM_KERNEL_WIDTH), kk = kh * kw, rowLength = channels * kk;
  const groups = field(h, DEFORM_GROUPS), offsetGroups = field(h, DEFORM_OFFSET_GROUPS), useMask = field(h, DEFORM_USE_MASK) != 0;
  const cg = channels / groups, cog = channels / offsetGroups, perImage = field(h, DEFORM_OUT_HEIGHT) * field(h, DEFORM_OUT_WIDTH);
  const fh = <f32>height, fw = <f32>width;
  for (let p = p0; p < p1; p++) {
    const b = p / perImage, row = (p - p0) * rowLength;
    for (let og = 0; og < offsetGroups; og++) {
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const ij = i * kw + j;
          const pos = samplePosition(h, offset, p, og, i, j);
          const y = f32x4.extract_lane(pos, 0), xx = f32x4.extract_lane(pos, 1);
          const sample = (p * offsetGroups + og) * kk + ij;
          const m: f32 = useMask ? load<f32>(at(mask, sample)) : 1;
          const o = at(dOffset, 2 * sample);
          if (!(isFinite<f32>(y) && isFinite<f32>(xx))) {
            store<f32>(o, 0);
            store<f32>(o, 0, 4);
            if (useMask) store<f32>(at(dMask, sample), 0);
            for (let ch = og * cog, end = ch + cog; ch < end; ch++) {
              const grp = ch / cg;
              store<f32>(at(col, row + (grp * kk + ij) * cg - grp * cg + ch), m * 0);
            }
            continue;
          }
          const inRange = y > -1 && y < fh && xx > -1 && xx < fw;
          const fy = floor<f32>(y), fx = floor<f32>(xx);
          const ly: f32 = y - fy, lx: f32 = xx - fx;
          let w00: f32 = 0, w01: f32 = 0, w10: f32 = 0, w11: f32 = 0;
          if (inRange) {
            const hy: f32 = 1 - ly, hx: f32 = 1 - lx;
            w00 = hy * hx;
            w01 = hy * lx;
            w10 = ly * hx;
            w11 = ly * lx;
          }
          const p00 = pixel(x, zero, b, fy, fx, height, width, channels);
          const p01 = pixel(x, zero, b, fy, fx + 1, height, width, channels);
          const p10 = pixel(x, zero, b, fy + 1, fx, height, width, channels);
          const p11 = pixel(x, zero, b, fy + 1, fx + 1, height, width, channels);
          const q00 = pixel(dx, sink, b, fy, fx, height, width, channels);
          const q01 = pixel(dx, sink, b, fy, fx + 1, height, width, channels);
          const q10 = pixel(dx, sink, b, fy + 1, fx, height, width, channels);
          const q11 = pixel(dx, sink, b, fy + 1, fx + 1, height, width, channels);
          v128.store(sums, f32x4.splat(0));
          for (let ch = og * cog, end = ch + cog; ch < end;) {
            const grp = ch / cg, segEnd = min(end, (grp + 1) * cg);
            const base = row + (grp * kk + ij) * cg - grp * cg;
            backwardSegment(at(col, base), at(dcol, base), ch, segEnd, m, inRange,
                p00, p01, p10, p11, q00, q01, q10, q11, w00, w01, w10, w11, sums);
            ch = segEnd;
          }
          const s00 = load<f32>(sums), s01 = load<f32>(sums, 4), s10 = load<f32>(sums, 8), s11 = load<f32>(sums, 12);
          store<f32>(o, m * (lx * (s11 - s01) + (1 - lx) * (s10 - s00)));
          store<f32>(o, m * (ly * (s11 - s10) + (1 - ly) * (s01 - s00)), 4);
          if (useMask) {
            store<f32>(at(dMask, sample), inRange ? w00 * s00 + w01 * s01 + w10 * s10 + w11 * s11 : 0);
          }
        }
      }
    }
  }
}

/**
 * Gradients of sum(dy * deform_conv2d(...)): dx (shape of x), dOffset, dMask
 * (left zero unless useMask; the dummy then has one float) and dWeight (HWIO).
 * Scratch as in the file comment.
 */
export function deform_conv2d_grad(
    dy: usize, x: usize, offset: usize, mask: usize, weight: usize, dx: usize, dOffset: usize, dMask: usize,
    dWeight: usize, scratch: usize): void {
  const h = scratch;
  const channels = field(h, DEFORM_CHANNELS), kk = field(h, DEFORM_KERNEL_HEIGHT) * field(h, DEFORM_KERNEL_WIDTH), rowLength = channels * kk;
  const groups = field(h, DEFORM_GROUPS), outChannels = field(h, DEFORM_OUT_CHANNELS), chunk = field(h, DEFORM_CHUNK);
  const kg = rowLength / groups, cog = outChannels / groups;
  const positions = field(h, DEFORM_BATCH) * field(h, DEFORM_OUT_HEIGHT) * field(h, DEFORM_OUT_WIDTH);
  const zero = at(scratch, DEFORM_HEADER_WORDS), sink = at(zero, padded(channels)), sums = at(sink, padded(channels));
  const col = at(sums, 4), dcol = at(col, chunk * rowLength), wt = at(dcol, chunk * rowLength);
  zeroFloats(zero, channels);
  zeroFloats(dx, field(h, DEFORM_BATCH) * field(h, DEFORM_HEIGHT) * field(h, DEFORM_WIDTH) * channels);
  zeroFloats(dWeight, rowLength / groups * outChannels);
  if (field(h, DEFORM_USE_MASK) == 0) store<f32>(dMask, 0);
  // wt[g][co][k] = weight[k][g Cog + co]: the dcol GEMM then reads contiguous rows.
  for (let g = 0; g < groups; g++) {
    for (let co = 0; co < cog; co++) {
      for (let k = 0; k < kg; k++) {
        store<f32>(at(wt, (g * cog + co) * kg + k), load<f32>(at(weight, k * outChannels + g * cog + co)));
      }
    }
  }
  for (let p0 = 0; p0 < positions; p0 += chunk) {
    const p1 = min(positions, p0 + chunk), rows = p1 - p0;
    for (let g = 0; g < groups; g++) {
      gemm(at(dy, p0 * outChannels + g * cog), outChannels, 1, at(wt, g * cog * kg), kg,
          at(dcol, g * kg), rowLength, rows, kg, cog, false);
    }
    sampleGradients(h, x, offset, mask, col, dcol, dx, dOffset, dMask, zero, sink, sums, p0, p1);
    for (let r0 = 0; r0 < rows; r0 += WEIGHT_GRAD_ROWS) {
      const n = min(rows - r0, WEIGHT_GRAD_ROWS);
      for (let g = 0; g < groups; g++) {
        gemm(at(col, r0 * rowLength + g * kg), 1, rowLength, at(dy, (p0 + r0) * outChannels + g * cog),
            outChannels, at(dWeight, g * cog), outChannels, kg, cog, n, true);
      }
    }
  }
}

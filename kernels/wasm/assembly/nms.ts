/**
 * Non-maximum suppression, the algorithm of kernels/reference/nms.ts (read it
 * first): stable radix sort of the scores (descending, NaN first), split by
 * category (batched), then in each category each box in order is tested
 * against the kept boxes near it in a multi-level grid; thresholds < 0 run
 * torchvision's loop. IoU in f32 exactly as torchvision's kernel, compared
 * with the threshold as f64.
 *
 * The caller passes `scratch` of nms_scratch_words(n) 4-byte words (see
 * kernels/wasm/Nms.ts) and `out`, n i32 for the kept indices; the count is
 * returned. Pointers are byte offsets into the imported memory (the tfjs heap).
 */

import {
  NMS_CELLS_PER_BOX, NMS_HOST_MIN_SHRINK_THRESHOLD, NMS_MARGIN, NMS_MIN_SHRINK_AREA, NMS_SHRINK_SLACK,
} from '../generated/constants';

// @ts-ignore: decorator
@inline const MAX_LEVELS: i32 = 40;
// @ts-ignore: decorator
@inline const INACTIVE: u8 = 255;
// Kept-box node: x1, y1, x2, y2, area (f32), next in cell, next in level (i32), unused.
// @ts-ignore: decorator
@inline const NODE_BYTES: usize = 32;

// @ts-ignore: decorator
@inline function f32At(p: usize, i: i32): f32 { return load<f32>(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function i32At(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function setI32(p: usize, i: i32, v: i32): void { store<i32>(p + (<usize>i << 2), v); }

/** Ascending key = descending score; every NaN gets 0, -0 ties with +0. */
// @ts-ignore: decorator
@inline function descendingKey(v: f32): u32 {
  if (v != v) return 0;
  const bits = v == 0 ? <u32>0 : reinterpret<u32>(v);
  return (bits & 0x80000000) != 0 ? bits : ~bits & 0x7fffffff;
}

/** Stable LSD radix sort (8-bit digits) of vals by u32 keys; returns the buffer holding the result. */
function radixSort(keys: usize, tmpKeys: usize, vals: usize, tmpVals: usize, counts: usize, n: i32): usize {
  for (let shift: u32 = 0; shift < 32; shift += 8) {
    memory.fill(counts, 0, 1024);
    for (let i = 0; i < n; i++) {
      const d = <usize>((load<u32>(keys + (<usize>i << 2)) >> shift) & 255);
      store<i32>(counts + (d << 2), load<i32>(counts + (d << 2)) + 1);
    }
    const first = <usize>((load<u32>(keys) >> shift) & 255);
    if (load<i32>(counts + (first << 2)) == n) continue;
    let sum = 0;
    for (let d: usize = 0; d < 256; d++) {
      const c = load<i32>(counts + (d << 2));
      store<i32>(counts + (d << 2), sum);
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const k = load<u32>(keys + (<usize>i << 2));
      const d = <usize>((k >> shift) & 255);
      const at = load<i32>(counts + (d << 2));
      store<i32>(counts + (d << 2), at + 1);
      store<u32>(tmpKeys + (<usize>at << 2), k);
      setI32(tmpVals, at, i32At(vals, i));
    }
    let t = keys; keys = tmpKeys; tmpKeys = t;
    t = vals; vals = tmpVals; tmpVals = t;
  }
  return vals;
}

/** torchvision's IoU(i, j) > threshold with std::max/std::min (first argument on NaN). */
// @ts-ignore: decorator
@inline function iouAbove(boxes: usize, areas: usize, i: i32, j: i32, threshold: f64): bool {
  const a = boxes + (<usize>i << 4), b = boxes + (<usize>j << 4);
  const ix1 = load<f32>(a), iy1 = load<f32>(a, 4), ix2 = load<f32>(a, 8), iy2 = load<f32>(a, 12);
  const jx1 = load<f32>(b), jy1 = load<f32>(b, 4), jx2 = load<f32>(b, 8), jy2 = load<f32>(b, 12);
  const dw: f32 = (jx2 < ix2 ? jx2 : ix2) - (ix1 < jx1 ? jx1 : ix1);
  const dh: f32 = (jy2 < iy2 ? jy2 : iy2) - (iy1 < jy1 ? jy1 : iy1);
  const inter: f32 = (<f32>0 < dw ? dw : <f32>0) * (<f32>0 < dh ? dh : <f32>0);
  const union: f32 = (f32At(areas, i) + f32At(areas, j)) - inter;
  return <f64>(inter / union) > threshold;
}

/** IoU of kept node k and active box j > threshold, given j shrunk to (sx1, sy1, sx2, sy2). */
// @ts-ignore: decorator
@inline function nodeIouAbove(k: usize, jx1: f32, jy1: f32, jx2: f32, jy2: f32, areaJ: f32,
    sx1: f64, sy1: f64, sx2: f64, sy2: f64, threshold: f64): bool {
  const ix1 = load<f32>(k), iy1 = load<f32>(k, 4), ix2 = load<f32>(k, 8), iy2 = load<f32>(k, 12);
  if (!(<f64>ix1 < sx2 && sx1 < <f64>ix2 && <f64>iy1 < sy2 && sy1 < <f64>iy2)) return false;
  const inter: f32 = ((ix2 < jx2 ? ix2 : jx2) - (ix1 < jx1 ? jx1 : ix1)) *
      ((iy2 < jy2 ? iy2 : jy2) - (iy1 < jy1 ? jy1 : iy1));
  return <f64>(inter / ((load<f32>(k, 16) + areaJ) - inter)) > threshold;
}

// @ts-ignore: decorator
@inline function cellOf(v: f64, hi: i32): i32 {
  return v < 0 ? 0 : v > <f64>hi ? hi : <i32>v;
}

/** Words of scratch that `nms` needs for n boxes. */
export function nms_scratch_words(n: i32): i32 {
  return 24 * n + 1024;
}

/**
 * Kept box indices (decreasing score) into out; returns their count.
 * idxs (i32 categories) is read only when batched != 0.
 */
export function nms(boxes: usize, scores: usize, idxs: usize, batched: i32, n: i32, scratch: usize,
    out: usize, threshold: f64): i32 {
  if (n <= 0) return 0;
  const nw = <usize>n << 2;
  // Scratch (4-byte words): keys 2n, orders 3n, counts 256, areas n, nodes 8n, level and kept
  // bytes 2n/4, level tables 7 * MAX_LEVELS (cell sizes are f64), cell heads 8n + 8 * MAX_LEVELS.
  const keys = scratch, tmpKeys = keys + nw;
  const orderA = tmpKeys + nw, orderB = orderA + nw, orderC = orderB + nw;
  const counts = orderC + nw;
  const areas = counts + 1024;
  const nodes = areas + nw;
  const level = nodes + (nw << 3), kept = level + <usize>n;
  const tables = (kept + <usize>n + 7) & ~<usize>7;
  const heads = tables + (<usize>MAX_LEVELS * 28 + 8);

  for (let i = 0; i < n; i++) {
    store<u32>(keys + (<usize>i << 2), descendingKey(f32At(scores, i)));
    setI32(orderA, i, i);
    const b = boxes + (<usize>i << 4);
    store<f32>(areas + (<usize>i << 2), (load<f32>(b, 8) - load<f32>(b)) * (load<f32>(b, 12) - load<f32>(b, 4)));
  }
  const order = radixSort(keys, tmpKeys, orderA, orderB, counts, n);
  if (!(threshold >= 0)) return greedy(boxes, areas, idxs, batched, n, threshold, order, level, out);

  memory.fill(kept, 0, <usize>n);
  if (batched == 0) {
    suppressSegment(boxes, areas, order, 0, n, threshold, level, kept, nodes, tables, heads);
  } else {
    // Stable sort of the score order by category; each category is one segment.
    const spare = order == orderA ? orderB : orderA;
    for (let p = 0; p < n; p++) {
      const i = i32At(order, p);
      store<u32>(keys + (<usize>p << 2), <u32>i32At(idxs, i) ^ 0x80000000);
      setI32(spare, p, i);
    }
    const byClass = radixSort(keys, tmpKeys, spare, orderC, counts, n);
    let start = 0;
    while (start < n) {
      const cls = i32At(idxs, i32At(byClass, start));
      let end = start + 1;
      while (end < n && i32At(idxs, i32At(byClass, end)) == cls) end++;
      suppressSegment(boxes, areas, byClass, start, end, threshold, level, kept, nodes, tables, heads);
      start = end;
    }
  }
  let count = 0;
  for (let p = 0; p < n; p++) {
    const i = i32At(order, p);
    if (load<u8>(kept + <usize>i) != 0) setI32(out, count++, i);
  }
  return count;
}

/**
 * Greedy NMS of the boxes seq[start..end) (one category, decreasing score),
 * setting kept[box]: the multi-level grid of kernels/reference/nms.ts
 * (suppressSegment). tables holds 7 * MAX_LEVELS + 2 words, heads 8 * count + 8 * MAX_LEVELS.
 */
function suppressSegment(boxes: usize, areas: usize, seq: usize, start: i32, end: i32, threshold: f64,
    level: usize, kept: usize, nodes: usize, tables: usize, heads: usize): void {
  const cellSize = tables, gx = cellSize + (<usize>MAX_LEVELS << 3), gy = gx + (<usize>MAX_LEVELS << 2);
  const base = gy + (<usize>MAX_LEVELS << 2);
  const levelHead = base + (<usize>(MAX_LEVELS + 1) << 2), levelCount = levelHead + (<usize>MAX_LEVELS << 2);
  const headCapacity = <i64>(8 * (end - start) + 8 * MAX_LEVELS);

  // Active boxes (finite, positive width and height, finite area) and their extent.
  let nActive = 0;
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let p = start; p < end; p++) {
    const i = i32At(seq, p);
    const b = boxes + (<usize>i << 4);
    const x1 = load<f32>(b), y1 = load<f32>(b, 4), x2 = load<f32>(b, 8), y2 = load<f32>(b, 12);
    const ok = x2 > x1 && y2 > y1 && isFinite<f32>(x1) && isFinite<f32>(y1) && isFinite<f32>(x2) &&
        isFinite<f32>(y2) && isFinite<f32>(f32At(areas, i));
    store<u8>(level + <usize>i, ok ? 0 : INACTIVE);
    if (!ok) {
      store<u8>(kept + <usize>i, 1);
      continue;
    }
    nActive++;
    minX = min<f64>(minX, x1);
    minY = min<f64>(minY, y1);
    maxX = max<f64>(maxX, x2);
    maxY = max<f64>(maxY, y2);
  }
  if (nActive == 0) return;
  const ex = maxX - minX, ey = maxY - minY;
  let cell0 = max<f64>(sqrt<f64>(ex * ey / (NMS_CELLS_PER_BOX * <f64>nActive)), max<f64>(ex, ey) / (NMS_CELLS_PER_BOX * <f64>nActive));

  // Level per box and grid per level; the cell size doubles until the heads fit (the bound always allows it).
  let levels = 1;
  while (true) {
    levels = 1;
    for (let p = start; p < end; p++) {
      const i = i32At(seq, p);
      if (load<u8>(level + <usize>i) == INACTIVE) continue;
      const b = boxes + (<usize>i << 4);
      const side = max<f64>(<f64>load<f32>(b, 8) - <f64>load<f32>(b), <f64>load<f32>(b, 12) - <f64>load<f32>(b, 4));
      let l = 0;
      for (let cell = cell0; side > cell && l < MAX_LEVELS - 1; cell *= 2) l++;
      store<u8>(level + <usize>i, <u8>l);
      if (l >= levels) levels = l + 1;
    }
    let total: i64 = 0;
    store<i32>(base, 0);
    for (let l = 0; l < levels; l++) {
      const cs = cell0 * <f64>(<i64>1 << l);
      store<f64>(cellSize + (<usize>l << 3), cs);
      const w = <i32>min<f64>(floor<f64>(ex / cs) + 1, 1e9), h = <i32>min<f64>(floor<f64>(ey / cs) + 1, 1e9);
      setI32(gx, l, w);
      setI32(gy, l, h);
      total += <i64>w * <i64>h;
      setI32(base, l + 1, total <= headCapacity ? <i32>total : 0);
    }
    if (total <= headCapacity) break;
    cell0 *= 2;
  }
  memory.fill(heads, 0xff, <usize>i32At(base, levels) << 2);
  memory.fill(levelHead, 0xff, <usize>levels << 2);
  memory.fill(levelCount, 0, <usize>levels << 2);

  const shrink: f64 = threshold >= NMS_HOST_MIN_SHRINK_THRESHOLD ? threshold * (1 - NMS_SHRINK_SLACK) : 0;
  let stored = 0;
  for (let p = start; p < end; p++) {
    const j = i32At(seq, p);
    const lj = load<u8>(level + <usize>j);
    if (lj == INACTIVE) continue;
    const b = boxes + (<usize>j << 4);
    const jx1 = load<f32>(b), jy1 = load<f32>(b, 4), jx2 = load<f32>(b, 8), jy2 = load<f32>(b, 12);
    const aj = f32At(areas, j);
    // No shrink below NMS_MIN_SHRINK_AREA (kernels/reference/nms.ts): subnormal products round too far.
    const sj: f64 = <f64>aj >= NMS_MIN_SHRINK_AREA ? shrink : 0;
    const dx = sj * (<f64>jx2 - <f64>jx1), dy = sj * (<f64>jy2 - <f64>jy1);
    const sx1 = <f64>jx1 + dx, sy1 = <f64>jy1 + dy, sx2 = <f64>jx2 - dx, sy2 = <f64>jy2 - dy;
    let suppressed = false;
    for (let l = 0; l < levels && !suppressed; l++) {
      const inLevel = i32At(levelCount, l);
      if (inLevel == 0) continue;
      const cs = load<f64>(cellSize + (<usize>l << 3));
      const w = i32At(gx, l), h = i32At(gy, l);
      // Cells of the corners of the boxes filed here that can reach into (sx1, sx2) x (sy1, sy2).
      const x0 = cellOf(floor<f64>((sx1 - minX) / cs - 1 - NMS_MARGIN), w - 1);
      const x1 = cellOf(floor<f64>((sx2 - minX) / cs + NMS_MARGIN), w - 1);
      const y0 = cellOf(floor<f64>((sy1 - minY) / cs - 1 - NMS_MARGIN), h - 1);
      const y1 = cellOf(floor<f64>((sy2 - minY) / cs + NMS_MARGIN), h - 1);
      if (x1 < x0 || y1 < y0) continue;
      if (<i64>(x1 - x0 + 1) * <i64>(y1 - y0 + 1) > <i64>inLevel) {
        for (let k = i32At(levelHead, l); k >= 0 && !suppressed; k = load<i32>(nodes + <usize>k * NODE_BYTES, 24)) {
          suppressed = nodeIouAbove(nodes + <usize>k * NODE_BYTES, jx1, jy1, jx2, jy2, aj, sx1, sy1, sx2, sy2, threshold);
        }
        continue;
      }
      for (let cy = y0; cy <= y1 && !suppressed; cy++) {
        const row = heads + (<usize>(i32At(base, l) + cy * w) << 2);
        for (let cx = x0; cx <= x1 && !suppressed; cx++) {
          for (let k = load<i32>(row + (<usize>cx << 2)); k >= 0 && !suppressed;
               k = load<i32>(nodes + <usize>k * NODE_BYTES, 20)) {
            suppressed = nodeIouAbove(nodes + <usize>k * NODE_BYTES, jx1, jy1, jx2, jy2, aj, sx1, sy1, sx2, sy2, threshold);
          }
        }
      }
    }
    if (suppressed) continue;
    store<u8>(kept + <usize>j, 1);
    const l = <i32>lj;
    const cs = load<f64>(cellSize + (<usize>l << 3));
    const w = i32At(gx, l), h = i32At(gy, l);
    const cell = i32At(base, l) + cellOf(floor<f64>((<f64>jy1 - minY) / cs), h - 1) * w +
        cellOf(floor<f64>((<f64>jx1 - minX) / cs), w - 1);
    const head = heads + (<usize>cell << 2);
    const node = nodes + <usize>stored * NODE_BYTES;
    store<f32>(node, jx1);
    store<f32>(node, jy1, 4);
    store<f32>(node, jx2, 8);
    store<f32>(node, jy2, 12);
    store<f32>(node, aj, 16);
    store<i32>(node, load<i32>(head), 20);
    store<i32>(head, stored);
    store<i32>(node, i32At(levelHead, l), 24);
    setI32(levelHead, l, stored);
    setI32(levelCount, l, i32At(levelCount, l) + 1);
    stored++;
  }
}

/** torchvision's loop (any threshold); `suppressed` holds n bytes. */
function greedy(boxes: usize, areas: usize, idxs: usize, batched: i32, n: i32, threshold: f64, order: usize,
    suppressed: usize, out: usize): i32 {
  memory.fill(suppressed, 0, <usize>n);
  let count = 0;
  for (let p = 0; p < n; p++) {
    const i = i32At(order, p);
    if (load<u8>(suppressed + <usize>i) != 0) continue;
    setI32(out, count++, i);
    const ci = batched != 0 ? i32At(idxs, i) : 0;
    for (let q = p + 1; q < n; q++) {
      const j = i32At(order, q);
      if (load<u8>(suppressed + <usize>j) != 0 || (batched != 0 && i32At(idxs, j) != ci)) continue;
      if (iouAbove(boxes, areas, i, j, threshold)) store<u8>(suppressed + <usize>j, 1);
    }
  }
  return count;
}

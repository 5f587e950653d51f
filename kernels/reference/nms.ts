/**
 * Non-maximum suppression on host typed arrays, shared by the cpu kernel and
 * the host path of tfjs-node. Same result as torchvision's CPU kernel, bit for bit:
 *  - order: scores sorted descending, stable (ties by ascending index), NaN first;
 *  - box j is dropped when a kept box i before it has IoU(i, j) > threshold,
 *    IoU in float32 as box_iou: inter / ((area_i + area_j) - inter), each step
 *    rounded to float32, compared with the threshold as a double (C++ promotes);
 *  - batched: only boxes of the same category suppress each other; the result
 *    stays in the global order (decreasing score).
 *
 * `nmsGreedy` is torchvision's O(N * kept) loop. `nmsKeep` gives the same
 * indices faster: for a threshold >= 0 a box can only be suppressed by a kept
 * box that overlaps it enough, so kept boxes go into a grid and each box is
 * tested against the kept boxes near it only (each category on its own grid).
 */
import {NMS_CELLS_PER_BOX, NMS_HOST_MIN_SHRINK_THRESHOLD, NMS_MARGIN, NMS_MIN_SHRINK_AREA, NMS_SHRINK_SLACK} from '../constants.ts';
type Floats = ArrayLike<number>;

/** Sort key of a float32 score: ascending key = descending score, every NaN first. */
function descendingKey(f32: Float32Array, u32: Uint32Array, i: number): number {
  const v = f32[i];
  if (v !== v) return 0;
  const bits = v === 0 ? 0 : u32[i];  // -0 ties with +0
  // Monotone map of the float's bits onto uint32, then complemented for descending order.
  return (bits & 0x80000000 ? bits : ~bits & 0x7fffffff) >>> 0;
}

/** Stable LSD radix sort of values by uint32 keys (8-bit digits; skips digits all keys share). */
function radixSort(keys: Uint32Array, values: Int32Array): Int32Array {
  const n = keys.length;
  let tmpKeys: Uint32Array = new Uint32Array(n), tmpValues: Int32Array = new Int32Array(n);
  const counts = new Int32Array(256);
  for (let shift = 0; shift < 32; shift += 8) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(keys[i] >>> shift) & 255]++;
    if (n === 0 || counts[(keys[0] >>> shift) & 255] === n) continue;
    let sum = 0;
    for (let d = 0; d < 256; d++) {
      const c = counts[d];
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const at = counts[(keys[i] >>> shift) & 255]++;
      tmpKeys[at] = keys[i];
      tmpValues[at] = values[i];
    }
    [keys, tmpKeys] = [tmpKeys, keys];
    [values, tmpValues] = [tmpValues, values];
  }
  return values;
}

/** Positions -> box indices: scores sorted descending, stable, NaN first. */
export function sortByScoreDescending(scores: Floats): Int32Array {
  const n = scores.length;
  const f32 = scores instanceof Float32Array ? scores : Float32Array.from(scores);
  const u32 = new Uint32Array(f32.buffer, f32.byteOffset, n);
  const keys = new Uint32Array(n), order = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    keys[i] = descendingKey(f32, u32, i);
    order[i] = i;
  }
  return radixSort(keys, order);
}

/** (x2 - x1) * (y2 - y1) per box, in float32 as torchvision. */
export function boxAreas(boxes: Floats, n: number): Float32Array {
  const areas = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const b = 4 * i;
    areas[i] = Math.fround(boxes[b + 2] - boxes[b]) * Math.fround(boxes[b + 3] - boxes[b + 1]);
  }
  return areas;
}

const fround = Math.fround;

/**
 * IoU(i, j) > threshold exactly as torchvision's kernel: float32 steps and
 * std::max/std::min, which return their first argument when a comparison
 * involves NaN (the IoU is then NaN and suppresses nothing anyway).
 */
export function iouAbove(boxes: Floats, areas: Float32Array, i: number, j: number, threshold: number): boolean {
  const a = 4 * i, b = 4 * j;
  const xx1 = boxes[a] < boxes[b] ? boxes[b] : boxes[a];
  const yy1 = boxes[a + 1] < boxes[b + 1] ? boxes[b + 1] : boxes[a + 1];
  const xx2 = boxes[b + 2] < boxes[a + 2] ? boxes[b + 2] : boxes[a + 2];
  const yy2 = boxes[b + 3] < boxes[a + 3] ? boxes[b + 3] : boxes[a + 3];
  const dw = fround(xx2 - xx1), dh = fround(yy2 - yy1);
  const inter = fround((0 < dw ? dw : 0) * (0 < dh ? dh : 0));
  return fround(inter / fround(fround(areas[i] + areas[j]) - inter)) > threshold;
}

/** torchvision's loop: for each kept box in order, suppress every later box above the threshold. */
export function nmsGreedy(boxes: Floats, scores: Floats, idxs: ArrayLike<number>|null, threshold: number): Int32Array {
  const n = scores.length;
  const order = sortByScoreDescending(scores);
  const areas = boxAreas(boxes, n);
  const suppressed = new Uint8Array(n);
  const keep = new Int32Array(n);
  let count = 0;
  for (let p = 0; p < n; p++) {
    const i = order[p];
    if (suppressed[i]) continue;
    keep[count++] = i;
    for (let q = p + 1; q < n; q++) {
      const j = order[q];
      if (suppressed[j] || (idxs != null && idxs[i] !== idxs[j])) continue;
      if (iouAbove(boxes, areas, i, j, threshold)) suppressed[j] = 1;
    }
  }
  return keep.slice(0, count);
}

/** Level 0 of the grid has about 2 cells per box; a query margin of 1e-3 cell absorbs rounding. */

/**
 * IoU > t needs an overlap of more than t * width(j) along x (inter = ow oh,
 * oh <= h_j, union >= w_j h_j), and likewise along y. The float32 IoU is
 * within 1e-6 (relative) of the exact one where box j's float32 area is at
 * least MIN_SHRINK_AREA, so with 1e-4 of slack the shrunken box j is a safe
 * filter. Small thresholds do not shrink.
 */
function overlapFraction(threshold: number): number {
  return threshold >= NMS_HOST_MIN_SHRINK_THRESHOLD ? threshold * (1 - NMS_SHRINK_SLACK) : 0;
}

/**
 * Below this area (float32) box j is not shrunk. Subnormal products round to
 * multiples of 2^-149 (a relative error up to 1 near the bottom), so the
 * float32 IoU of tiny boxes can exceed the exact one by far (an area of 1.4
 * units rounds to 1 and so does their overlap: IoU 1). At area >= 1e-30 >
 * 2^-100 the union is >= the area and every absolute error of 2^-150 is
 * below 2^-49 of it: the 1e-6 bound holds. (Differences of float32 are exact
 * when subnormal, so widths are always within 2^-24.)
 */

/**
 * A box can interact only if its coordinates are finite and it has positive
 * width, height and a finite area: any other box has IoU 0 or NaN with every
 * box, so it is kept and suppresses nothing (for thresholds >= 0).
 */
function isActive(boxes: Float32Array, areas: Float32Array, i: number): boolean {
  const b = 4 * i;
  return boxes[b + 2] > boxes[b] && boxes[b + 3] > boxes[b + 1] && Number.isFinite(boxes[b]) &&
      Number.isFinite(boxes[b + 1]) && Number.isFinite(boxes[b + 2]) && Number.isFinite(boxes[b + 3]) &&
      Number.isFinite(areas[i]);
}

/**
 * Kept boxes are stored as 8-word nodes (one cache line holds two): x1, y1,
 * x2, y2, area (float32), then (int32) the next node in the cell and the next
 * node in the level; -1 ends a list.
 */
const NODE = 8, AREA = 4, NEXT = 5, LEVEL_NEXT = 6;

/**
 * `iouAbove` of kept node k and box j, both active; (sx1, sy1, sx2, sy2) is
 * box j shrunk by `overlapFraction`, which the kept box must reach into.
 */
function nodeIouAbove(
    node: Float32Array, k: number, boxes: Float32Array, b: number, areaJ: number, sx1: number, sy1: number,
    sx2: number, sy2: number, threshold: number): boolean {
  const o = NODE * k;
  const ix1 = node[o], iy1 = node[o + 1], ix2 = node[o + 2], iy2 = node[o + 3];
  if (!(ix1 < sx2 && sx1 < ix2 && iy1 < sy2 && sy1 < iy2)) return false;
  const jx1 = boxes[b], jy1 = boxes[b + 1], jx2 = boxes[b + 2], jy2 = boxes[b + 3];
  const inter = fround(fround((ix2 < jx2 ? ix2 : jx2) - (ix1 < jx1 ? jx1 : ix1)) *
      fround((iy2 < jy2 ? iy2 : jy2) - (iy1 < jy1 ? jy1 : iy1)));
  return fround(inter / fround(fround(node[o + AREA] + areaJ) - inter)) > threshold;
}

function clamp(v: number, hi: number) {
  return v < 0 ? 0 : v > hi ? hi : v;
}

/** Buffers reused by every category: per box, per kept node, and the cell heads. */
interface GridScratch {
  active: Uint8Array;
  level: Uint8Array;
  node: Float32Array;
  link: Int32Array;
  head: Int32Array;
}

function gridScratch(n: number): GridScratch {
  const node = new Float32Array(NODE * n);
  return {active: new Uint8Array(n), level: new Uint8Array(n), node, link: new Int32Array(node.buffer),
    head: new Int32Array(8 * n + 64)};
}

/**
 * Greedy NMS of the boxes seq[start..end) (one category, in decreasing-score
 * order), setting kept[box]. Kept boxes go into a multi-level grid: level L
 * has cells of size c0 * 2^L and holds the boxes whose larger side fits in one
 * cell, filed under the cell of their (x1, y1) corner, so the boxes at level
 * L that can reach into box j have their corner in (x1j - cell, x2j) x
 * (y1j - cell, y2j). A level whose query would visit more cells than it holds
 * boxes is scanned as a list. Memory O(boxes); time: per box, the kept boxes
 * near it.
 */
function suppressSegment(
    boxes: Float32Array, areas: Float32Array, seq: Int32Array, start: number, end: number, threshold: number,
    kept: Uint8Array, g: GridScratch) {
  const {active, level, node, link, head} = g;
  let nActive = 0, minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let p = start; p < end; p++) {
    const i = seq[p];
    active[i] = isActive(boxes, areas, i) ? 1 : 0;
    if (!active[i]) continue;
    nActive++;
    const b = 4 * i;
    minX = Math.min(minX, boxes[b]);
    minY = Math.min(minY, boxes[b + 1]);
    maxX = Math.max(maxX, boxes[b + 2]);
    maxY = Math.max(maxY, boxes[b + 3]);
  }
  const ex = maxX - minX, ey = maxY - minY;
  // About 2 cells per box on level 0, at most 2 * nActive + 1 along one axis: 8 * nActive + levels cells in all.
  const cell0 = Math.max(Math.sqrt(ex * ey / (NMS_CELLS_PER_BOX * nActive)), Math.max(ex, ey) / (NMS_CELLS_PER_BOX * nActive));
  let levels = 1;
  for (let p = start; p < end; p++) {
    const i = seq[p];
    if (!active[i]) continue;
    const b = 4 * i;
    const side = Math.max(boxes[b + 2] - boxes[b], boxes[b + 3] - boxes[b + 1]);
    let l = 0;
    for (let cell = cell0; side > cell; cell *= 2) l++;
    level[i] = l;
    if (l >= levels) levels = l + 1;
  }
  const cellSize = new Float64Array(levels), gx = new Int32Array(levels), gy = new Int32Array(levels);
  const base = new Int32Array(levels + 1);
  for (let l = 0; l < levels && nActive > 0; l++) {
    cellSize[l] = cell0 * 2 ** l;
    gx[l] = Math.floor(ex / cellSize[l]) + 1;
    gy[l] = Math.floor(ey / cellSize[l]) + 1;
    base[l + 1] = base[l] + gx[l] * gy[l];
  }
  head.fill(-1, 0, base[levels]);
  const levelHead = new Int32Array(levels).fill(-1), levelCount = new Int32Array(levels);
  let nodes = 0;

  const shrink = overlapFraction(threshold);
  for (let p = start; p < end; p++) {
    const j = seq[p];
    if (!active[j]) {
      kept[j] = 1;
      continue;
    }
    const b = 4 * j;
    const jx1 = boxes[b], jy1 = boxes[b + 1], jx2 = boxes[b + 2], jy2 = boxes[b + 3], aj = areas[j];
    const sj = aj >= NMS_MIN_SHRINK_AREA ? shrink : 0;
    const dx = sj * (jx2 - jx1), dy = sj * (jy2 - jy1);
    const sx1 = jx1 + dx, sy1 = jy1 + dy, sx2 = jx2 - dx, sy2 = jy2 - dy;
    let suppressed = false;
    for (let l = 0; l < levels && !suppressed; l++) {
      const inLevel = levelCount[l];
      if (inLevel === 0) continue;
      const cs = cellSize[l], w = gx[l];
      // Cells of the corners of the boxes filed here that can reach into (sx1, sx2) x (sy1, sy2).
      const x0 = clamp(Math.floor((sx1 - minX) / cs - 1 - NMS_MARGIN), w - 1);
      const x1 = clamp(Math.floor((sx2 - minX) / cs + NMS_MARGIN), w - 1);
      const y0 = clamp(Math.floor((sy1 - minY) / cs - 1 - NMS_MARGIN), gy[l] - 1);
      const y1 = clamp(Math.floor((sy2 - minY) / cs + NMS_MARGIN), gy[l] - 1);
      if (x1 < x0 || y1 < y0) continue;
      if ((x1 - x0 + 1) * (y1 - y0 + 1) > inLevel) {
        for (let k = levelHead[l]; k >= 0 && !suppressed; k = link[NODE * k + LEVEL_NEXT]) {
          suppressed = nodeIouAbove(node, k, boxes, b, aj, sx1, sy1, sx2, sy2, threshold);
        }
        continue;
      }
      for (let cy = y0; cy <= y1 && !suppressed; cy++) {
        const row = base[l] + cy * w;
        for (let cx = x0; cx <= x1 && !suppressed; cx++) {
          for (let k = head[row + cx]; k >= 0 && !suppressed; k = link[NODE * k + NEXT]) {
            suppressed = nodeIouAbove(node, k, boxes, b, aj, sx1, sy1, sx2, sy2, threshold);
          }
        }
      }
    }
    if (suppressed) continue;
    kept[j] = 1;
    const l = level[j], cs = cellSize[l];
    const s = base[l] + clamp(Math.floor((jy1 - minY) / cs), gy[l] - 1) * gx[l] +
        clamp(Math.floor((jx1 - minX) / cs), gx[l] - 1);
    const o = NODE * nodes;
    node[o] = jx1;
    node[o + 1] = jy1;
    node[o + 2] = jx2;
    node[o + 3] = jy2;
    node[o + AREA] = aj;
    link[o + NEXT] = head[s];
    head[s] = nodes;
    link[o + LEVEL_NEXT] = levelHead[l];
    levelHead[l] = nodes;
    levelCount[l]++;
    nodes++;
  }
}

/**
 * Kept indices in decreasing-score order, equal to `nmsGreedy`: the score
 * order, split by category with a stable sort (batched), each category
 * suppressed on its own grid (`suppressSegment`), then the kept boxes in score
 * order. Thresholds < 0 (every defined IoU suppresses) run `nmsGreedy`.
 */
export function nmsKeep(
    boxesIn: Floats, scores: Floats, idxs: ArrayLike<number>|null, threshold: number): Int32Array {
  const n = scores.length;
  if (!(threshold >= 0)) return nmsGreedy(boxesIn, scores, idxs, threshold);
  const boxes = boxesIn instanceof Float32Array ? boxesIn : Float32Array.from(boxesIn);
  const order = sortByScoreDescending(scores);
  const areas = boxAreas(boxes, n);
  const kept = new Uint8Array(n);
  const scratch = gridScratch(n);
  if (idxs == null) {
    suppressSegment(boxes, areas, order, 0, n, threshold, kept, scratch);
  } else {
    const classKeys = Uint32Array.from(order, i => (idxs[i] ^ 0x80000000) >>> 0);
    const byClass = radixSort(classKeys, Int32Array.from(order));
    for (let start = 0; start < n;) {
      const cls = idxs[byClass[start]];
      let end = start + 1;
      while (end < n && idxs[byClass[end]] === cls) end++;
      suppressSegment(boxes, areas, byClass, start, end, threshold, kept, scratch);
      start = end;
    }
  }
  let count = 0;
  for (let p = 0; p < n; p++) if (kept[order[p]]) order[count++] = order[p];
  return order.slice(0, count);
}

/**
 * Non-maximum suppression, the algorithm of kernels/reference/nms.ts (read it
 * first): stable radix sort of the scores (descending, NaN first), split by
 * category (batched), then in each category each box in order is tested
 * against the kept boxes near it in a multi-level grid; thresholds < 0 (and
 * NaN) run torchvision's loop. IoU in f32 exactly as torchvision's kernel,
 * compared with the threshold as f64.
 *
 * The caller passes `scratch` of nms_scratch_words(n) 4-byte words (see
 * kernels/wasm/Nms.ts) and `out`, n i32 for the kept indices; the count is
 * returned. A port of kernels/wasm/assembly/nms.ts with the same scratch
 * layout and the same float operations (bit-identical results).
 */
#include "vision_ops.h"

#define NMS_MAX_LEVELS 40
#define NMS_INACTIVE 255
/* Kept-box node: x1, y1, x2, y2, area (f32), next in cell, next in level (i32), unused. */
#define NMS_NODE_WORDS 8

/*
 * Attributes of the functions here on wasm: no memset calls (the byte fills,
 * memory.fill in the AssemblyScript code, are loops that clang 14, without
 * bulk-memory, would turn into calls to an import), and float -> i32 as
 * i32.trunc_sat_f64_s like the AssemblyScript module (no range-check branches).
 */
#ifdef __wasm__
#define NMS_FN __attribute__((no_builtin("memset"), target("nontrapping-fptoint")))
#else
#define NMS_FN
#endif

typedef int32_t nms_i32x4_unaligned __attribute__((vector_size(16), aligned(1), may_alias));

/* Sets `bytes` bytes at p to v (0 or 0xff): 16-byte stores, then the tail. */
NMS_FN static void nms_fill(uint8_t *p, uint8_t v, size_t bytes) {
  const int32_t w = v ? -1 : 0;
  const i32x4 v4 = (i32x4){w, w, w, w};
  size_t i = 0;
  for (; i + 16 <= bytes; i += 16) *(nms_i32x4_unaligned *)(p + i) = v4;
  for (; i < bytes; i++) p[i] = v;
}

/** Ascending key = descending score; every NaN gets 0, -0 ties with +0. */
INLINE uint32_t nms_descending_key(float v) {
  if (v != v) return 0;
  const union { float f; uint32_t u; } pun = {v};
  const uint32_t bits = v == 0 ? 0 : pun.u;
  return (bits & 0x80000000u) != 0 ? bits : ~bits & 0x7fffffffu;
}

/** Stable LSD radix sort (8-bit digits) of vals by u32 keys; returns the buffer holding the result. */
NMS_FN static int32_t *nms_radix_sort(uint32_t *keys, uint32_t *tmpKeys, int32_t *vals, int32_t *tmpVals,
    int32_t *counts, int32_t n) {
  for (uint32_t shift = 0; shift < 32; shift += 8) {
    nms_fill((uint8_t *)counts, 0, 1024);
    for (int32_t i = 0; i < n; i++) counts[(keys[i] >> shift) & 255]++;
    const uint32_t first = (keys[0] >> shift) & 255;
    if (counts[first] == n) continue;
    int32_t sum = 0;
    for (int32_t d = 0; d < 256; d++) {
      const int32_t c = counts[d];
      counts[d] = sum;
      sum += c;
    }
    for (int32_t i = 0; i < n; i++) {
      const uint32_t k = keys[i];
      const uint32_t d = (k >> shift) & 255;
      const int32_t at = counts[d];
      counts[d] = at + 1;
      tmpKeys[at] = k;
      tmpVals[at] = vals[i];
    }
    uint32_t *tk = keys; keys = tmpKeys; tmpKeys = tk;
    int32_t *tv = vals; vals = tmpVals; tmpVals = tv;
  }
  return vals;
}

/** torchvision's IoU(i, j) > threshold with std::max/std::min (first argument on NaN). */
INLINE int nms_iou_above(const float *boxes, const float *areas, int32_t i, int32_t j, double threshold) {
  const float *a = boxes + ((size_t)i << 2), *b = boxes + ((size_t)j << 2);
  const float ix1 = a[0], iy1 = a[1], ix2 = a[2], iy2 = a[3];
  const float jx1 = b[0], jy1 = b[1], jx2 = b[2], jy2 = b[3];
  const float dw = (jx2 < ix2 ? jx2 : ix2) - (ix1 < jx1 ? jx1 : ix1);
  const float dh = (jy2 < iy2 ? jy2 : iy2) - (iy1 < jy1 ? jy1 : iy1);
  const float inter = (0.0f < dw ? dw : 0.0f) * (0.0f < dh ? dh : 0.0f);
  const float uni = (areas[i] + areas[j]) - inter;
  return (double)(inter / uni) > threshold;
}

/**
 * IoU of kept node k and active box J = (jx1, jy1, jx2, jy2) > threshold, given J shrunk to
 * s1 = (sx1, sy1), s2 = (sx2, sy2). The scalar test of the AssemblyScript code in lanes: overlap
 * ix1 < sx2 && sx1 < ix2 (x, y) in f64; inter = (min(ix2, jx2) - max(ix1, jx1)) * (same in y) in
 * f32 with the ternaries of the AS code (ix1 < jx1 ? jx1 : ix1, ix2 < jx2 ? ix2 : jx2) as selects.
 */
INLINE int nms_node_iou_above(const float *k, f32x4 J, float areaJ, f64x2 s1, f64x2 s2, double threshold) {
  const f32x4 v = load4(k);
  const f64x2 lo = __builtin_convertvector(__builtin_shufflevector(v, v, 0, 1), f64x2);
  const f64x2 hi = __builtin_convertvector(__builtin_shufflevector(v, v, 2, 3), f64x2);
  const i64x2 m = (lo < s2) & (s1 < hi);
  if (!(m[0] & m[1])) return 0;
  const i32x4 pick = (i32x4)(v < J) ^ (i32x4){0, 0, -1, -1};
  const f32x4 t = (f32x4)(((i32x4)J & pick) | ((i32x4)v & ~pick));
  const float inter = (t[2] - t[0]) * (t[3] - t[1]);
  return (double)(inter / ((k[4] + areaJ) - inter)) > threshold;
}

/* v < 0 -> 0, v > hi -> hi, else truncated; NaN -> 0 as AS's i32.trunc_sat (never happens: no UB natively). */
NMS_FN INLINE int32_t nms_cell_of(double v, int32_t hi) {
  return !(v >= 0) ? 0 : v > (double)hi ? hi : (int32_t)v;
}

/** Words of scratch that `nms` needs for n boxes. */
VISION_EXPORT(nms_scratch_words) int32_t nms_scratch_words(int32_t n) {
  return (int32_t)(24u * (uint32_t)n + 1024u); /* i32 arithmetic of wasm: wraps, never UB */
}

/*
 * Greedy NMS of the boxes seq[start..end) (one category, decreasing score),
 * setting kept[box]: the multi-level grid of kernels/reference/nms.ts
 * (suppressSegment). tables holds 7 * MAX_LEVELS + 2 words, heads 8 * count + 8 * MAX_LEVELS.
 */
NMS_FN static void nms_suppress_segment(const float *boxes, const float *areas, const int32_t *seq,
    int32_t start, int32_t end, double threshold, uint8_t *level, uint8_t *kept, float *nodes, uint8_t *tables,
    int32_t *heads) {
  double *cellSize = (double *)tables;
  int32_t *gx = (int32_t *)(tables + (NMS_MAX_LEVELS << 3));
  int32_t *gy = gx + NMS_MAX_LEVELS;
  int32_t *base = gy + NMS_MAX_LEVELS;
  int32_t *levelHead = base + (NMS_MAX_LEVELS + 1);
  int32_t *levelCount = levelHead + NMS_MAX_LEVELS;
  int32_t *nodeI = (int32_t *)nodes;
  const int64_t headCapacity = (int64_t)(8 * (end - start) + 8 * NMS_MAX_LEVELS);

  /* Active boxes (finite, positive width and height, finite area) and their extent. */
  int32_t nActive = 0;
  double minX = __builtin_inf(), minY = __builtin_inf(), maxX = -__builtin_inf(), maxY = -__builtin_inf();
  for (int32_t p = start; p < end; p++) {
    const int32_t i = seq[p];
    const float *b = boxes + ((size_t)i << 2);
    const float x1 = b[0], y1 = b[1], x2 = b[2], y2 = b[3];
    const int ok = x2 > x1 && y2 > y1 && finitef(x1) && finitef(y1) && finitef(x2) && finitef(y2) &&
        finitef(areas[i]);
    level[i] = ok ? 0 : NMS_INACTIVE;
    if (!ok) {
      kept[i] = 1;
      continue;
    }
    nActive++;
    minX = mind(minX, (double)x1);
    minY = mind(minY, (double)y1);
    maxX = maxd(maxX, (double)x2);
    maxY = maxd(maxY, (double)y2);
  }
  if (nActive == 0) return;
  const double ex = maxX - minX, ey = maxY - minY;
  double cell0 = maxd(__builtin_sqrt(ex * ey / (NMS_CELLS_PER_BOX * (double)nActive)),
      maxd(ex, ey) / (NMS_CELLS_PER_BOX * (double)nActive));

  /* Level per box and grid per level; the cell size doubles until the heads fit (the bound always allows it). */
  int32_t levels = 1;
  for (;;) {
    levels = 1;
    for (int32_t p = start; p < end; p++) {
      const int32_t i = seq[p];
      if (level[i] == NMS_INACTIVE) continue;
      const float *b = boxes + ((size_t)i << 2);
      const double side = maxd((double)b[2] - (double)b[0], (double)b[3] - (double)b[1]);
      int32_t l = 0;
      for (double cell = cell0; side > cell && l < NMS_MAX_LEVELS - 1; cell *= 2) l++;
      level[i] = (uint8_t)l;
      if (l >= levels) levels = l + 1;
    }
    int64_t total = 0;
    base[0] = 0;
    for (int32_t l = 0; l < levels; l++) {
      const double cs = cell0 * (double)((int64_t)1 << l);
      cellSize[l] = cs;
      const int32_t w = (int32_t)mind(__builtin_floor(ex / cs) + 1, 1e9);
      const int32_t h = (int32_t)mind(__builtin_floor(ey / cs) + 1, 1e9);
      gx[l] = w;
      gy[l] = h;
      total += (int64_t)w * (int64_t)h;
      base[l + 1] = total <= headCapacity ? (int32_t)total : 0;
    }
    if (total <= headCapacity) break;
    cell0 *= 2;
  }
  nms_fill((uint8_t *)heads, 0xff, (size_t)(uint32_t)base[levels] << 2);
  nms_fill((uint8_t *)levelHead, 0xff, (size_t)levels << 2);
  nms_fill((uint8_t *)levelCount, 0, (size_t)levels << 2);

  const double shrink = threshold >= NMS_HOST_MIN_SHRINK_THRESHOLD ? threshold * (1 - NMS_SHRINK_SLACK) : 0;
  int32_t stored = 0;
  for (int32_t p = start; p < end; p++) {
    const int32_t j = seq[p];
    const uint8_t lj = level[j];
    if (lj == NMS_INACTIVE) continue;
    const float *b = boxes + ((size_t)j << 2);
    const float jx1 = b[0], jy1 = b[1], jx2 = b[2], jy2 = b[3];
    const float aj = areas[j];
    /* No shrink below NMS_MIN_SHRINK_AREA (kernels/reference/nms.ts): subnormal products round too far. */
    const double sj = (double)aj >= NMS_MIN_SHRINK_AREA ? shrink : 0;
    const double dx = sj * ((double)jx2 - (double)jx1), dy = sj * ((double)jy2 - (double)jy1);
    const double sx1 = (double)jx1 + dx, sy1 = (double)jy1 + dy, sx2 = (double)jx2 - dx, sy2 = (double)jy2 - dy;
    const f32x4 J = load4(b);
    const f64x2 s1 = (f64x2){sx1, sy1}, s2 = (f64x2){sx2, sy2};
    int suppressed = 0;
    for (int32_t l = 0; l < levels && !suppressed; l++) {
      const int32_t inLevel = levelCount[l];
      if (inLevel == 0) continue;
      const double cs = cellSize[l];
      const int32_t w = gx[l], h = gy[l];
      /* Cells of the corners of the boxes filed here that can reach into (sx1, sx2) x (sy1, sy2). */
      const int32_t x0 = nms_cell_of(__builtin_floor((sx1 - minX) / cs - 1 - NMS_MARGIN), w - 1);
      const int32_t x1 = nms_cell_of(__builtin_floor((sx2 - minX) / cs + NMS_MARGIN), w - 1);
      const int32_t y0 = nms_cell_of(__builtin_floor((sy1 - minY) / cs - 1 - NMS_MARGIN), h - 1);
      const int32_t y1 = nms_cell_of(__builtin_floor((sy2 - minY) / cs + NMS_MARGIN), h - 1);
      if (x1 < x0 || y1 < y0) continue;
      if ((int64_t)(x1 - x0 + 1) * (int64_t)(y1 - y0 + 1) > (int64_t)inLevel) {
        for (int32_t k = levelHead[l]; k >= 0 && !suppressed; k = nodeI[(size_t)k * NMS_NODE_WORDS + 6]) {
          suppressed = nms_node_iou_above(nodes + (size_t)k * NMS_NODE_WORDS, J, aj, s1, s2, threshold);
        }
        continue;
      }
      for (int32_t cy = y0; cy <= y1 && !suppressed; cy++) {
        const int32_t *row = heads + (base[l] + cy * w);
        for (int32_t cx = x0; cx <= x1 && !suppressed; cx++) {
          for (int32_t k = row[cx]; k >= 0 && !suppressed; k = nodeI[(size_t)k * NMS_NODE_WORDS + 5]) {
            suppressed = nms_node_iou_above(nodes + (size_t)k * NMS_NODE_WORDS, J, aj, s1, s2, threshold);
          }
        }
      }
    }
    if (suppressed) continue;
    kept[j] = 1;
    const int32_t l = (int32_t)lj;
    const double cs = cellSize[l];
    const int32_t w = gx[l], h = gy[l];
    const int32_t cell = base[l] + nms_cell_of(__builtin_floor(((double)jy1 - minY) / cs), h - 1) * w +
        nms_cell_of(__builtin_floor(((double)jx1 - minX) / cs), w - 1);
    int32_t *head = heads + cell;
    float *node = nodes + (size_t)stored * NMS_NODE_WORDS;
    int32_t *nodeW = nodeI + (size_t)stored * NMS_NODE_WORDS;
    node[0] = jx1;
    node[1] = jy1;
    node[2] = jx2;
    node[3] = jy2;
    node[4] = aj;
    nodeW[5] = *head;
    *head = stored;
    nodeW[6] = levelHead[l];
    levelHead[l] = stored;
    levelCount[l] = levelCount[l] + 1;
    stored++;
  }
}

/** torchvision's loop (any threshold); `suppressed` holds n bytes. */
NMS_FN static int32_t nms_greedy(const float *boxes, const float *areas, const int32_t *idxs, int32_t batched,
    int32_t n, double threshold, const int32_t *order, uint8_t *suppressed, int32_t *out) {
  nms_fill(suppressed, 0, (size_t)n);
  int32_t count = 0;
  for (int32_t p = 0; p < n; p++) {
    const int32_t i = order[p];
    if (suppressed[i] != 0) continue;
    out[count++] = i;
    const int32_t ci = batched != 0 ? idxs[i] : 0;
    for (int32_t q = p + 1; q < n; q++) {
      const int32_t j = order[q];
      if (suppressed[j] != 0 || (batched != 0 && idxs[j] != ci)) continue;
      if (nms_iou_above(boxes, areas, i, j, threshold)) suppressed[j] = 1;
    }
  }
  return count;
}

/**
 * Kept box indices (decreasing score) into out; returns their count.
 * idxs (i32 categories) is read only when batched != 0.
 */
VISION_EXPORT(nms) NMS_FN int32_t nms(const float *boxes, const float *scores, const int32_t *idxs,
    int32_t batched, int32_t n, int32_t *scratch, int32_t *out, double threshold) {
  if (n <= 0) return 0;
  const size_t un = (size_t)(uint32_t)n;
  /*
   * Scratch (4-byte words): keys 2n, orders 3n, counts 256, areas n, nodes 8n, level and kept
   * bytes 2n/4, level tables 7 * MAX_LEVELS (cell sizes are f64), cell heads 8n + 8 * MAX_LEVELS.
   */
  uint32_t *keys = (uint32_t *)scratch, *tmpKeys = keys + un;
  int32_t *orderA = (int32_t *)(tmpKeys + un), *orderB = orderA + un, *orderC = orderB + un;
  int32_t *counts = orderC + un;
  float *areas = (float *)(counts + 256);
  float *nodes = areas + un;
  uint8_t *level = (uint8_t *)(nodes + (un << 3)), *kept = level + un;
  uint8_t *tables = (uint8_t *)(((uintptr_t)(kept + un) + 7) & ~(uintptr_t)7);
  int32_t *heads = (int32_t *)(tables + (NMS_MAX_LEVELS * 28 + 8));

  for (int32_t i = 0; i < n; i++) {
    keys[i] = nms_descending_key(scores[i]);
    orderA[i] = i;
    const float *b = boxes + ((size_t)i << 2);
    areas[i] = (b[2] - b[0]) * (b[3] - b[1]);
  }
  int32_t *order = nms_radix_sort(keys, tmpKeys, orderA, orderB, counts, n);
  if (!(threshold >= 0)) return nms_greedy(boxes, areas, idxs, batched, n, threshold, order, level, out);

  nms_fill(kept, 0, un);
  if (batched == 0) {
    nms_suppress_segment(boxes, areas, order, 0, n, threshold, level, kept, nodes, tables, heads);
  } else {
    /* Stable sort of the score order by category; each category is one segment. */
    int32_t *spare = order == orderA ? orderB : orderA;
    for (int32_t p = 0; p < n; p++) {
      const int32_t i = order[p];
      keys[p] = (uint32_t)idxs[i] ^ 0x80000000u;
      spare[p] = i;
    }
    const int32_t *byClass = nms_radix_sort(keys, tmpKeys, spare, orderC, counts, n);
    int32_t start = 0;
    while (start < n) {
      const int32_t cls = idxs[byClass[start]];
      int32_t end = start + 1;
      while (end < n && idxs[byClass[end]] == cls) end++;
      nms_suppress_segment(boxes, areas, byClass, start, end, threshold, level, kept, nodes, tables, heads);
      start = end;
    }
  }
  int32_t count = 0;
  for (int32_t p = 0; p < n; p++) {
    const int32_t i = order[p];
    if (kept[i] != 0) out[count++] = i;
  }
  return count;
}

/**
 * Reference math of multi-scale deformable attention (Deformable DETR's
 * `ms_deform_attn_core_pytorch`: F.grid_sample bilinear, zero padding,
 * align_corners=False) on typed arrays, shared by the cpu kernel and the host
 * path of tfjs-node; every other backend is compared with it.
 *
 * Layouts: value [B, S, M, C], spatialShapes [L, 2] (H, W), levelStartIndex
 * [L], samplingLocations [B, Q, M, L, P, 2] (x, y in [0, 1]),
 * attentionWeights [B, Q, M, L, P] -> out [B, Q, M, C].
 *
 * Sample (x, y) of level l reads pixel coordinates (x W - 0.5, y H - 0.5);
 * each of its four corners outside the level (or outside value: the level
 * tables are data, not trusted) reads 0, and so does every corner of a level
 * that fails levelUsable. A non-finite coordinate makes the
 * sample NaN on every channel, as grid_sample does; it gives no value
 * gradient. Everything is float32, step by step (Math.fround); sums run in
 * the fixed order (l, p) forward and (b, q, m, l, p) for the value gradient,
 * so results are deterministic.
 */
import {MAX_ATTN_LEVEL_CELLS} from '../constants.ts';

type Floats = ArrayLike<number> & {[i: number]: number};
const f = Math.fround;

/**
 * Whether a level has corner cells, all float32-exact: H, W >= 1 and
 * (H + 1)(W + 1) <= MAX_ATTN_LEVEL_CELLS, in float32 as the GPUs compute it.
 * Only level tables given as tensors can fail it (the op checks numbers);
 * no corner of such a level is read.
 */
export function levelUsable(height: number, width: number): boolean {
  return height >= 1 && width >= 1 && f(f(f(height) + 1) * f(f(width) + 1)) <= MAX_ATTN_LEVEL_CELLS;
}

export interface MsDeformAttnGeometry {
  batch: number;
  /** Value positions: the sum of H W over the levels. */
  spatialSize: number;
  heads: number;
  channels: number;
  queries: number;
  levels: number;
  points: number;
}

/** The geometry from value [B, S, M, C] and samplingLocations [B, Q, M, L, P, 2]. */
export function msDeformAttnGeometry(valueShape: readonly number[], locationShape: readonly number[]):
    MsDeformAttnGeometry {
  const [batch, spatialSize, heads, channels] = valueShape;
  const [, queries, , levels, points] = locationShape;
  return {batch, spatialSize, heads, channels, queries, levels, points};
}

/** Where a sample reads: its 4 corners' value rows (-1: reads 0) and bilinear weights, nw ne sw se. */
export interface Corners {
  /** False for a non-finite coordinate: the sample is NaN, and no corner is read. */
  finite: boolean;
  /** The level's size. */
  height: number;
  width: number;
  /** Pixel coordinates (x W - 0.5, y H - 0.5) and the top-left corner (floor). */
  ix: number;
  iy: number;
  x0: number;
  y0: number;
  /** Value position (row of [S, M, C] before the head) of each corner, -1 outside the level or value. */
  rows: Int32Array;
  weights: Float32Array;
}

export function newCorners(): Corners {
  return {finite: true, height: 0, width: 0, ix: 0, iy: 0, x0: 0, y0: 0, rows: new Int32Array(4),
    weights: new Float32Array(4)};
}

/**
 * The corners of sample (x, y) on a level of `height` x `width` starting at
 * value position `start`, written into `c`.
 */
export function sampleCorners(
    x: number, y: number, height: number, width: number, start: number, spatialSize: number, c: Corners) {
  const ix = f(f(x * width) - 0.5), iy = f(f(y * height) - 0.5);
  c.height = height;
  c.width = width;
  c.ix = ix;
  c.iy = iy;
  c.finite = Number.isFinite(ix) && Number.isFinite(iy);
  c.rows.fill(-1);
  c.weights.fill(0);
  if (!c.finite) return;
  const x0 = Math.floor(ix), y0 = Math.floor(iy);
  c.x0 = x0;
  c.y0 = y0;
  if (!levelUsable(height, width)) return;
  const lx = f(ix - x0), ly = f(iy - y0), hx = f(1 - lx), hy = f(1 - ly);
  const w = [f(hy * hx), f(hy * lx), f(ly * hx), f(ly * lx)];
  for (let k = 0; k < 4; k++) {
    const cy = y0 + (k >> 1), cx = x0 + (k & 1);
    c.weights[k] = w[k];
    if (cy < 0 || cy >= height || cx < 0 || cx >= width) continue;
    const row = start + cy * width + cx;
    if (row >= 0 && row < spatialSize) c.rows[k] = row;
  }
}

/**
 * Visits every sample in (b, q, m, l, p) order with its corners (one object,
 * rewritten per sample), its index j, the first channel `o` of its query row
 * in out / dy and that of value position 0 of its (b, m), `v0`: value row r
 * starts at v0 + r M C.
 */
function forEachSample(
    shapes: Floats, starts: Floats, locations: Floats, g: MsDeformAttnGeometry,
    visit: (corners: Corners, j: number, o: number, v0: number) => void) {
  const {batch, spatialSize: S, heads: M, channels: C, queries: Q, levels: L, points: P} = g;
  const corners = newCorners();
  for (let b = 0; b < batch; b++) {
    for (let q = 0; q < Q; q++) {
      for (let m = 0; m < M; m++) {
        const o = ((b * Q + q) * M + m) * C;
        for (let l = 0; l < L; l++) {
          const [height, width, start] = [shapes[2 * l], shapes[2 * l + 1], starts[l]];
          for (let p = 0; p < P; p++) {
            const j = (((b * Q + q) * M + m) * L + l) * P + p;
            sampleCorners(locations[2 * j], locations[2 * j + 1], height, width, start, S, corners);
            visit(corners, j, o, (b * S * M + m) * C);
          }
        }
      }
    }
  }
}

export function msDeformAttnValues(
    value: Floats, shapes: Floats, starts: Floats, locations: Floats, weights: Floats, g: MsDeformAttnGeometry,
    out: Floats) {
  const {heads: M, channels: C} = g;
  forEachSample(shapes, starts, locations, g, (corners, j, o, v0) => {
    const a = weights[j];
    for (let ch = 0; ch < C; ch++) {
      let v = 0;
      if (!corners.finite) v = NaN;
      for (let k = 0; k < 4; k++) {
        const row = corners.rows[k];
        if (row >= 0) v = f(v + f(corners.weights[k] * value[v0 + row * M * C + ch]));
      }
      out[o + ch] = f(out[o + ch] + f(a * v));
    }
  });
}

/**
 * Gradients of value, samplingLocations and attentionWeights (zero-filled
 * by the caller). dLocation of a sample is (W, H) times the derivative of
 * its bilinear value along x and y; NaN for a non-finite location.
 */
export function msDeformAttnGradValues(
    dy: Floats, value: Floats, shapes: Floats, starts: Floats, locations: Floats, weights: Floats,
    g: MsDeformAttnGeometry, dValue: Floats, dLocations: Floats, dWeights: Floats) {
  const {heads: M, channels: C} = g;
  forEachSample(shapes, starts, locations, g, (corners, j, o, v0) => {
    if (!corners.finite) {
      dLocations[2 * j] = dLocations[2 * j + 1] = dWeights[j] = NaN;
      return;
    }
    const a = weights[j];
    const lx = f(corners.ix - corners.x0), ly = f(corners.iy - corners.y0);
    const hx = f(1 - lx), hy = f(1 - ly);
    // d(corner weight)/dix and /diy, nw ne sw se.
    const wx = [-hy, hy, -ly, ly], wy = [-hx, -lx, hx, lx];
    let dw = 0, gx = 0, gy = 0;
    for (let ch = 0; ch < C; ch++) {
      const d = dy[o + ch];
      const ad = f(a * d);
      let v = 0, vx = 0, vy = 0;
      for (let k = 0; k < 4; k++) {
        const row = corners.rows[k];
        if (row < 0) continue;
        const at = v0 + row * M * C + ch;
        const u = value[at];
        v = f(v + f(corners.weights[k] * u));
        vx = f(vx + f(wx[k] * u));
        vy = f(vy + f(wy[k] * u));
        dValue[at] = f(dValue[at] + f(corners.weights[k] * ad));
      }
      dw = f(dw + f(d * v));
      gx = f(gx + f(ad * vx));
      gy = f(gy + f(ad * vy));
    }
    dWeights[j] = dw;
    dLocations[2 * j] = f(gx * corners.width);
    dLocations[2 * j + 1] = f(gy * corners.height);
  });
}

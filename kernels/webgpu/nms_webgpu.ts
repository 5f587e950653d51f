/**
 * WGSL programs of NMS, torchvision's CUDA design in 32-bit words, with the
 * suppression bitmask filled only from pairs of boxes close in x1 order:
 *  1. order: (score key, box) pairs sorted by score, descending, stable, NaN
 *     first (nms_sort_webgpu.ts); xPairs: the score ranks sorted by x1;
 *  2. NmsByXProgram: box, rank and category per x1-sorted position;
 *  3. NmsClearProgram zeroes the mask, then NmsPairProgram: each box tests
 *     the boxes after it in x1 order while their x1 is below its x2 - t * its
 *     width (IoU > t needs an overlap of t * width; no later box reaches it)
 *     and sets, for ranks r < c, bit c % 32 of word mask[r][c / 32] when box c
 *     would be suppressed by box r (same category, IoU > threshold).
 *     Thresholds < 0 suppress without overlap: NmsDenseMaskProgram tests every
 *     pair instead;
 *  4. NmsScanProgram (nms_scan_webgpu.ts) scans the mask.
 * IoU is float32 as torchvision (areas and intersection multiplied by a
 * uniform 1.0 so that no compiler fuses them into an FMA); the threshold test
 * is exact (kernels/gpu/nms_threshold.ts).
 */
import {webgpu_util} from '@tensorflow/tfjs-backend-webgpu';
import type {WebGPUProgram} from '@tensorflow/tfjs-backend-webgpu';
import {floatLiteral, NMS_GPU_MIN_SHRINK_AREA, NMS_MIN_SHRINK_AREA} from '../constants.ts';

export const WORD_BITS = 32;
/** int32 per x1-sorted box: x1, y1, x2, y2 (float bits), score rank, category. */
const BY_X = 6;
/** Pairs that pass the cheap overlap test, tested exactly after each scan of up to this many. */
const PAIR_BATCH = 8;
/** Mask words zeroed per invocation. */
const CLEAR_RUN = 16;

/** Uniforms of the mask programs, in the order Nms.ts passes their values. */
export const MASK_UNIFORMS = 'n : i32, words : i32, iouThreshold : f32, exactTest : i32, mMant : i32, ' +
    'mExp : i32, tOdd : i32, negativeThreshold : i32, unitScale : f32, shrink : f32,';

const PAIR_MATH = `
  fn nmsNan(v : f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }
  fn nmsFinite(v : f32) -> bool { return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u; }
  fn nmsInf(v : f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) == 0x7f800000u; }

  // RN(inter / uni) > threshold, exact for a positive normal T (see kernels/gpu/nms_threshold.ts).
  fn nmsQuotientAbove(inter : f32, uni : f32) -> bool {
    let bi = bitcast<u32>(inter);
    let bu = bitcast<u32>(uni);
    let ei = i32((bi >> 23u) & 0xffu);
    let eu = i32((bu >> 23u) & 0xffu);
    if (uniforms.exactTest == 0 || bi == 0u || ei == 0 || ei == 255 || eu == 0 || eu == 255 || (bu >> 31u) != 0u) {
      let q = inter / uni;
      return !nmsNan(q) && q > uniforms.iouThreshold;
    }
    // inter = mi 2^(ei - 150), uni = mu 2^(eu - 150), M = mM 2^mExp: compare mi 2^k with mM mu.
    let k = ei - eu - uniforms.mExp;
    if (k <= 23) { return false; }
    if (k >= 26) { return true; }
    let mi = (bi & 0x7fffffu) | 0x800000u;
    let mu = (bu & 0x7fffffu) | 0x800000u;
    let lhsHi = mi >> u32(32 - k);
    let lhsLo = mi << u32(k);
    let mM = u32(uniforms.mMant);
    let a1 = mM >> 16u;
    let a0 = mM & 0xffffu;
    let b1 = mu >> 16u;
    let b0 = mu & 0xffffu;
    let low = a0 * b0;
    let mid = a1 * b0 + a0 * b1;
    let lo = low + (mid << 16u);
    let hi = a1 * b1 + (mid >> 16u) + select(0u, 1u, lo < low);
    if (lhsHi != hi) { return lhsHi > hi; }
    if (lhsLo != lo) { return lhsLo > lo; }
    return uniforms.tOdd != 0;
  }

  struct NmsBox { x1 : f32, y1 : f32, x2 : f32, y2 : f32, area : f32, live : bool };

  fn nmsMakeBox(x1 : f32, y1 : f32, x2 : f32, y2 : f32) -> NmsBox {
    let area = ((x2 - x1) * (y2 - y1)) * uniforms.unitScale;
    // Only finite boxes with positive sides and a finite area can reach IoU > 0.
    let live = x2 > x1 && y2 > y1 && nmsFinite(x1) && nmsFinite(y1) && nmsFinite(x2) && nmsFinite(y2) &&
        nmsFinite(area);
    return NmsBox(x1, y1, x2, y2, area, live);
  }

  // torchvision's IoU(a, b) > threshold: std::max / std::min keep their first argument on NaN.
  fn nmsSuppresses(a : NmsBox, b : NmsBox) -> bool {
    if (uniforms.negativeThreshold == 0) {
      if (!a.live || !b.live || !(a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2)) { return false; }
    }
    let xx1 = select(a.x1, b.x1, a.x1 < b.x1);
    let yy1 = select(a.y1, b.y1, a.y1 < b.y1);
    let xx2 = select(a.x2, b.x2, b.x2 < a.x2);
    let yy2 = select(a.y2, b.y2, b.y2 < a.y2);
    let w = xx2 - xx1;
    let h = yy2 - yy1;
    let inter = (select(0.0, w, 0.0 < w) * select(0.0, h, 0.0 < h)) * uniforms.unitScale;
    let uni = (a.area + b.area) - inter;
    if (uniforms.negativeThreshold != 0) {
      // Every IoU that is not NaN is > a negative threshold.
      return !(nmsNan(a.area) || nmsNan(b.area) || nmsNan(inter) || nmsNan(uni) ||
          (inter == 0.0 && uni == 0.0) || (nmsInf(inter) && nmsInf(uni)));
    }
    return nmsQuotientAbove(inter, uni);
  }
`;

abstract class NmsProgram implements WebGPUProgram {
  abstract variableNames: string[];
  abstract shaderKey: string;
  abstract uniforms: string;
  outputShape: number[];
  dispatchLayout: {x: number[]};
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];

  constructor(outputShape: number[], invocations: number) {
    this.outputShape = outputShape;
    this.dispatchLayout = {x: [0]};
    this.dispatch = webgpu_util.computeDispatch(this.dispatchLayout, [invocations], this.workgroupSize);
  }

  abstract getUserCode(): string;
}

/**
 * byX [N * BY_X] (int32): per x1-sorted position, its box (x1 = +inf for
 * boxes that overlap nothing), score rank and category.
 */
export class NmsByXProgram extends NmsProgram {
  variableNames: string[];
  shaderKey: string;
  uniforms = 'n : i32,';

  constructor(n: number, batched: boolean) {
    super([n * BY_X], n);
    this.variableNames = batched ? ['XPairs', 'Order', 'Boxes', 'Idxs'] : ['XPairs', 'Order', 'Boxes'];
    this.shaderKey = `tfjsVisionOps_nmsByX_${batched}`;
  }

  getUserCode() {
    return `
      fn main(index : i32) {
        if (index >= uniforms.n) { return; }
        let r = XPairs[2 * index + 1];
        let box = Order[2 * r + 1];
        let out = ${BY_X} * index;
        let overlapsNothing = bitcast<u32>(XPairs[2 * index]) == 0xffffffffu;
        result[out] = select(bitcast<i32>(Boxes[4 * box]), 0x7f800000, overlapsNothing);
        result[out + 1] = bitcast<i32>(Boxes[4 * box + 1]);
        result[out + 2] = bitcast<i32>(Boxes[4 * box + 2]);
        result[out + 3] = bitcast<i32>(Boxes[4 * box + 3]);
        result[out + 4] = r;
        result[out + 5] = ${this.variableNames.length === 4 ? 'Idxs[box]' : '0'};
      }
    `;
  }
}

/** The zero mask [N * words]; only the words the scan reads (column word >= row word) are written. */
export class NmsClearProgram extends NmsProgram {
  variableNames: string[] = [];
  shaderKey = 'tfjsVisionOps_nmsClear';
  uniforms = 'n : i32, words : i32,';

  constructor(n: number, words: number) {
    super([n * words], n * Math.ceil(words / CLEAR_RUN));
  }

  getUserCode() {
    return `
      fn main(index : i32) {
        let runs = (uniforms.words + ${CLEAR_RUN - 1}) / ${CLEAR_RUN};
        if (index >= uniforms.n * runs) { return; }
        let r = index / runs;
        let first = max((index - r * runs) * ${CLEAR_RUN}, r / ${WORD_BITS});
        let last = min((index - r * runs + 1) * ${CLEAR_RUN}, uniforms.words);
        for (var w = first; w < last; w++) { result[r * uniforms.words + w] = 0; }
      }
    `;
  }
}

/** Sets the mask bits (atomic OR into the cleared mask) of the pairs that overlap along x. */
export class NmsPairProgram extends NmsProgram {
  variableNames = ['ByX'];
  shaderKey: string;
  uniforms = MASK_UNIFORMS;
  atomic = true;

  constructor(n: number, private batched: boolean) {
    super([n], n);
    this.shaderKey = `tfjsVisionOps_nmsPair_${batched}`;
  }

  getUserCode() {
    return `
      ${PAIR_MATH}
      fn xBox(p : i32) -> NmsBox {
        let at = ${BY_X} * p;
        return nmsMakeBox(bitcast<f32>(ByX[at]), bitcast<f32>(ByX[at + 1]), bitcast<f32>(ByX[at + 2]),
            bitcast<f32>(ByX[at + 3]));
      }

      fn main(index : i32) {
        if (index >= uniforms.n) { return; }
        let a = xBox(index);
        if (!a.live) { return; }
        let ra = ByX[${BY_X} * index + 4];
        let category = ByX[${BY_X} * index + 5];
        let aw = a.x2 - a.x1;
        let ah = a.y2 - a.y1;
        // A box after this one in x1 order has IoU > t only if its x1 < x2 - t w (t: shrink, valid where
        // sides and area do not underflow); the reach is cut by 1e-3 and a few ulps of x for rounding.
        let t = select(0.0, uniforms.shrink, min(aw, ah) >= ${floatLiteral(NMS_MIN_SHRINK_AREA)} && a.area >= ${floatLiteral(NMS_GPU_MIN_SHRINK_AREA)});
        let end = a.x2 - max(0.0, t * aw * (1.0 - 1e-3) - (abs(a.x1) + abs(a.x2)) * 4.8e-7);
        var candidates : array<i32, ${PAIR_BATCH}>;
        var q = index + 1;
        loop {
          // SwiftShader runs every instruction of a loop body on every iteration (divergent branches
          // are masked, not skipped): this loop only picks the pairs that may suppress, the exact
          // test runs after it.
          var count = 0;
          for (; q < uniforms.n; q++) {
            let at = ${BY_X} * q;
            let bx1 = bitcast<f32>(ByX[at]);
            if (!(bx1 < end)) {
              q = uniforms.n;
              break;
            }
            let bx2 = bitcast<f32>(ByX[at + 2]);
            let by1 = bitcast<f32>(ByX[at + 1]);
            let by2 = bitcast<f32>(ByX[at + 3]);
            // IoU > t needs an overlap of t * width and t * height of both boxes (shrink: see
            // kernels/gpu/nms_threshold.ts); boxes that are not live may fail this freely: they suppress nothing.
            let bw = bx2 - bx1;
            let bh = by2 - by1;
            let ow = min(a.x2, bx2) - max(a.x1, bx1);
            let oh = min(a.y2, by2) - max(a.y1, by1);
            let proven = min(min(aw, bw), min(ah, bh)) >= ${floatLiteral(NMS_MIN_SHRINK_AREA)} && min(a.area, bw * bh) >= ${floatLiteral(NMS_GPU_MIN_SHRINK_AREA)};
            let s = select(0.0, uniforms.shrink, proven);
            if (ow > s * max(aw, bw) && oh > s * max(ah, bh)${this.batched ? ' && ByX[at + 5] == category' : ''}) {
              candidates[count] = q;
              count++;
              if (count == ${PAIR_BATCH}) {
                q++;
                break;
              }
            }
          }
          for (var k = 0; k < count; k++) {
            let b = xBox(candidates[k]);
            let rb = ByX[${BY_X} * candidates[k] + 4];
            // The box of lower rank (higher score) suppresses: torchvision evaluates IoU(kept, other).
            let row = min(ra, rb);
            let col = max(ra, rb);
            if (select(nmsSuppresses(b, a), nmsSuppresses(a, b), ra < rb)) {
              let bit = bitcast<i32>(1u << u32(col % ${WORD_BITS}));
              atomicOr(&result[row * uniforms.words + col / ${WORD_BITS}], bit);
            }
          }
          if (q >= uniforms.n) { break; }
        }
      }
    `;
  }
}

/** mask [N * words] of every pair (thresholds < 0), row = sorted position, 32 sorted columns per word. */
export class NmsDenseMaskProgram extends NmsProgram {
  variableNames: string[];
  shaderKey: string;
  uniforms = MASK_UNIFORMS;

  constructor(n: number, words: number, batched: boolean) {
    super([n * words], n * words);
    this.variableNames = batched ? ['Boxes', 'Order', 'Idxs'] : ['Boxes', 'Order'];
    this.shaderKey = `tfjsVisionOps_nmsDenseMask_${batched}`;
  }

  getUserCode() {
    const batched = this.variableNames.length === 3;
    return `
      ${PAIR_MATH}
      fn nmsBox(i : i32) -> NmsBox {
        return nmsMakeBox(Boxes[4 * i], Boxes[4 * i + 1], Boxes[4 * i + 2], Boxes[4 * i + 3]);
      }

      fn main(index : i32) {
        if (index >= uniforms.n * uniforms.words) { return; }
        let r = index / uniforms.words;
        let w = index - r * uniforms.words;
        var bits = 0u;
        if (w * ${WORD_BITS} + ${WORD_BITS - 1} <= r) {
          result[index] = 0;
          return;
        }
        let i = Order[2 * r + 1];
        let a = nmsBox(i);
        for (var k = 0; k < ${WORD_BITS}; k++) {
          let c = w * ${WORD_BITS} + k;
          if (c >= uniforms.n) { break; }
          if (c <= r) { continue; }
          let j = Order[2 * c + 1];
          ${batched ? 'if (Idxs[i] != Idxs[j]) { continue; }' : ''}
          if (nmsSuppresses(a, nmsBox(j))) { bits = bits | (1u << u32(k)); }
        }
        result[index] = bitcast<i32>(bits);
      }
    `;
  }
}

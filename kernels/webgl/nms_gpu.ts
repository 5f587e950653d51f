/**
 * GLSL programs of NMS (WebGL2). Boxes are sorted by score (the order) and
 * then by x1 (nms_sort_gpu.ts), and the suppression pairs are found among
 * boxes close in x1 order only:
 *  1. NmsXKeyProgram: the x1 of each box in score order, +inf where the box
 *     can overlap nothing; sorted, that gives xRank (the score rank at each
 *     x1-sorted position); NmsXBoxesProgram lays the boxes out in that order;
 *  2. NmsWindowProgram: per x1-sorted position p, the end of the positions q
 *     > p whose box can have IoU > threshold with box p: x1 (sorted) below
 *     x2 - threshold * width of box p (IoU > t needs an overlap of t * width);
 *  3. NmsBandProgram: the band, 24 positions per float32 word after each p,
 *     bit set where IoU > threshold (exact float32 test, evaluated as
 *     torchvision with the box of higher score first), then per row the words
 *     it needs, order[p] and xRank[p]. The host reads that back and runs the
 *     greedy scan (nms_band.ts).
 * Thresholds < 0 suppress without overlap: every later position is in the window.
 * IoU is float32 as torchvision (products multiplied by a uniform 1.0 so that
 * no compiler fuses them into an FMA); the threshold test is exact
 * (kernels/gpu/nms_threshold.ts).
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import {floatLiteral, NMS_GPU_MIN_SHRINK_AREA, NMS_MIN_SHRINK_AREA} from '../constants.ts';
import {BAND_WORD_BITS} from './nms_band.ts';

type CustomUniform = NonNullable<GPGPUProgram['customUniforms']>[number];

/** Uniforms of the band program, in the order Nms.ts passes their values. */
export const BAND_UNIFORMS: CustomUniform[] = [
  {name: 'numBoxes', type: 'int'}, {name: 'bandWords', type: 'int'}, {name: 'iouThreshold', type: 'float'},
  {name: 'exactTest', type: 'int'}, {name: 'mMant', type: 'int'}, {name: 'mExp', type: 'int'},
  {name: 'tOdd', type: 'int'}, {name: 'negativeThreshold', type: 'int'}, {name: 'unitScale', type: 'float'},
  {name: 'shrink', type: 'float'},
];

const PAIR_MATH = `
  bool nmsNan(float v) { return (floatBitsToUint(v) & 0x7fffffffu) > 0x7f800000u; }
  bool nmsFinite(float v) { return (floatBitsToUint(v) & 0x7f800000u) != 0x7f800000u; }
  bool nmsInf(float v) { return (floatBitsToUint(v) & 0x7fffffffu) == 0x7f800000u; }

  // RN(inter / uni) > threshold, exact for a positive normal T (see kernels/gpu/nms_threshold.ts).
  bool nmsQuotientAbove(float inter, float uni) {
    uint bi = floatBitsToUint(inter);
    uint bu = floatBitsToUint(uni);
    int ei = int((bi >> 23u) & 0xffu);
    int eu = int((bu >> 23u) & 0xffu);
    if (exactTest == 0 || bi == 0u || ei == 0 || ei == 255 || eu == 0 || eu == 255 || (bu >> 31u) != 0u) {
      float q = inter / uni;
      return !nmsNan(q) && q > iouThreshold;
    }
    // inter = mi 2^(ei - 150), uni = mu 2^(eu - 150), M = mM 2^mExp: compare mi 2^k with mM mu.
    int k = ei - eu - mExp;
    if (k <= 23) return false;
    if (k >= 26) return true;
    uint mi = (bi & 0x7fffffu) | 0x800000u;
    uint mu = (bu & 0x7fffffu) | 0x800000u;
    uint lhsHi = mi >> uint(32 - k);
    uint lhsLo = mi << uint(k);
    uint mM = uint(mMant);
    uint a1 = mM >> 16u;
    uint a0 = mM & 0xffffu;
    uint b1 = mu >> 16u;
    uint b0 = mu & 0xffffu;
    uint low = a0 * b0;
    uint mid = a1 * b0 + a0 * b1;
    uint lo = low + (mid << 16u);
    uint hi = a1 * b1 + (mid >> 16u) + (lo < low ? 1u : 0u);
    if (lhsHi != hi) return lhsHi > hi;
    if (lhsLo != lo) return lhsLo > lo;
    return tOdd != 0;
  }

  struct NmsBox { float x1; float y1; float x2; float y2; float area; bool live; };

  NmsBox nmsMakeBox(float x1, float y1, float x2, float y2) {
    float area = ((x2 - x1) * (y2 - y1)) * unitScale;
    // Only finite boxes with positive sides and a finite area can reach IoU > 0.
    bool live = x2 > x1 && y2 > y1 && nmsFinite(x1) && nmsFinite(y1) && nmsFinite(x2) && nmsFinite(y2) &&
        nmsFinite(area);
    return NmsBox(x1, y1, x2, y2, area, live);
  }

  // torchvision's IoU(a, b) > threshold: std::max / std::min keep their first argument on NaN.
  bool nmsSuppresses(NmsBox a, NmsBox b) {
    if (negativeThreshold == 0) {
      if (!a.live || !b.live || !(a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2)) return false;
    }
    float xx1 = a.x1 < b.x1 ? b.x1 : a.x1;
    float yy1 = a.y1 < b.y1 ? b.y1 : a.y1;
    float xx2 = b.x2 < a.x2 ? b.x2 : a.x2;
    float yy2 = b.y2 < a.y2 ? b.y2 : a.y2;
    float w = xx2 - xx1;
    float h = yy2 - yy1;
    float inter = ((0.0 < w ? w : 0.0) * (0.0 < h ? h : 0.0)) * unitScale;
    float uni = (a.area + b.area) - inter;
    if (negativeThreshold != 0) {
      // Every IoU that is not NaN is > a negative threshold.
      return !(nmsNan(a.area) || nmsNan(b.area) || nmsNan(inter) || nmsNan(uni) ||
          (inter == 0.0 && uni == 0.0) || (nmsInf(inter) && nmsInf(uni)));
    }
    return nmsQuotientAbove(inter, uni);
  }
`;

/** xKeys [N]: per score rank, x1 of its box, +inf where x1 or x2 is not finite or x2 <= x1. */
export class NmsXKeyProgram implements GPGPUProgram {
  variableNames = ['Boxes', 'Order'];
  outputShape: number[];
  enableShapeUniforms = true;
  userCode = `
    bool nmsFinite(float v) { return (floatBitsToUint(v) & 0x7f800000u) != 0x7f800000u; }

    void main() {
      int box = int(getOrder(getOutputCoords()));
      float x1 = getBoxes(box, 0);
      float x2 = getBoxes(box, 2);
      setOutput(nmsFinite(x1) && nmsFinite(x2) && x2 > x1 ? x1 : uintBitsToFloat(0x7f800000u));
    }
  `;

  constructor(n: number) {
    this.outputShape = [n];
  }
}

/** xBoxes [N, 6]: per x1-sorted position, its box x1, y1, x2, y2, category and score rank. */
export class NmsXBoxesProgram implements GPGPUProgram {
  variableNames: string[];
  outputShape: number[];
  enableShapeUniforms = true;
  userCode: string;

  constructor(n: number, batched: boolean) {
    this.outputShape = [n, 6];
    this.variableNames = batched ? ['Boxes', 'Order', 'XRank', 'Idxs'] : ['Boxes', 'Order', 'XRank'];
    this.userCode = `
      void main() {
        ivec2 pc = getOutputCoords();
        float rank = getXRank(pc.x);
        int box = int(getOrder(int(rank)));
        setOutput(pc.y < 4 ? getBoxes(box, pc.y) : pc.y == 5 ? rank : ${batched ? 'getIdxs(box)' : '0.0'});
      }
    `;
  }
}

/** ends [N]: per x1-sorted position p, the first position after p that no box of IoU > threshold with it reaches. */
export class NmsWindowProgram implements GPGPUProgram {
  variableNames = ['XBoxes', 'XKeys'];
  outputShape: number[];
  customUniforms: CustomUniform[] = [
    {name: 'numBoxes', type: 'int'}, {name: 'negativeThreshold', type: 'int'}, {name: 'shrink', type: 'float'}];
  enableShapeUniforms = true;
  userCode = `
    float keyAt(int q) { return getXKeys(int(getXBoxes(q, 5))); }

    void main() {
      int p = getOutputCoords();
      if (negativeThreshold != 0) {
        setOutput(float(numBoxes));
        return;
      }
      if (isinf(keyAt(p))) {
        setOutput(float(p + 1));
        return;
      }
      float x1 = getXBoxes(p, 0);
      float x2 = getXBoxes(p, 2);
      float w = x2 - x1;
      float h = getXBoxes(p, 3) - getXBoxes(p, 1);
      // Box q after p has IoU > t only if x1q < x2 - t w (t: shrink, valid for sides and area that do not
      // underflow); the reach is cut by 1e-3 and by a few ulps of the coordinates for rounding.
      float t = min(w, h) >= ${floatLiteral(NMS_MIN_SHRINK_AREA)} && w * h >= ${floatLiteral(NMS_GPU_MIN_SHRINK_AREA)} ? shrink : 0.0;
      float reach = max(0.0, t * w * (1.0 - 1e-3) - (abs(x1) + abs(x2)) * 4.8e-7);
      float end = x2 - reach;
      int lo = p + 1;
      int hi = numBoxes;
      while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (keyAt(mid) < end) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      setOutput(float(lo));
    }
  `;

  constructor(n: number) {
    this.outputShape = [n];
  }
}

/**
 * [N, bandWords + 3]: per x1-sorted position p, words s < bandWords (bit b:
 * IoU > threshold with position p + 1 + 24 s + b), then the words p needs,
 * order[p] and xRank[p].
 */
export class NmsBandProgram implements GPGPUProgram {
  variableNames = ['XBoxes', 'Ends', 'Order', 'XRank'];
  outputShape: number[];
  customUniforms = BAND_UNIFORMS;
  enableShapeUniforms = true;
  userCode: string;

  constructor(n: number, bandWords: number, batched: boolean) {
    this.outputShape = [n, bandWords + 3];
    this.userCode = `
      ${PAIR_MATH}
      NmsBox boxAt(int q) { return nmsMakeBox(getXBoxes(q, 0), getXBoxes(q, 1), getXBoxes(q, 2), getXBoxes(q, 3)); }

      void main() {
        ivec2 ps = getOutputCoords();
        int p = ps.x;
        int end = int(getEnds(p));
        if (ps.y >= bandWords) {
          int needed = (end - p - 1 + ${BAND_WORD_BITS - 1}) / ${BAND_WORD_BITS};
          setOutput(ps.y == bandWords ? float(needed) : ps.y == bandWords + 1 ? getOrder(p) : getXRank(p));
          return;
        }
        int start = p + 1 + ${BAND_WORD_BITS} * ps.y;
        int stop = min(start + ${BAND_WORD_BITS}, end);
        NmsBox a = boxAt(p);
        float aw = a.x2 - a.x1;
        float ah = a.y2 - a.y1;
        float category = getXBoxes(p, 4);
        // SwiftShader runs every instruction of a loop body on every iteration (divergent branches are
        // masked, not skipped): this loop only picks the pairs that may suppress, the exact test follows.
        int maybe = 0;
        for (int b = 0; b < ${BAND_WORD_BITS}; b++) {
          int q = start + b;
          if (q >= stop) break;
          float bx1 = getXBoxes(q, 0);
          float by1 = getXBoxes(q, 1);
          float bx2 = getXBoxes(q, 2);
          float by2 = getXBoxes(q, 3);
          // IoU > t needs an overlap of t * width and t * height of both boxes (boxes that are not live
          // may fail this freely: they suppress nothing).
          float bw = bx2 - bx1;
          float bh = by2 - by1;
          float ow = min(a.x2, bx2) - max(a.x1, bx1);
          float oh = min(a.y2, by2) - max(a.y1, by1);
          bool proven = min(min(aw, bw), min(ah, bh)) >= ${floatLiteral(NMS_MIN_SHRINK_AREA)} && min(a.area, bw * bh) >= ${floatLiteral(NMS_GPU_MIN_SHRINK_AREA)};
          float t = proven ? shrink : 0.0;
          bool overlaps = negativeThreshold != 0 || (ow > t * max(aw, bw) && oh > t * max(ah, bh));
          ${batched ? 'overlaps = overlaps && getXBoxes(q, 4) == category;' : ''}
          maybe |= overlaps ? 1 << b : 0;
        }
        float rank = getXBoxes(p, 5);
        int bits = 0;
        while (maybe != 0) {
          int low = maybe & -maybe;
          maybe ^= low;
          int q = start + (floatBitsToInt(float(low)) >> 23) - 127;
          NmsBox c = boxAt(q);
          // The box of higher score suppresses: torchvision evaluates IoU(kept, other).
          if (rank < getXBoxes(q, 5) ? nmsSuppresses(a, c) : nmsSuppresses(c, a)) bits |= low;
        }
        setOutput(float(bits));
      }
    `;
  }
}

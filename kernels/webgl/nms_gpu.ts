/**
 * GLSL programs of NMS (WebGL2), the design of kernels/webgpu/nms_webgpu.ts
 * with 24-bit words (a float32 texel holds integers below 2^24 exactly):
 *  1. NmsRankProgram: rank of each box in the stable descending score order
 *     (NaN first, ties by index); NmsOrderProgram inverts it (no scatter in
 *     GLSL); NmsGatherProgram puts boxes and categories in that order;
 *  2. NmsMaskProgram: bit c % 24 of word mask[r][c / 24] is set when box
 *     order[c] would be suppressed by box order[r] (r < c, same category,
 *     IoU > threshold);
 *  3. NmsScanProgram: greedy scan over the words, SCAN_BLOCKS words per pass:
 *     each texel of `removed` resolves those blocks serially and ORs the kept
 *     rows into itself;
 *  4. NmsSortedKeepProgram: box index per sorted position, -1 where removed.
 * IoU is float32 as torchvision (products multiplied by a uniform 1.0 so that
 * no compiler fuses them into an FMA); the threshold test is exact
 * (kernels/nms_gpu_threshold.ts).
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';

export const WORD_BITS = 24;
/** Words (blocks of 24 sorted boxes) resolved per scan pass. */
export const SCAN_BLOCKS = 8;

type CustomUniform = NonNullable<GPGPUProgram['customUniforms']>[number];

/** Uniforms of the mask program, in the order Nms.ts passes their values. */
export const MASK_UNIFORMS: CustomUniform[] = [
  {name: 'numBoxes', type: 'int'}, {name: 'numWords', type: 'int'}, {name: 'iouThreshold', type: 'float'},
  {name: 'exactTest', type: 'int'}, {name: 'mMant', type: 'int'}, {name: 'mExp', type: 'int'},
  {name: 'tOdd', type: 'int'}, {name: 'negativeThreshold', type: 'int'}, {name: 'unitScale', type: 'float'},
];

const SCORE_KEY = `
  // Ascending key = descending score; every NaN is 0 (first), -0 ties with +0.
  uint nmsScoreKey(float v) {
    uint bits = floatBitsToUint(v);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return 0u;
    if ((bits & 0x7fffffffu) == 0u) bits = 0u;
    if ((bits & 0x80000000u) != 0u) return bits;
    return ~bits & 0x7fffffffu;
  }
`;

const PAIR_MATH = `
  bool nmsNan(float v) { return (floatBitsToUint(v) & 0x7fffffffu) > 0x7f800000u; }
  bool nmsFinite(float v) { return (floatBitsToUint(v) & 0x7f800000u) != 0x7f800000u; }
  bool nmsInf(float v) { return (floatBitsToUint(v) & 0x7fffffffu) == 0x7f800000u; }

  // RN(inter / uni) > threshold, exact for a positive normal T (see nms_gpu_threshold.ts).
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

  NmsBox nmsBox(float x1, float y1, float x2, float y2) {
    NmsBox b;
    b.x1 = x1;
    b.y1 = y1;
    b.x2 = x2;
    b.y2 = y2;
    b.area = ((b.x2 - b.x1) * (b.y2 - b.y1)) * unitScale;
    // Only finite boxes with positive sides and a finite area can reach IoU > 0.
    b.live = b.x2 > b.x1 && b.y2 > b.y1 && nmsFinite(b.x1) && nmsFinite(b.y1) && nmsFinite(b.x2) &&
        nmsFinite(b.y2) && nmsFinite(b.area);
    return b;
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

/** rank [N]: position of each box in the stable descending score order. */
export class NmsRankProgram implements GPGPUProgram {
  variableNames = ['Scores'];
  outputShape: number[];
  customUniforms: CustomUniform[] = [{name: 'numBoxes', type: 'int'}];
  enableShapeUniforms = true;
  userCode = `
    ${SCORE_KEY}
    void main() {
      int index = getOutputCoords();
      uint key = nmsScoreKey(getScores(index));
      int rank = 0;
      for (int k = 0; k < numBoxes; k++) {
        uint other = nmsScoreKey(getScores(k));
        if (other < key || (other == key && k < index)) rank++;
      }
      setOutput(float(rank));
    }
  `;

  constructor(n: number) {
    this.outputShape = [n];
  }
}

/** order [N]: the box of each rank. */
export class NmsOrderProgram implements GPGPUProgram {
  variableNames = ['Rank'];
  outputShape: number[];
  customUniforms: CustomUniform[] = [{name: 'numBoxes', type: 'int'}];
  enableShapeUniforms = true;
  userCode = `
    void main() {
      float r = float(getOutputCoords());
      float box = 0.0;
      for (int i = 0; i < numBoxes; i++) {
        if (getRank(i) == r) {
          box = float(i);
          break;
        }
      }
      setOutput(box);
    }
  `;

  constructor(n: number) {
    this.outputShape = [n];
  }
}

/** mask [N, words]: 24 sorted columns per texel. */
/**
 * sorted [N, 5]: the boxes (x1, y1, x2, y2) and categories in score order, so
 * that the mask reads consecutive rows and no order indirection.
 */
export class NmsGatherProgram implements GPGPUProgram {
  variableNames: string[];
  outputShape: number[];
  enableShapeUniforms = true;
  userCode: string;

  constructor(n: number, batched: boolean) {
    this.outputShape = [n, 5];
    this.variableNames = batched ? ['Boxes', 'Order', 'Idxs'] : ['Boxes', 'Order'];
    this.userCode = `
      void main() {
        ivec2 rc = getOutputCoords();
        int i = int(getOrder(rc.x));
        setOutput(rc.y < 4 ? getBoxes(i, rc.y) : ${batched ? 'getIdxs(i)' : '0.0'});
      }
    `;
  }
}

/** mask [N, words]: 24 sorted columns per texel. */
export class NmsMaskProgram implements GPGPUProgram {
  variableNames = ['Sorted'];
  outputShape: number[];
  customUniforms = MASK_UNIFORMS;
  enableShapeUniforms = true;
  userCode: string;

  constructor(n: number, words: number, batched: boolean) {
    this.outputShape = [n, words];
    this.userCode = `
      ${PAIR_MATH}
      void main() {
        ivec2 rw = getOutputCoords();
        int r = rw.x;
        int bits = 0;
        if (rw.y * ${WORD_BITS} + ${WORD_BITS - 1} > r) {
          NmsBox a = nmsBox(getSorted(r, 0), getSorted(r, 1), getSorted(r, 2), getSorted(r, 3));
          float category = getSorted(r, 4);
          for (int k = 0; k < ${WORD_BITS}; k++) {
            int c = rw.y * ${WORD_BITS} + k;
            if (c >= numBoxes) break;
            if (c <= r) continue;
            ${batched ? 'if (getSorted(c, 4) != category) continue;' : ''}
            float x1 = getSorted(c, 0);
            float x2 = getSorted(c, 2);
            // Most pairs do not overlap along x: skip reading their y.
            if (negativeThreshold == 0 && !(a.x1 < x2 && x1 < a.x2)) continue;
            if (nmsSuppresses(a, nmsBox(x1, getSorted(c, 1), x2, getSorted(c, 3)))) bits |= 1 << k;
          }
        }
        setOutput(float(bits));
      }
    `;
  }
}

/**
 * removed [words] after resolving words [firstWord, firstWord + SCAN_BLOCKS): bit b of
 * word w is set when sorted position 24 w + b is suppressed.
 */
export class NmsScanProgram implements GPGPUProgram {
  variableNames = ['Mask', 'Removed'];
  outputShape: number[];
  customUniforms: CustomUniform[] = [{name: 'numBoxes', type: 'int'}, {name: 'numWords', type: 'int'}, {name: 'firstWord', type: 'int'}];
  enableShapeUniforms = true;
  userCode = `
    void main() {
      int w = getOutputCoords();
      int rem[${SCAN_BLOCKS}];
      for (int q = 0; q < ${SCAN_BLOCKS}; q++) {
        int b = firstWord + q;
        rem[q] = b < numWords ? int(getRemoved(b)) : 0;
      }
      int own = int(getRemoved(w));
      bool after = w >= firstWord + ${SCAN_BLOCKS};
      for (int q = 0; q < ${SCAN_BLOCKS}; q++) {
        int b = firstWord + q;
        if (b >= numWords) break;
        for (int k = 0; k < ${WORD_BITS}; k++) {
          int r = b * ${WORD_BITS} + k;
          if (r >= numBoxes) break;
          if (((rem[q] >> k) & 1) != 0) continue;
          // Box at sorted position r is kept: it removes its row's bits.
          for (int q2 = 0; q2 < ${SCAN_BLOCKS}; q2++) {
            if (q2 >= q && firstWord + q2 < numWords) rem[q2] |= int(getMask(r, firstWord + q2));
          }
          if (after) own |= int(getMask(r, w));
        }
      }
      for (int q = 0; q < ${SCAN_BLOCKS}; q++) {
        if (w == firstWord + q) own = rem[q];
      }
      setOutput(float(own));
    }
  `;

  constructor(words: number) {
    this.outputShape = [words];
  }
}

/** sortedKeep [N]: order[r], or -1 where sorted position r was removed. */
export class NmsSortedKeepProgram implements GPGPUProgram {
  variableNames = ['Removed', 'Order'];
  outputShape: number[];
  enableShapeUniforms = true;
  userCode = `
    void main() {
      int r = getOutputCoords();
      int word = int(getRemoved(r / ${WORD_BITS}));
      setOutput(((word >> (r - (r / ${WORD_BITS}) * ${WORD_BITS})) & 1) != 0 ? -1.0 : getOrder(r));
    }
  `;

  constructor(n: number) {
    this.outputShape = [n];
  }
}

/**
 * WGSL programs of NMS, torchvision's CUDA design in 32-bit words:
 *  1. NmsOrderProgram: the rank of each box in the stable descending score
 *     order (NaN first, ties by index), counted over all boxes, scattered into
 *     order[rank] = box;
 *  2. NmsMaskProgram: for sorted positions r < c, bit c % 32 of word
 *     mask[r][c / 32] is set when box order[c] would be suppressed by box
 *     order[r] (same category, IoU > threshold);
 *  3. NmsScanProgram: one workgroup walks the words in order, resolves each
 *     32-box block serially and ORs the kept rows into the later words, then
 *     writes per sorted position the box index, or -1 where suppressed.
 * IoU is float32 as torchvision (areas and intersection multiplied by a
 * uniform 1.0 so that no compiler fuses them into an FMA); the threshold test
 * is exact (kernels/nms_gpu_threshold.ts).
 */
import {webgpu_util} from '@tensorflow/tfjs-backend-webgpu';
import type {WebGPUProgram} from '@tensorflow/tfjs-backend-webgpu';

/** Words of `removed` kept in workgroup memory by the scan: at most 32 * SCAN_WORDS boxes. */
export const SCAN_WORDS = 4000;
export const WORD_BITS = 32;

/** Uniforms of the mask program, in the order Nms.ts passes their values. */
export const MASK_UNIFORMS =
    'n : i32, words : i32, threshold : f32, exact : i32, mMant : i32, mExp : i32, tOdd : i32, negative : i32, one : f32,';

const SCORE_KEY = `
  // Ascending key = descending score; every NaN is 0 (first), -0 ties with +0.
  fn nmsScoreKey(v : f32) -> u32 {
    var bits = bitcast<u32>(v);
    if ((bits & 0x7fffffffu) > 0x7f800000u) { return 0u; }
    if ((bits & 0x7fffffffu) == 0u) { bits = 0u; }
    if ((bits & 0x80000000u) != 0u) { return bits; }
    return ~bits & 0x7fffffffu;
  }
`;

const PAIR_MATH = `
  fn nmsNan(v : f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }
  fn nmsFinite(v : f32) -> bool { return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u; }
  fn nmsInf(v : f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) == 0x7f800000u; }

  // RN(inter / uni) > threshold, exact for a positive normal T (see nms_gpu_threshold.ts).
  fn nmsQuotientAbove(inter : f32, uni : f32) -> bool {
    let bi = bitcast<u32>(inter);
    let bu = bitcast<u32>(uni);
    let ei = i32((bi >> 23u) & 0xffu);
    let eu = i32((bu >> 23u) & 0xffu);
    if (uniforms.exact == 0 || bi == 0u || ei == 0 || ei == 255 || eu == 0 || eu == 255 || (bu >> 31u) != 0u) {
      let q = inter / uni;
      return !nmsNan(q) && q > uniforms.threshold;
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

  fn nmsBox(i : i32) -> NmsBox {
    let x1 = Boxes[4 * i];
    let y1 = Boxes[4 * i + 1];
    let x2 = Boxes[4 * i + 2];
    let y2 = Boxes[4 * i + 3];
    let area = ((x2 - x1) * (y2 - y1)) * uniforms.one;
    // Only finite boxes with positive sides and a finite area can reach IoU > 0.
    let live = x2 > x1 && y2 > y1 && nmsFinite(x1) && nmsFinite(y1) && nmsFinite(x2) && nmsFinite(y2) &&
        nmsFinite(area);
    return NmsBox(x1, y1, x2, y2, area, live);
  }

  // torchvision's IoU(a, b) > threshold: std::max / std::min keep their first argument on NaN.
  fn nmsSuppresses(a : NmsBox, b : NmsBox) -> bool {
    if (uniforms.negative == 0) {
      if (!a.live || !b.live || !(a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2)) { return false; }
    }
    let xx1 = select(a.x1, b.x1, a.x1 < b.x1);
    let yy1 = select(a.y1, b.y1, a.y1 < b.y1);
    let xx2 = select(a.x2, b.x2, b.x2 < a.x2);
    let yy2 = select(a.y2, b.y2, b.y2 < a.y2);
    let w = xx2 - xx1;
    let h = yy2 - yy1;
    let inter = (select(0.0, w, 0.0 < w) * select(0.0, h, 0.0 < h)) * uniforms.one;
    let uni = (a.area + b.area) - inter;
    if (uniforms.negative != 0) {
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

/** order [N] (int32): order[rank(i)] = i. */
export class NmsOrderProgram extends NmsProgram {
  variableNames = ['Scores'];
  shaderKey = 'tfjsVisionOps_nmsOrder';
  uniforms = 'n : i32,';

  constructor(n: number) {
    super([n], n);
  }

  getUserCode() {
    return `
      ${SCORE_KEY}
      fn main(index : i32) {
        if (index >= uniforms.n) { return; }
        let key = nmsScoreKey(Scores[index]);
        var rank = 0;
        for (var k = 0; k < uniforms.n; k++) {
          let other = nmsScoreKey(Scores[k]);
          if (other < key || (other == key && k < index)) { rank++; }
        }
        result[rank] = index;
      }
    `;
  }
}

/** mask [N * words] (int32 bit patterns), row = sorted position, 32 sorted columns per word. */
export class NmsMaskProgram extends NmsProgram {
  variableNames: string[];
  shaderKey: string;
  uniforms = MASK_UNIFORMS;

  constructor(n: number, words: number, batched: boolean) {
    super([n * words], n * words);
    this.variableNames = batched ? ['Boxes', 'Order', 'Idxs'] : ['Boxes', 'Order'];
    this.shaderKey = `tfjsVisionOps_nmsMask_${batched}`;
  }

  getUserCode() {
    const batched = this.variableNames.length === 3;
    return `
      ${PAIR_MATH}
      fn main(index : i32) {
        if (index >= uniforms.n * uniforms.words) { return; }
        let r = index / uniforms.words;
        let w = index - r * uniforms.words;
        var bits = 0u;
        if (w * ${WORD_BITS} + ${WORD_BITS - 1} <= r) {
          result[index] = 0;
          return;
        }
        let i = Order[r];
        let a = nmsBox(i);
        for (var k = 0; k < ${WORD_BITS}; k++) {
          let c = w * ${WORD_BITS} + k;
          if (c >= uniforms.n) { break; }
          if (c <= r) { continue; }
          let j = Order[c];
          ${batched ? 'if (Idxs[i] != Idxs[j]) { continue; }' : ''}
          // Most pairs do not overlap along x: skip reading the rest of box j.
          if (uniforms.negative == 0 && !(a.x1 < Boxes[4 * j + 2] && Boxes[4 * j] < a.x2)) { continue; }
          if (nmsSuppresses(a, nmsBox(j))) { bits = bits | (1u << u32(k)); }
        }
        result[index] = bitcast<i32>(bits);
      }
    `;
  }
}

/** sortedKeep [N] (int32): box index per sorted position, -1 where suppressed. One workgroup. */
export class NmsScanProgram implements WebGPUProgram {
  variableNames = ['Mask', 'Order'];
  shaderKey = 'tfjsVisionOps_nmsScan';
  outputShape: number[];
  dispatchLayout = {x: [0]};
  dispatch: [number, number, number] = [1, 1, 1];
  workgroupSize: [number, number, number] = [256, 1, 1];
  uniforms = 'n : i32, words : i32,';

  constructor(n: number) {
    this.outputShape = [n];
  }

  getUserCode() {
    return `
      var<workgroup> removed : array<u32, ${SCAN_WORDS}>;
      var<workgroup> keptBits : u32;

      fn main(index : i32) {
        let lid = i32(localIndex);
        let n = uniforms.n;
        let words = uniforms.words;
        for (var w = lid; w < words; w += 256) { removed[w] = 0u; }
        workgroupBarrier();
        for (var b = 0; b < words; b++) {
          if (lid == 0) {
            var rem = removed[b];
            var resolved = 0u;
            for (var k = 0; k < ${WORD_BITS}; k++) {
              let r = b * ${WORD_BITS} + k;
              if (r >= n) { break; }
              if (((rem >> u32(k)) & 1u) == 0u) {
                resolved = resolved | (1u << u32(k));
                rem = rem | bitcast<u32>(Mask[r * words + b]);
              }
            }
            removed[b] = rem;
            keptBits = resolved;
          }
          workgroupBarrier();
          let kept = keptBits;
          for (var w = b + 1 + lid; w < words; w += 256) {
            var acc = removed[w];
            for (var k = 0; k < ${WORD_BITS}; k++) {
              if (((kept >> u32(k)) & 1u) != 0u) {
                acc = acc | bitcast<u32>(Mask[(b * ${WORD_BITS} + k) * words + w]);
              }
            }
            removed[w] = acc;
          }
          workgroupBarrier();
        }
        for (var r = lid; r < n; r += 256) {
          let suppressed = ((removed[r / ${WORD_BITS}] >> u32(r % ${WORD_BITS})) & 1u) != 0u;
          result[r] = select(Order[r], -1, suppressed);
        }
      }
    `;
  }
}

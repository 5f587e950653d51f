/**
 * GLSL merge sort of NMS: a permutation [N] (float32 integers) sorted by
 * (key of the element, element) ascending. Each NmsMergeProgram pass merges
 * pairs of sorted runs; every output position finds which element lands on it
 * by a binary search over the two runs (merge path), so log2(N) passes of
 * O(log N) texture reads replace the N^2 comparisons of counting ranks.
 */
import type {GPGPUProgram, MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import type {TensorInfo} from '@tensorflow/tfjs-core';

type CustomUniform = NonNullable<GPGPUProgram['customUniforms']>[number];

/** Ascending key = descending score; every NaN is 0 (first), -0 ties with +0. */
const SCORE_KEY = `
  uint nmsScoreKey(float v) {
    uint bits = floatBitsToUint(v);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return 0u;
    if ((bits & 0x7fffffffu) == 0u) bits = 0u;
    if ((bits & 0x80000000u) != 0u) return bits;
    return ~bits & 0x7fffffffu;
  }
`;

/**
 * Sorted runs of 2 run elements from those of run elements. 'score': Keys are
 * the scores of the elements (boxes), descending, NaN first; 'value': Keys
 * hold the sort value of each element, ascending.
 */
export class NmsMergeProgram implements GPGPUProgram {
  variableNames = ['Seq', 'Keys'];
  outputShape: number[];
  customUniforms: CustomUniform[] = [{name: 'numBoxes', type: 'int'}, {name: 'run', type: 'int'}];
  enableShapeUniforms = true;
  userCode: string;

  constructor(n: number, keyOf: 'score'|'value') {
    this.outputShape = [n];
    const before = keyOf === 'score' ? `
      uint ka = nmsScoreKey(getKeys(int(a)));
      uint kb = nmsScoreKey(getKeys(int(b)));` : `
      float ka = getKeys(int(a));
      float kb = getKeys(int(b));`;
    this.userCode = `
      ${keyOf === 'score' ? SCORE_KEY : ''}
      bool nmsBefore(float a, float b) {
        ${before}
        return ka < kb || (ka == kb && a < b);
      }

      void main() {
        int p = getOutputCoords();
        int block = (p / (2 * run)) * (2 * run);
        int lenA = clamp(numBoxes - block, 0, run);
        int lenB = clamp(numBoxes - block - run, 0, run);
        int k = p - block;
        // Elements of run A among the first k outputs: the first i where A[i] does not precede B[k - i - 1].
        int lo = max(0, k - lenB);
        int hi = min(k, lenA);
        while (lo < hi) {
          int mid = (lo + hi) / 2;
          if (nmsBefore(getSeq(block + mid), getSeq(block + run + k - mid - 1))) {
            lo = mid + 1;
          } else {
            hi = mid;
          }
        }
        float a = getSeq(block + min(lo, lenA - 1));
        float b = getSeq(block + run + min(k - lo, lenB - 1));
        setOutput(lo < lenA && (k - lo >= lenB || nmsBefore(a, b)) ? a : b);
      }
    `;
  }
}

/** The elements 0..n-1 sorted by NmsMergeProgram passes (Keys indexed by element). */
export function sortElements(webgl: MathBackendWebGL, keys: TensorInfo, n: number, keyOf: 'score'|'value') {
  let seq = webgl.makeTensorInfo([n], 'float32', Float32Array.from({length: n}, (_, i) => i));
  const merge = new NmsMergeProgram(n, keyOf);
  for (let run = 1; run < n; run *= 2) {
    const next = webgl.runWebGLProgram(merge, [seq, keys], 'float32', [[n], [run]]);
    webgl.disposeIntermediateTensorInfo(seq);
    seq = next;
  }
  return seq;
}

/**
 * WGSL merge sort of NMS: (key, payload) pairs, int32 [2N], in ascending
 * (key as u32, payload) order. NmsSortChunkProgram sorts runs of CHUNK in
 * workgroup memory, then each NmsMergeProgram pass merges pairs of runs (each
 * element finds its place in the other run by binary search): log2(N / CHUNK)
 * passes instead of the N^2 comparisons of counting ranks.
 */
import {webgpu_util} from '@tensorflow/tfjs-backend-webgpu';
import type {TensorInfo} from '@tensorflow/tfjs-core';
import type {WebGPUBackend, WebGPUProgram} from '@tensorflow/tfjs-backend-webgpu';

const CHUNK = 64;

/** Ascending u32 key of a sort by score descending: every NaN is 0 (first), -0 ties with +0. */
const SCORE_KEY = `
  fn nmsScoreKey(v : f32) -> u32 {
    var bits = bitcast<u32>(v);
    if ((bits & 0x7fffffffu) > 0x7f800000u) { return 0u; }
    if ((bits & 0x7fffffffu) == 0u) { bits = 0u; }
    if ((bits & 0x80000000u) != 0u) { return bits; }
    return ~bits & 0x7fffffffu;
  }
`;

/**
 * Ascending u32 key of x1; boxes that cannot overlap any box (x1 or x2 not
 * finite, x2 <= x1) go last, as 0xffffffff.
 */
const X1_KEY = `
  fn nmsX1Key(x1 : f32, x2 : f32) -> u32 {
    let b1 = bitcast<u32>(x1);
    let finite = (b1 & 0x7f800000u) != 0x7f800000u && (bitcast<u32>(x2) & 0x7f800000u) != 0x7f800000u;
    if (!finite || !(x2 > x1)) { return 0xffffffffu; }
    if ((b1 & 0x80000000u) != 0u) { return ~b1; }
    return b1 | 0x80000000u;
  }
`;

const BEFORE = `
  fn nmsBefore(ka : u32, pa : i32, kb : u32, pb : i32) -> bool { return ka < kb || (ka == kb && pa < pb); }
`;

/**
 * Sorted runs of CHUNK pairs. 'score': key of Scores[i], payload i (the box).
 * 'x1': payload r (a position in the score order Order), key of the x1 of its
 * box, so the result lists score ranks by x1.
 */
export class NmsSortChunkProgram implements WebGPUProgram {
  variableNames: string[];
  shaderKey: string;
  outputShape: number[];
  dispatchLayout = {x: [0]};
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [CHUNK, 1, 1];
  uniforms = 'n : i32,';

  constructor(n: number, private keyOf: 'score'|'x1') {
    this.variableNames = keyOf === 'score' ? ['Scores'] : ['Order', 'Boxes'];
    this.shaderKey = `tfjsVisionOps_nmsSortChunk_${keyOf}`;
    this.outputShape = [2 * n];
    this.dispatch = webgpu_util.computeDispatch(this.dispatchLayout, [n], this.workgroupSize);
  }

  getUserCode() {
    const pair = this.keyOf === 'score' ? 'key = nmsScoreKey(Scores[index]);' : `
          let box = Order[2 * index + 1];
          key = nmsX1Key(Boxes[4 * box], Boxes[4 * box + 2]);`;
    return `
      ${this.keyOf === 'score' ? SCORE_KEY : X1_KEY}
      ${BEFORE}
      var<workgroup> chunkKeys : array<u32, ${CHUNK}>;
      var<workgroup> chunkPayloads : array<i32, ${CHUNK}>;

      fn main(index : i32) {
        let lid = i32(localIndex);
        let start = index - lid;
        let count = min(${CHUNK}, uniforms.n - start);
        var key = 0xffffffffu;
        if (index < uniforms.n) {
          ${pair}
        }
        chunkKeys[lid] = key;
        chunkPayloads[lid] = index;
        workgroupBarrier();
        if (index < uniforms.n) {
          var rank = 0;
          for (var k = 0; k < count; k++) {
            if (nmsBefore(chunkKeys[k], chunkPayloads[k], key, index)) { rank++; }
          }
          result[2 * (start + rank)] = bitcast<i32>(key);
          result[2 * (start + rank) + 1] = index;
        }
      }
    `;
  }
}

/** Merges the sorted runs [2 m run, (2 m + 1) run) and [(2 m + 1) run, (2 m + 2) run). */
export class NmsMergeProgram implements WebGPUProgram {
  variableNames = ['Pairs'];
  shaderKey = 'tfjsVisionOps_nmsMerge';
  outputShape: number[];
  dispatchLayout = {x: [0]};
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  uniforms = 'n : i32, run : i32,';

  constructor(n: number) {
    this.outputShape = [2 * n];
    this.dispatch = webgpu_util.computeDispatch(this.dispatchLayout, [n], this.workgroupSize);
  }

  getUserCode() {
    return `
      ${BEFORE}
      fn main(index : i32) {
        if (index >= uniforms.n) { return; }
        let run = uniforms.run;
        let key = bitcast<u32>(Pairs[2 * index]);
        let payload = Pairs[2 * index + 1];
        let block = (index / (2 * run)) * (2 * run);
        let inRight = index - block >= run;
        let other = select(block + run, block, inRight);
        var lo = other;
        var hi = max(other, min(other + run, uniforms.n));
        while (lo < hi) {
          let mid = (lo + hi) / 2;
          if (nmsBefore(bitcast<u32>(Pairs[2 * mid]), Pairs[2 * mid + 1], key, payload)) {
            lo = mid + 1;
          } else {
            hi = mid;
          }
        }
        let at = index - select(0, run, inRight) + (lo - other);
        result[2 * at] = bitcast<i32>(key);
        result[2 * at + 1] = payload;
      }
    `;
  }
}

/** Runs the chunk sort then the merge passes; returns the sorted pairs int32 [2N]. */
export function sortPairs(backend: WebGPUBackend, chunk: NmsSortChunkProgram, inputs: TensorInfo[], n: number) {
  let pairs = backend.runWebGPUProgram(chunk, inputs, 'int32', [{type: 'int32', data: [n]}]);
  const merge = new NmsMergeProgram(n);
  for (let run = CHUNK; run < n; run *= 2) {
    const next = backend.runWebGPUProgram(merge, [pairs], 'int32',
        [{type: 'int32', data: [n]}, {type: 'int32', data: [run]}]);
    backend.disposeData(pairs.dataId);
    pairs = next;
  }
  return pairs;
}

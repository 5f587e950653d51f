/**
 * The greedy scan of webgpu NMS over the suppression mask [N, N/32] of
 * nms_webgpu.ts: one workgroup walks the words in order, resolves each 32-box
 * block serially and ORs the kept rows into the later words, then writes per
 * sorted position the box index, or -1 where suppressed.
 */
import type {WebGPUProgram} from '@tensorflow/tfjs-backend-webgpu';
import {WORD_BITS} from './nms_webgpu.ts';

/** Words of `removed` kept in workgroup memory by the scan: at most 32 * SCAN_WORDS boxes. */
export const SCAN_WORDS = 4000;

/**
 * sortedKeep [N] (int32): box index per sorted position, -1 where suppressed
 * (Order: the sorted (score key, box) pairs). One workgroup.
 */
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
          result[r] = select(Order[2 * r + 1], -1, suppressed);
        }
      }
    `;
  }
}

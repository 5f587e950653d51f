/**
 * WGSL segmented merge sort of msDeformAttn's samples, for the value gradient
 * (ms_deform_attn_value_grad.ts); the translation of
 * kernels/webgl/ms_deform_attn_sort_gpu.ts, into int32 pairs (cell, k) per
 * segment (b, m, l) in (cell, k) order. SampleSortChunkProgram computes the
 * cells and sorts runs of CHUNK in workgroup memory (a workgroup per chunk,
 * each segment padded to whole chunks); each SampleMergeProgram pass then
 * merges pairs of runs in every segment at once by merge path:
 * log2(Q P / CHUNK) passes.
 */
import {webgpu_util} from '@tensorflow/tfjs-backend-webgpu';
import type {WebGPUBackend, WebGPUProgram} from '@tensorflow/tfjs-backend-webgpu';
import {TensorInfo, util} from '@tensorflow/tfjs-core';
import {MsDeformAttnGrad} from '../../src/kernel_names.ts';
import {MAX_ATTN_LEVEL_CELLS} from '../constants.ts';
import {segmentSamples, VALUE_GRAD_FIELDS} from '../gpu/ms_deform_attn.ts';
import type {MsDeformAttnGeometry} from '../reference/ms_deform_attn.ts';
import {MS_DEFORM_SAMPLE} from './ms_deform_attn_webgpu.ts';
import {sampleCount} from './MsDeformAttn.ts';
import {ProgramUniforms, wgslUniforms, wgslValues} from './uniforms.ts';

const CHUNK = 64;

export const VALUE_GRAD_UNIFORMS = wgslUniforms(VALUE_GRAD_FIELDS);

export function valueGradUniforms(g: MsDeformAttnGeometry, run = 0): ProgramUniforms {
  return wgslValues(MsDeformAttnGrad, VALUE_GRAD_FIELDS, {...g, run});
}


/** `t` as a flat array (webgpu buffers have no layout). */
export function flatView(t: TensorInfo): TensorInfo {
  return {dataId: t.dataId, shape: [util.sizeFromShape(t.shape)], dtype: t.dtype};
}

export const SAMPLE_INDEX = `
  fn segmentSamples() -> i32 {
    return uniforms.queries * uniforms.points;
  }

  fn queryRow(g : i32, k : i32) -> i32 {
    let bm = g / uniforms.levels;
    return ((bm / uniforms.heads) * uniforms.queries + k / uniforms.points) * uniforms.heads + bm % uniforms.heads;
  }

  fn sampleIndex(g : i32, k : i32) -> i32 {
    return (queryRow(g, k) * uniforms.levels + g % uniforms.levels) * uniforms.points + k % uniforms.points;
  }

`;

export const SAMPLE_CELL = `
  fn sampleCell(g : i32, k : i32) -> i32 {
    let level = msdaLevel(g % uniforms.levels);
    if (!msdaLevelUsable(level)) { return ${MAX_ATTN_LEVEL_CELLS}; }
    let s = msdaSample(sampleIndex(g, k), level);
    let f = floor(s.pos);
    if (!s.finite || f.x < -1.0 || f.x >= f32(level.y) || f.y < -1.0 || f.y >= f32(level.x)) {
      return ${MAX_ATTN_LEVEL_CELLS};
    }
    return (i32(f.y) + 1) * (level.y + 1) + i32(f.x) + 1;
  }
`;

/** Pairs [2 (g Q P + i)]: the cell and the sample at sorted position i of segment g. */
export const SORTED_SAMPLE = `
  fn sortedSample(g : i32, i : i32) -> i32 {
    return Pairs[2 * (g * segmentSamples() + i) + 1];
  }
`;

export const SORTED_CELL = `
  fn sortedCell(g : i32, i : i32) -> i32 {
    return Pairs[2 * (g * segmentSamples() + i)];
  }
`;

export const MERGE_MATH = `
  fn sortedBefore(g : i32, i : i32, j : i32) -> bool {
    let ci = sortedCell(g, i);
    let cj = sortedCell(g, j);
    return ci < cj || (ci == cj && sortedSample(g, i) < sortedSample(g, j));
  }

  fn mergeSource(g : i32, k : i32) -> i32 {
    let n = segmentSamples();
    let block = (k / (2 * uniforms.run)) * (2 * uniforms.run);
    let lenA = clamp(n - block, 0, uniforms.run);
    let lenB = clamp(n - block - uniforms.run, 0, uniforms.run);
    let t = k - block;
    var lo = max(0, t - lenB);
    var hi = min(t, lenA);
    while (lo < hi) {
      let mid = (lo + hi) / 2;
      if (sortedBefore(g, block + mid, block + uniforms.run + t - mid - 1)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo < lenA && (t - lo >= lenB || sortedBefore(g, block + lo, block + uniforms.run + t - lo))) {
      return block + lo;
    }
    return block + uniforms.run + t - lo;
  }
`;

abstract class SampleProgram implements WebGPUProgram {
  abstract variableNames: string[];
  abstract shaderKey: string;
  outputShape: number[];
  dispatchLayout = {x: [0]};
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [CHUNK, 1, 1];
  uniforms = VALUE_GRAD_UNIFORMS;

  /** Pairs of every sample, by `invocations` invocations. */
  constructor(g: MsDeformAttnGeometry, invocations: number) {
    this.outputShape = [2 * sampleCount(g)];
    this.dispatch = webgpu_util.computeDispatch(this.dispatchLayout, [invocations], this.workgroupSize);
  }
  abstract getUserCode(): string;
}

/** Sorted runs of CHUNK pairs from SpatialShapes, LevelStartIndex and SamplingLocations. */
export class SampleSortChunkProgram extends SampleProgram {
  variableNames = ['SpatialShapes', 'LevelStartIndex', 'SamplingLocations'];
  shaderKey = 'tfjsVisionOps_msDeformAttnSortChunk';

  constructor(g: MsDeformAttnGeometry) {
    super(g, g.batch * g.heads * g.levels * Math.ceil(segmentSamples(g) / CHUNK) * CHUNK);
  }

  getUserCode() {
    return `
      ${MS_DEFORM_SAMPLE}
      ${SAMPLE_INDEX}
      ${SAMPLE_CELL}
      var<workgroup> chunkCells : array<i32, ${CHUNK}>;
      var<workgroup> chunkSamples : array<i32, ${CHUNK}>;

      fn main(index : i32) {
        let lid = i32(localIndex);
        let n = segmentSamples();
        let padded = (n + ${CHUNK - 1}) / ${CHUNK} * ${CHUNK};
        let g = index / padded;
        let k = index % padded;
        let inSegment = g < uniforms.batch * uniforms.heads * uniforms.levels && k < n;
        var cell = 0;
        if (inSegment) {
          cell = sampleCell(g, k);
        }
        chunkCells[lid] = cell;
        chunkSamples[lid] = k;
        workgroupBarrier();
        if (inSegment) {
          let start = k - lid;
          let count = min(${CHUNK}, n - start);
          var rank = 0;
          for (var t = 0; t < count; t++) {
            if (chunkCells[t] < cell || (chunkCells[t] == cell && chunkSamples[t] < k)) { rank++; }
          }
          let at = 2 * (g * n + start + rank);
          result[at] = cell;
          result[at + 1] = k;
        }
      }
    `;
  }
}

/** Pairs after a merge pass over Pairs (runs of uniforms.run). */
export class SampleMergeProgram extends SampleProgram {
  variableNames = ['Pairs'];
  shaderKey = 'tfjsVisionOps_msDeformAttnMerge';

  constructor(g: MsDeformAttnGeometry) {
    super(g, sampleCount(g));
  }

  getUserCode() {
    return `
      ${SAMPLE_INDEX}
      ${SORTED_SAMPLE}
      ${SORTED_CELL}
      ${MERGE_MATH}
      fn main(index : i32) {
        if (index >= uniforms.batch * uniforms.heads * uniforms.levels * segmentSamples()) { return; }
        let g = index / segmentSamples();
        let source = 2 * (g * segmentSamples() + mergeSource(g, index % segmentSamples()));
        result[2 * index] = Pairs[source];
        result[2 * index + 1] = Pairs[source + 1];
      }
    `;
  }
}

/** Pairs (cell, k) int32 [2 segments Q P], each segment in (cell, k) order; inputs as flat views. */
export function sortSamplesWebGPU(webgpu: WebGPUBackend, tables: TensorInfo[], locations: TensorInfo,
    g: MsDeformAttnGeometry): TensorInfo {
  let pairs = webgpu.runWebGPUProgram(new SampleSortChunkProgram(g), [...tables, locations], 'int32',
      valueGradUniforms(g));
  for (let run = CHUNK; run < segmentSamples(g); run *= 2) {
    const next = webgpu.runWebGPUProgram(new SampleMergeProgram(g), [pairs], 'int32', valueGradUniforms(g, run));
    webgpu.disposeData(pairs.dataId);
    pairs = next;
  }
  return pairs;
}

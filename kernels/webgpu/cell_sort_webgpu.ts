/**
 * WGSL segmented cell sort: the translation of kernels/webgl/cell_sort_gpu.ts
 * (see there), into int32 pairs (cell, k) per segment in (cell, k) order.
 * CellSortChunkProgram reads the op's Cells and sorts runs of CHUNK in
 * workgroup memory (a workgroup per chunk, each segment padded to whole
 * chunks); each CellMergeProgram pass then merges pairs of runs in every
 * segment at once by merge path: log2(n / CHUNK) passes.
 * Programs using these snippets define segmentSamples() (n).
 */
import {webgpu_util} from '@tensorflow/tfjs-backend-webgpu';
import type {WebGPUBackend, WebGPUProgram} from '@tensorflow/tfjs-backend-webgpu';
import {TensorInfo, util} from '@tensorflow/tfjs-core';
import {SORTED_FIELDS} from '../gpu/cell_sort.ts';
import {CELL_SORT_FIELDS} from '../gpu/uniforms.ts';
import {ProgramUniforms, wgslUniforms, wgslValues} from './uniforms.ts';
import {mainPerValue} from './webgpu_util.ts';

const CHUNK = 64;

const CELL_SORT_UNIFORMS = wgslUniforms(CELL_SORT_FIELDS);

function cellSortUniforms(segments: number, segmentSize: number, cells = 0, run = 0): ProgramUniforms {
  return wgslValues('cell sort', CELL_SORT_FIELDS, {segments, segmentSize, cells, run});
}

/** `t` as a flat array (webgpu buffers have no layout). */
export function flatView(t: TensorInfo): TensorInfo {
  return {dataId: t.dataId, shape: [util.sizeFromShape(t.shape)], dtype: t.dtype};
}

/** Pairs [2 (g n + i)]: the cell and the sample at sorted position i of segment g. */
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

/** SortedSamples [segments n SORTED_FIELDS] access. */
export const SORTED_TABLE = `
  fn sortedTable(i : i32) -> f32 {
    return SortedSamples[i];
  }

  fn sortedCell(g : i32, i : i32) -> i32 {
    return i32(sortedTable((g * segmentSamples() + i) * ${SORTED_FIELDS} + 6));
  }
`;

/** main() of a cells program [segments n]: the program defines sampleCell(g, k). */
export const SAMPLE_CELLS_MAIN = mainPerValue(`
    setOutputAtIndex(index, f32(sampleCell(coords / segmentSamples(), coords % segmentSamples())));`);

/** main() of a sorted-samples program [segments n SORTED_FIELDS]: the program defines sortedField(g, at, part). */
export const SORTED_SAMPLES_MAIN = mainPerValue(`
    let at = coords / ${SORTED_FIELDS};
    setOutputAtIndex(index, sortedField(at / segmentSamples(), at % segmentSamples(), coords % ${SORTED_FIELDS}));`);

export const CELL_RUN_START = `
  fn cellRunStart(g : i32, cell : i32) -> i32 {
    var lo = 0;
    var hi = segmentSamples();
    while (lo < hi) {
      let mid = (lo + hi) / 2;
      if (sortedCell(g, mid) < cell) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }
`;

/** The gather over runs; the program defines sortedRowValue(row, c). */
export const CELL_RUNS_SUM = `
  fn cellRunSum(g : i32, start : i32, end : i32, corner : i32, c : i32) -> f32 {
    var sum = 0.0;
    for (var i = max(start, 0); i < min(end, segmentSamples()); i++) {
      let at = (g * segmentSamples() + i) * ${SORTED_FIELDS};
      sum += sortedTable(at + corner) * (sortedTable(at + 4) * sortedRowValue(i32(sortedTable(at + 5)), c));
    }
    return sum;
  }

  fn cellRunsSum(g : i32, row : vec3<i32>, below : vec3<i32>, c : i32) -> f32 {
    return cellRunSum(g, row.x, row.y, 3, c) + cellRunSum(g, row.y, row.z, 2, c) +
        cellRunSum(g, below.x, below.y, 1, c) + cellRunSum(g, below.y, below.z, 0, c);
  }
`;

const SEGMENT = `
  fn segmentSamples() -> i32 {
    return uniforms.segmentSize;
  }
`;

abstract class PairsProgram implements WebGPUProgram {
  abstract variableNames: string[];
  abstract shaderKey: string;
  outputShape: number[];
  dispatchLayout = {x: [0]};
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [CHUNK, 1, 1];
  uniforms = CELL_SORT_UNIFORMS;

  /** Pairs of `samples` samples, by `invocations` invocations. */
  constructor(samples: number, invocations: number) {
    this.outputShape = [2 * samples];
    this.dispatch = webgpu_util.computeDispatch(this.dispatchLayout, [invocations], this.workgroupSize);
  }
  abstract getUserCode(): string;
}

/** Sorted runs of CHUNK pairs from Cells [segments n] (int32). */
export class CellSortChunkProgram extends PairsProgram {
  variableNames = ['Cells'];
  shaderKey = 'tfjsVisionOps_cellSortChunk';

  constructor(segments: number, n: number) {
    super(segments * n, segments * Math.ceil(n / CHUNK) * CHUNK);
  }

  getUserCode() {
    return `
      ${SEGMENT}
      var<workgroup> chunkCells : array<i32, ${CHUNK}>;
      var<workgroup> chunkSamples : array<i32, ${CHUNK}>;

      fn main(index : i32) {
        let lid = i32(localIndex);
        let n = segmentSamples();
        let padded = (n + ${CHUNK - 1}) / ${CHUNK} * ${CHUNK};
        let g = index / padded;
        let k = index % padded;
        let inSegment = g < uniforms.segments && k < n;
        var cell = 0;
        if (inSegment) {
          cell = Cells[g * n + k];
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
export class CellMergeProgram extends PairsProgram {
  variableNames = ['Pairs'];
  shaderKey = 'tfjsVisionOps_cellMerge';

  constructor(samples: number) {
    super(samples, samples);
  }

  getUserCode() {
    return `
      ${SEGMENT}
      ${SORTED_SAMPLE}
      ${SORTED_CELL}
      ${MERGE_MATH}
      fn main(index : i32) {
        if (index >= uniforms.segments * segmentSamples()) { return; }
        let g = index / segmentSamples();
        let source = 2 * (g * segmentSamples() + mergeSource(g, index % segmentSamples()));
        result[2 * index] = Pairs[source];
        result[2 * index + 1] = Pairs[source + 1];
      }
    `;
  }
}

/** Starts [segments (cells + 1)]: the first sorted position of each cell, and n after the last. */
export class CellStartsProgram implements WebGPUProgram {
  variableNames = ['SortedSamples'];
  shaderKey = 'tfjsVisionOps_cellStarts';
  outputShape: number[];
  dispatchLayout: {x: number[]};
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  uniforms = CELL_SORT_UNIFORMS;
  size = true;

  constructor(size: number) {
    this.outputShape = [size];
    this.dispatchLayout = webgpu_util.flatDispatchLayout(this.outputShape);
    this.dispatch = webgpu_util.computeDispatch(this.dispatchLayout, this.outputShape, this.workgroupSize);
  }

  getUserCode() {
    return `
      ${SEGMENT}
      ${SORTED_TABLE}
      ${CELL_RUN_START}
      ${mainPerValue(`
        setOutputAtIndex(index, f32(cellRunStart(coords / (uniforms.cells + 1), coords % (uniforms.cells + 1))));`)}
    `;
  }
}

/** Pairs (cell, k) int32 [2 segments n], each segment in (cell, k) order, from Cells [segments n] (int32). */
export function sortCellsWebGPU(webgpu: WebGPUBackend, cells: TensorInfo, segmentSize: number): TensorInfo {
  const segments = util.sizeFromShape(cells.shape) / segmentSize;
  let pairs = webgpu.runWebGPUProgram(new CellSortChunkProgram(segments, segmentSize), [flatView(cells)], 'int32',
      cellSortUniforms(segments, segmentSize));
  for (let run = CHUNK; run < segmentSize; run *= 2) {
    const next = webgpu.runWebGPUProgram(new CellMergeProgram(segments * segmentSize), [pairs], 'int32',
        cellSortUniforms(segments, segmentSize, 0, run));
    webgpu.disposeData(pairs.dataId);
    pairs = next;
  }
  return pairs;
}

/** Starts [segments (cells + 1)] of a SortedSamples table of `segments` segments of n samples. */
export function cellStartsWebGPU(webgpu: WebGPUBackend, sorted: TensorInfo, segments: number, n: number,
    cells: number): TensorInfo {
  return webgpu.runWebGPUProgram(new CellStartsProgram(segments * (cells + 1)), [flatView(sorted)], 'float32',
      cellSortUniforms(segments, n, cells));
}

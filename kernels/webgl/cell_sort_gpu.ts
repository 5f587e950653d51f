/**
 * GLSL segmented cell sort: the deterministic gathers that stand in for a
 * scatter of bilinear samples (msDeformAttn's dValue, deformConv2d's dx)
 * without atomics or readback.
 *  1. The op's program writes Cells [segments n]: the cell of each of the n
 *     samples of each segment, its top-left corner (y0, x0) in [-1, H) x
 *     [-1, W) as (y0 + 1)(W + 1) + x0 + 1, or a sentinel after every cell
 *     when it touches nothing.
 *  2. sortCellsWebGL orders each segment by (cell, sample): each
 *     CellMergeProgram pass merges pairs of sorted runs in every segment at
 *     once, each output position finding the element that lands on it by a
 *     binary search over the two runs (merge path, as nms_sort_gpu.ts):
 *     log2(n) passes.
 *  3. The op writes SortedSamples, SORTED_FIELDS per sorted position.
 *  4. Its gather sums, for a position (y, x), the runs of cells (y, x) + 0, 1
 *     (samples with (y, x) as se, sw corner) and (y + 1, x) + 0, 1 (ne, nw),
 *     bounded by six lower bounds (CELL_RUN_START, or CellStartsProgram's
 *     table of them), each run in sorted order (CELL_RUNS_SUM).
 * Cells, orders, rows and bounds are float32 values below 2^24, so exact.
 * Programs using these snippets define segmentSamples() (n).
 */
import type {GPGPUProgram, MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import type {TensorInfo} from '@tensorflow/tfjs-core';
import {CELL_SORT_FIELDS} from '../gpu/uniforms.ts';
import {SORTED_FIELDS} from '../gpu/cell_sort.ts';
import {glslUniforms, glslValues} from './uniforms.ts';
import {zerosWebGL} from './webgl_util.ts';

const CELL_SORT_UNIFORMS = glslUniforms(CELL_SORT_FIELDS);

function cellSortUniforms(segments: number, segmentSize: number, cells = 0, run = 0): number[][] {
  return glslValues('cell sort', CELL_SORT_FIELDS, {segments, segmentSize, cells, run});
}

/** Order [g n + i]: the sample at sorted position i of segment g (i itself before the first pass). */
export function sortedSample(hasOrder: boolean) {
  return `
  int sortedSample(int g, int i) {
    return ${hasOrder ? 'int(getOrder(g * segmentSamples() + i))' : 'i'};
  }
`;
}

/** Cells [g n + k]: the cell of sample k of segment g. */
export const SORTED_CELL = `
  int sortedCell(int g, int i) {
    return int(getCells(g * segmentSamples() + sortedSample(g, i)));
  }
`;

export const MERGE_MATH = `
  bool sortedBefore(int g, int i, int j) {
    int ci = sortedCell(g, i);
    int cj = sortedCell(g, j);
    return ci < cj || (ci == cj && sortedSample(g, i) < sortedSample(g, j));
  }

  // Position in segment g, before this pass, of the element that lands on position k when the runs
  // A = [2 r run, (2 r + 1) run) and B = [(2 r + 1) run, (2 r + 2) run) merge: the first i where A's
  // element i does not precede B's element k - i - 1 is how many of the first k come from A.
  int mergeSource(int g, int k) {
    int n = segmentSamples();
    int block = (k / (2 * run)) * (2 * run);
    int lenA = clamp(n - block, 0, run);
    int lenB = clamp(n - block - run, 0, run);
    int t = k - block;
    int lo = max(0, t - lenB);
    int hi = min(t, lenA);
    while (lo < hi) {
      int mid = (lo + hi) / 2;
      if (sortedBefore(g, block + mid, block + run + t - mid - 1)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo < lenA && (t - lo >= lenB || sortedBefore(g, block + lo, block + run + t - lo))) {
      return block + lo;
    }
    return block + run + t - lo;
  }
`;

/** SortedSamples [segments n SORTED_FIELDS] access. */
export const SORTED_TABLE = `
  float sortedTable(int i) {
    return getSortedSamples(i);
  }

  int sortedCell(int g, int i) {
    return int(sortedTable((g * segmentSamples() + i) * ${SORTED_FIELDS} + 6));
  }
`;

/** main() of a cells program [segments n]: the program defines sampleCell(g, k). */
export const SAMPLE_CELLS_MAIN = `
  void main() {
    int coords = getOutputCoords();
    setOutput(float(sampleCell(coords / segmentSamples(), coords % segmentSamples())));
  }
`;

/** main() of a sorted-samples program [segments n SORTED_FIELDS]: the program defines sortedField(g, at, part). */
export const SORTED_SAMPLES_MAIN = `
  void main() {
    int coords = getOutputCoords();
    int at = coords / ${SORTED_FIELDS};
    setOutput(sortedField(at / segmentSamples(), at % segmentSamples(), coords % ${SORTED_FIELDS}));
  }
`;

export const CELL_RUN_START = `
  // First sorted position of segment g whose cell is not below cell.
  int cellRunStart(int g, int cell) {
    int lo = 0;
    int hi = segmentSamples();
    while (lo < hi) {
      int mid = (lo + hi) / 2;
      if (sortedCell(g, mid) < cell) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }
`;

/** The gather over runs; the program defines sortedRowValue(row, c), the value a sample's row gives channel c. */
export const CELL_RUNS_SUM = `
  // Channel c through corner number corner (nw ne sw se) of the samples at sorted positions [start, end)
  // of segment g, in order: corner weight x (sample weight x row value).
  float cellRunSum(int g, int start, int end, int corner, int c) {
    float sum = 0.0;
    for (int i = max(start, 0); i < min(end, segmentSamples()); i++) {
      int at = (g * segmentSamples() + i) * ${SORTED_FIELDS};
      sum += sortedTable(at + corner) * (sortedTable(at + 4) * sortedRowValue(int(sortedTable(at + 5)), c));
    }
    return sum;
  }

  // Channel c at position (y, x) of segment g from the bounds of cells (y, x) + 0, 1, 2 (row) and
  // (y + 1, x) + 0, 1, 2 (below): the samples with (y, x) as corner se, sw, ne, nw.
  float cellRunsSum(int g, ivec3 row, ivec3 below, int c) {
    return cellRunSum(g, row.x, row.y, 3, c) + cellRunSum(g, row.y, row.z, 2, c) +
        cellRunSum(g, below.x, below.y, 1, c) + cellRunSum(g, below.y, below.z, 0, c);
  }
`;

const SEGMENT = `
  int segmentSamples() {
    return segmentSize;
  }
`;

abstract class CellSortProgram implements GPGPUProgram {
  abstract variableNames: string[];
  abstract userCode: string;
  outputShape: number[];
  customUniforms = CELL_SORT_UNIFORMS;
  enableShapeUniforms = true;

  constructor(size: number) {
    this.outputShape = [size];
  }
}

/** Order after a merge pass of runs of `run` (the first pass reads Cells only). */
export class CellMergeProgram extends CellSortProgram {
  variableNames: string[];
  userCode: string;

  constructor(samples: number, first: boolean) {
    super(samples);
    this.variableNames = first ? ['Cells'] : ['Order', 'Cells'];
    this.userCode = `
      ${SEGMENT}
      ${sortedSample(!first)}
      ${SORTED_CELL}
      ${MERGE_MATH}
      void main() {
        int i = getOutputCoords();
        int g = i / segmentSamples();
        setOutput(float(sortedSample(g, mergeSource(g, i % segmentSamples()))));
      }
    `;
  }
}

/** Starts [segments (cells + 1)]: the first sorted position of each cell, and n after the last. */
export class CellStartsProgram extends CellSortProgram {
  variableNames = ['SortedSamples'];
  userCode = `
    ${SEGMENT}
    ${SORTED_TABLE}
    ${CELL_RUN_START}
    void main() {
      int coords = getOutputCoords();
      setOutput(float(cellRunStart(coords / (cells + 1), coords % (cells + 1))));
    }
  `;
}

/** Order [segments n]: each segment's samples by (cell, sample), from Cells [segments n]. */
export function sortCellsWebGL(webgl: MathBackendWebGL, cells: TensorInfo, segmentSize: number): TensorInfo {
  const size = cells.shape[0], segments = size / segmentSize;
  let order: TensorInfo|null = null;
  for (let run = 1; run < segmentSize; run *= 2) {
    const next: TensorInfo = webgl.runWebGLProgram(new CellMergeProgram(size, order == null),
        order == null ? [cells] : [order, cells], 'float32', cellSortUniforms(segments, segmentSize, 0, run));
    if (order != null) webgl.disposeIntermediateTensorInfo(order);
    order = next;
  }
  return order ?? zerosWebGL(webgl, [size]);
}

/** Starts [segments (cells + 1)] of a SortedSamples table of `segments` segments of n samples. */
export function cellStartsWebGL(webgl: MathBackendWebGL, sorted: TensorInfo, segments: number, n: number,
    cells: number): TensorInfo {
  return webgl.runWebGLProgram(new CellStartsProgram(segments * (cells + 1)), [sorted], 'float32',
      cellSortUniforms(segments, n, cells));
}

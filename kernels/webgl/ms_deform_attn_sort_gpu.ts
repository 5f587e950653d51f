/**
 * GLSL segmented merge sort of msDeformAttn's samples, for the value gradient
 * (ms_deform_attn_value_grad.ts). A segment is one (b, m, l) of Q P samples
 * k = q P + p, sorted by (cell, k), the cell being the sample's top-left
 * corner (sampleCell, on the shared sample geometry MS_DEFORM_SAMPLE).
 * SampleCellsProgram writes every sample's cell; then each SampleMergeProgram
 * pass merges pairs of sorted runs in every segment at once, each output
 * position finding the element that lands on it by a binary search over the
 * two runs (merge path, as nms_sort_gpu.ts): log2(Q P) passes. Cells and
 * orders are float32 textures of integers below 2^24, so exact.
 */
import type {GPGPUProgram, MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import type {TensorInfo} from '@tensorflow/tfjs-core';
import {MsDeformAttnGrad} from '../../src/kernel_names.ts';
import {MAX_ATTN_LEVEL_CELLS} from '../constants.ts';
import {segmentSamples, VALUE_GRAD_FIELDS} from '../gpu/ms_deform_attn.ts';
import type {MsDeformAttnGeometry} from '../reference/ms_deform_attn.ts';
import {MS_DEFORM_SAMPLE} from './ms_deform_attn_gpu.ts';
import {sampleCount} from './MsDeformAttn.ts';
import {glslUniforms, glslValues} from './uniforms.ts';
import {zerosWebGL} from './webgl_util.ts';

export const VALUE_GRAD_UNIFORMS = glslUniforms(VALUE_GRAD_FIELDS);

export function valueGradUniforms(g: MsDeformAttnGeometry, run = 0): number[][] {
  return glslValues(MsDeformAttnGrad, VALUE_GRAD_FIELDS, {...g, run});
}


/**
 * Sample k = q P + p of segment g = (b M + m) L + l is sample
 * j = (((b Q + q) M + m) L + l) P + p, of dy row (b Q + q) M + m.
 */
export const SAMPLE_INDEX = `
  int segmentSamples() {
    return queries * points;
  }

  int queryRow(int g, int k) {
    int bm = g / levels;
    return ((bm / heads) * queries + k / points) * heads + bm % heads;
  }

  int sampleIndex(int g, int k) {
    return (queryRow(g, k) * levels + g % levels) * points + k % points;
  }

`;

export const SAMPLE_CELL = `
  // Cell of sample k of segment g: its top-left corner (x0, y0) in [-1, W) x [-1, H) as
  // (y0 + 1)(W + 1) + x0 + 1, or ${MAX_ATTN_LEVEL_CELLS} (after every cell) when it touches no
  // position of its level (all corners outside, a non-finite location, an unusable level).
  int sampleCell(int g, int k) {
    ivec3 level = msdaLevel(g % levels);
    if (!msdaLevelUsable(level)) return ${MAX_ATTN_LEVEL_CELLS};
    MsdaSample s = msdaSample(sampleIndex(g, k), level);
    vec2 f = floor(s.pos);
    if (!s.finite || f.x < -1.0 || f.x >= float(level.y) || f.y < -1.0 || f.y >= float(level.x)) {
      return ${MAX_ATTN_LEVEL_CELLS};
    }
    return (int(f.y) + 1) * (level.y + 1) + int(f.x) + 1;
  }
`;

/** Order [g Q P + i]: the sample at sorted position i of segment g (i itself before the first pass). */
export function sortedSample(hasOrder: boolean) {
  return `
  int sortedSample(int g, int i) {
    return ${hasOrder ? 'int(getOrder(g * segmentSamples() + i))' : 'i'};
  }
`;
}

/** Cells [g Q P + k]: the cell of sample k of segment g. */
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

abstract class SampleProgram implements GPGPUProgram {
  abstract variableNames: string[];
  abstract userCode: string;
  outputShape: number[];
  customUniforms = VALUE_GRAD_UNIFORMS;
  enableShapeUniforms = true;

  constructor(samples: number) {
    this.outputShape = [samples];
  }
}

/** Cells [segments Q P] from SpatialShapes, LevelStartIndex and SamplingLocations [N, 2]. */
export class SampleCellsProgram extends SampleProgram {
  variableNames = ['SpatialShapes', 'LevelStartIndex', 'SamplingLocations'];
  userCode = `
    ${MS_DEFORM_SAMPLE}
    ${SAMPLE_INDEX}
    ${SAMPLE_CELL}
    void main() {
      int i = getOutputCoords();
      setOutput(float(sampleCell(i / segmentSamples(), i % segmentSamples())));
    }
  `;
}

/** Order after a merge pass of runs of `run` (the first pass reads Cells only). */
export class SampleMergeProgram extends SampleProgram {
  variableNames: string[];
  userCode: string;

  constructor(samples: number, first: boolean) {
    super(samples);
    this.variableNames = first ? ['Cells'] : ['Order', 'Cells'];
    this.userCode = `
      ${SAMPLE_INDEX}
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

/**
 * Cells (by sample) and Order (each segment's samples by (cell, sample)),
 * both [segments Q P], from the tables and samplingLocations viewed [N, 2].
 */
export function sortSamplesWebGL(webgl: MathBackendWebGL, tables: TensorInfo[], locations: TensorInfo,
    g: MsDeformAttnGeometry): {cells: TensorInfo, order: TensorInfo} {
  const n = sampleCount(g);
  const cells = webgl.runWebGLProgram(new SampleCellsProgram(n), [...tables, locations], 'float32',
      valueGradUniforms(g));
  let order: TensorInfo|null = null;
  for (let run = 1; run < segmentSamples(g); run *= 2) {
    const next: TensorInfo = webgl.runWebGLProgram(new SampleMergeProgram(n, order == null),
        order == null ? [cells] : [order, cells], 'float32', valueGradUniforms(g, run));
    if (order != null) webgl.disposeIntermediateTensorInfo(order);
    order = next;
  }
  return {cells, order: order ?? zerosWebGL(webgl, [n])};
}

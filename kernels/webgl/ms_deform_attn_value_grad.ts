/**
 * dValue of msDeformAttn on webgl (WebGL2): a gather, deterministic, no
 * atomics, nothing read back.
 *  1. The samples of each segment (b, m, l) sorted by (cell, sample)
 *     (ms_deform_attn_sort_gpu.ts).
 *  2. SortedSamplesProgram: per sorted position, what the gather needs of its
 *     sample (SORTED_FIELDS), its corner weights from MS_DEFORM_SAMPLE
 *     computed once per sample.
 *  3. PositionLevelsProgram: the level of each value position (or none, or
 *     several: the tables are data and levels may overlap).
 *  4. CellRunsProgram, per (b, s, m, l) with position s in level l at (y, x):
 *     the samples whose corners include s are those of cells (y, x),
 *     (y, x + 1) (s is their se, sw corner) and (y + 1, x), (y + 1, x + 1)
 *     (ne, nw); cells go row by row, so six lower bounds (binary searches)
 *     delimit the four runs.
 *  5. ValueGradProgram: dValue[b, s, m, c] = sum over the levels of s, the
 *     four runs, their samples in sorted order of corner weight x (attention
 *     x dy[b, q, m, c]), as the reference multiplies.
 * Work: log2(Q P) per (b, s, m, l) plus what the samples cover, never
 * S x Q x P. The level tables are data: a level counts only where
 * msdaLevelUsable, a position only inside its level (and [0, S)).
 */
import {env, Reshape, TensorInfo, util} from '@tensorflow/tfjs-core';
import type {GPGPUProgram, MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {MsDeformAttnGrad, MsDeformAttnGradInputs} from '../../src/kernel_names.ts';
import {checkExactIndices} from '../gpu/ms_deform_attn.ts';
import type {MsDeformAttnGeometry} from '../reference/ms_deform_attn.ts';
import {MS_DEFORM_LEVEL, MS_DEFORM_SAMPLE} from './ms_deform_attn_gpu.ts';
import {
  SAMPLE_INDEX, SORTED_CELL, sortedSample, sortSamplesWebGL, VALUE_GRAD_UNIFORMS,
  valueGradUniforms,
} from './ms_deform_attn_sort_gpu.ts';
import {sampleCount, sampleInputs} from './MsDeformAttn.ts';
import {assertWebGL2, disposeAll, runBackendKernel, zerosWebGL} from './webgl_util.ts';

abstract class ValueGradStep implements GPGPUProgram {
  abstract variableNames: string[];
  abstract userCode: string;
  outputShape: number[];
  customUniforms = VALUE_GRAD_UNIFORMS;
  enableShapeUniforms = true;

  constructor(outputShape: number[]) {
    this.outputShape = outputShape;
  }
}

/** Per sorted position: the weights of corners nw ne sw se, the attention weight, the dy row, the cell. */
export const SORTED_FIELDS = 7;

const SORTED_FIELD = `
  // Field part (see SORTED_FIELDS) of the sample at sorted position at of segment g.
  float sortedField(int g, int at, int part) {
    int k = sortedSample(g, at);
    int j = sampleIndex(g, k);
    if (part < 4) {
      MsdaSample s = msdaSample(j, msdaLevel(g % levels));
      return s.weights[part];
    }
    if (part == 4) return msdaWeight(j);
    if (part == 5) return float(queryRow(g, k));
    return float(sortedCell(g, at));
  }
`;

/** SortedSamples [segments Q P SORTED_FIELDS]. */
export class SortedSamplesProgram extends ValueGradStep {
  variableNames = ['SpatialShapes', 'LevelStartIndex', 'SamplingLocations', 'AttentionWeights', 'Order', 'Cells'];
  userCode = `
    ${MS_DEFORM_SAMPLE}
    ${SAMPLE_INDEX}
    ${sortedSample(true)}
    ${SORTED_CELL}
    float msdaWeight(int j) {
      return getAttentionWeights(j);
    }
    ${SORTED_FIELD}
    void main() {
      int i = getOutputCoords();
      int at = i / ${SORTED_FIELDS};
      setOutput(sortedField(at / segmentSamples(), at % segmentSamples(), i % ${SORTED_FIELDS}));
    }
  `;

  constructor(g: MsDeformAttnGeometry) {
    super([sampleCount(g) * SORTED_FIELDS]);
  }
}

/** SortedSamples access for the programs after SortedSamplesProgram. */
const SORTED_TABLE = `
  float sortedTable(int i) {
    return getSortedSamples(i);
  }

  int sortedCell(int g, int i) {
    return int(sortedTable((g * segmentSamples() + i) * ${SORTED_FIELDS} + 6));
  }
`;

export const LEVEL_OFFSET = `
  // y W + x of value position s in level (H, W, start), or -1 when s is not in it.
  int levelOffset(int s, ivec3 level) {
    if (!msdaLevelUsable(level) || level.z > s || level.z <= s - level.x * level.y) return -1;
    return s - level.z;
  }
`;

export const CELL_RUN_MATH = `
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

/** PositionLevels [S]: the level holding each value position, -1 for none, L for several. */
export class PositionLevelsProgram extends ValueGradStep {
  variableNames = ['SpatialShapes', 'LevelStartIndex'];
  userCode = `
    ${MS_DEFORM_LEVEL}
    ${SAMPLE_INDEX}
    ${LEVEL_OFFSET}
    void main() {
      int s = getOutputCoords();
      int found = -1;
      for (int l = 0; l < levels; l++) {
        if (levelOffset(s, msdaLevel(l)) >= 0) found = found < 0 ? l : levels;
      }
      setOutput(float(found));
    }
  `;

  constructor(g: MsDeformAttnGeometry) {
    super([g.spatialSize]);
  }
}

const POSITION_LEVEL = `
  int positionLevel(int s) {
    return int(getPositionLevels(s));
  }
`;

/**
 * Runs [B S M L 6]: the starts of cells (y, x) + 0, 1, 2 and (y + 1, x) + 0,
 * 1, 2 in segment (b, m, l) for position s at (y, x) of level l; 0 where s is
 * not in level l.
 */
export class CellRunsProgram extends ValueGradStep {
  variableNames = ['SpatialShapes', 'LevelStartIndex', 'SortedSamples', 'PositionLevels'];
  userCode = `
    ${MS_DEFORM_LEVEL}
    ${SAMPLE_INDEX}
    ${LEVEL_OFFSET}
    ${SORTED_TABLE}
    ${POSITION_LEVEL}
    ${CELL_RUN_MATH}
    void main() {
      int i = getOutputCoords();
      int r = i % 6;
      int l = (i / 6) % levels;
      int m = (i / (6 * levels)) % heads;
      int s = (i / (6 * levels * heads)) % spatialSize;
      int b = i / (6 * levels * heads * spatialSize);
      int bound = 0;
      int holding = positionLevel(s);
      if (holding == l || holding == levels) {
        ivec3 level = msdaLevel(l);
        int offset = levelOffset(s, level);
        if (offset >= 0) {
          int cell = (offset / level.y + r / 3) * (level.y + 1) + offset % level.y + r % 3;
          bound = cellRunStart((b * heads + m) * levels + l, cell);
        }
      }
      setOutput(float(bound));
    }
  `;

  constructor(g: MsDeformAttnGeometry) {
    super([g.batch * g.spatialSize * g.heads * g.levels * 6]);
  }
}

export const VALUE_GRAD_ACCESS = `
  float msdaDy(int bqm, int c) {
    return getDy(bqm, c);
  }

  int cellRunBound(int i) {
    return int(getRuns(i));
  }
`;

export const VALUE_GRAD_MATH = `
  // Channel c of d out / d value through corner number corner (nw ne sw se) of the samples at sorted
  // positions [start, end) of segment g, in order.
  float cellRunSum(int g, int start, int end, int corner, int c) {
    float sum = 0.0;
    for (int i = max(start, 0); i < min(end, segmentSamples()); i++) {
      int at = (g * segmentSamples() + i) * ${SORTED_FIELDS};
      sum += sortedTable(at + corner) * (sortedTable(at + 4) * msdaDy(int(sortedTable(at + 5)), c));
    }
    return sum;
  }
`;

/** dValue [B, S, M, C]. */
export class ValueGradProgram extends ValueGradStep {
  variableNames = ['Dy', 'Runs', 'SortedSamples', 'PositionLevels'];
  userCode = `
    ${SAMPLE_INDEX}
    ${SORTED_TABLE}
    ${POSITION_LEVEL}
    ${VALUE_GRAD_ACCESS}
    ${VALUE_GRAD_MATH}
    void main() {
      ivec4 coords = getOutputCoords();
      int b = coords[0];
      int s = coords[1];
      int m = coords[2];
      int c = coords[3];
      float sum = 0.0;
      int holding = positionLevel(s);
      int lastLevel = holding == levels ? levels - 1 : holding;
      for (int l = holding == levels ? 0 : max(holding, 0); l <= lastLevel; l++) {
        int runs = (((b * spatialSize + s) * heads + m) * levels + l) * 6;
        int first = cellRunBound(runs);
        int last = cellRunBound(runs + 5);
        if (first >= last) continue;
        int g = (b * heads + m) * levels + l;
        int row0 = cellRunBound(runs + 1);
        int row1 = cellRunBound(runs + 3);
        int row1x = cellRunBound(runs + 4);
        sum += cellRunSum(g, first, row0, 3, c) + cellRunSum(g, row0, cellRunBound(runs + 2), 2, c) +
            cellRunSum(g, row1, row1x, 1, c) + cellRunSum(g, row1x, last, 0, c);
      }
      setOutput(sum);
    }
  `;

  constructor(g: MsDeformAttnGeometry) {
    super([g.batch, g.spatialSize, g.heads, g.channels]);
  }
}

function checkSupport(g: MsDeformAttnGeometry) {
  assertWebGL2(MsDeformAttnGrad);
  if (!env().getBool('WEBGL_RENDER_FLOAT32_ENABLED')) {
    throw new Error(`${MsDeformAttnGrad} (webgl): needs float32 render targets (sample indices up to 2^24); ` +
        'use the wasm or cpu backend');
  }
  checkExactIndices(`${MsDeformAttnGrad} (webgl)`, g);
}

/** dValue [B, S, M, C] of msDeformAttn's gradient (see the header). */
export function msDeformAttnValueGradWebGL(
    webgl: MathBackendWebGL, inputs: MsDeformAttnGradInputs, g: MsDeformAttnGeometry): TensorInfo {
  const {dy, value, spatialShapes, levelStartIndex} = inputs;
  if (util.sizeFromShape(value.shape) === 0) return webgl.makeTensorInfo(value.shape, 'float32', new Float32Array(0));
  if (sampleCount(g) === 0) return zerosWebGL(webgl, value.shape);
  checkSupport(g);
  util.assert(util.arraysEqual(spatialShapes.shape, [g.levels, 2]) &&
      util.arraysEqual(levelStartIndex.shape, [g.levels]),
      () => `${MsDeformAttnGrad}: level tables of shapes [${spatialShapes.shape}], [${levelStartIndex.shape}] ` +
          `for ${g.levels} levels`);
  const {programInputs: [, , locations, weights], views} = sampleInputs(webgl, inputs, g);
  const dyRows = runBackendKernel(webgl, Reshape, {x: dy}, {shape: [g.batch * g.queries * g.heads, g.channels]});
  const tables = [spatialShapes, levelStartIndex];
  const {cells, order} = sortSamplesWebGL(webgl, tables, locations, g);
  const uniforms = valueGradUniforms(g);
  const sorted = webgl.runWebGLProgram(new SortedSamplesProgram(g),
      [...tables, locations, weights, order, cells], 'float32', uniforms);
  const levels = webgl.runWebGLProgram(new PositionLevelsProgram(g), tables, 'float32', uniforms);
  const runs = webgl.runWebGLProgram(new CellRunsProgram(g), [...tables, sorted, levels], 'float32', uniforms);
  const dValue = webgl.runWebGLProgram(new ValueGradProgram(g), [dyRows, runs, sorted, levels], 'float32', uniforms);
  disposeAll(webgl, [...views, dyRows, cells, order, sorted, levels, runs]);
  return dValue;
}

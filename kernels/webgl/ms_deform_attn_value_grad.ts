/**
 * dValue of msDeformAttn on webgl (WebGL2): a gather, deterministic, no
 * atomics, nothing read back.
 *  1. The samples of each segment (b, m, l) sorted by (cell, sample)
 *     (SampleCellsProgram, then cell_sort_gpu.ts), the cell being the
 *     sample's top-left corner on its level (sampleCell).
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
 *     x dy[b, q, m, c]), as the reference multiplies (CELL_RUNS_SUM).
 * Work: log2(Q P) per (b, s, m, l) plus what the samples cover, never
 * S x Q x P. The level tables are data: a level counts only where
 * msdaLevelUsable, a position only inside its level (and [0, S)).
 */
import {env, Reshape, TensorInfo, util} from '@tensorflow/tfjs-core';
import type {GPGPUProgram, MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {MsDeformAttnGrad, MsDeformAttnGradInputs} from '../../src/kernel_names.ts';
import {MAX_ATTN_LEVEL_CELLS} from '../constants.ts';
import {SORTED_FIELDS} from '../gpu/cell_sort.ts';
import {checkExactIndices, VALUE_GRAD_FIELDS} from '../gpu/ms_deform_attn.ts';
import type {MsDeformAttnGeometry} from '../reference/ms_deform_attn.ts';
import {
  CELL_RUN_START, CELL_RUNS_SUM, SAMPLE_CELLS_MAIN, SORTED_CELL, SORTED_SAMPLES_MAIN, SORTED_TABLE, sortCellsWebGL,
  sortedSample,
} from './cell_sort_gpu.ts';
import {MS_DEFORM_LEVEL, MS_DEFORM_SAMPLE} from './ms_deform_attn_gpu.ts';
import {sampleCount, sampleInputs} from './MsDeformAttn.ts';
import {glslUniforms, glslValues} from './uniforms.ts';
import {assertWebGL2, disposeAll, runBackendKernel, zerosWebGL} from './webgl_util.ts';

const VALUE_GRAD_UNIFORMS = glslUniforms(VALUE_GRAD_FIELDS);

function valueGradUniforms(g: MsDeformAttnGeometry): number[][] {
  return glslValues(MsDeformAttnGrad, VALUE_GRAD_FIELDS, {...g});
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

/** Cells [segments Q P] from SpatialShapes, LevelStartIndex and SamplingLocations [N, 2]. */
export class SampleCellsProgram extends ValueGradStep {
  variableNames = ['SpatialShapes', 'LevelStartIndex', 'SamplingLocations'];
  userCode = `
    ${MS_DEFORM_SAMPLE}
    ${SAMPLE_INDEX}
    ${SAMPLE_CELL}
    ${SAMPLE_CELLS_MAIN}
  `;

  constructor(g: MsDeformAttnGeometry) {
    super([sampleCount(g)]);
  }
}

const SORTED_FIELD = `
  // Field part (SORTED_FIELDS: corner weights, attention weight, dy row, cell) of the sample at sorted
  // position at of segment g.
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
    ${SORTED_SAMPLES_MAIN}
  `;

  constructor(g: MsDeformAttnGeometry) {
    super([sampleCount(g) * SORTED_FIELDS]);
  }
}

export const LEVEL_OFFSET = `
  // y W + x of value position s in level (H, W, start), or -1 when s is not in it.
  int levelOffset(int s, ivec3 level) {
    if (!msdaLevelUsable(level) || level.z > s || level.z <= s - level.x * level.y) return -1;
    return s - level.z;
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
    ${CELL_RUN_START}
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
  float sortedRowValue(int bqm, int c) {
    return getDy(bqm, c);
  }

  int cellRunBound(int i) {
    return int(getRuns(i));
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
    ${CELL_RUNS_SUM}
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
        ivec3 row = ivec3(first, cellRunBound(runs + 1), cellRunBound(runs + 2));
        ivec3 below = ivec3(cellRunBound(runs + 3), cellRunBound(runs + 4), last);
        sum += cellRunsSum((b * heads + m) * levels + l, row, below, c);
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
  const uniforms = valueGradUniforms(g);
  const cells = webgl.runWebGLProgram(new SampleCellsProgram(g), [...tables, locations], 'float32', uniforms);
  const order = sortCellsWebGL(webgl, cells, g.queries * g.points);
  const sorted = webgl.runWebGLProgram(new SortedSamplesProgram(g),
      [...tables, locations, weights, order, cells], 'float32', uniforms);
  const levels = webgl.runWebGLProgram(new PositionLevelsProgram(g), tables, 'float32', uniforms);
  const runs = webgl.runWebGLProgram(new CellRunsProgram(g), [...tables, sorted, levels], 'float32', uniforms);
  const dValue = webgl.runWebGLProgram(new ValueGradProgram(g), [dyRows, runs, sorted, levels], 'float32', uniforms);
  disposeAll(webgl, [...views, dyRows, cells, order, sorted, levels, runs]);
  return dValue;
}

/**
 * dValue of msDeformAttn on webgpu: the translation of
 * kernels/webgl/ms_deform_attn_value_grad.ts (see there), a gather,
 * deterministic, no atomics, nothing read back: the samples of each segment
 * (b, m, l) sorted by cell (SampleCellsProgram, then cell_sort_webgpu.ts);
 * SortedSamples, what the gather needs of each sorted sample (its corner
 * weights computed once); the level of each value position; per (b, s, m, l)
 * the bounds of the four cell runs whose samples touch s; then each
 * (b, s, m, c) sums its runs in order.
 */
import {webgpu_util} from '@tensorflow/tfjs-backend-webgpu';
import type {WebGPUBackend, WebGPUProgram} from '@tensorflow/tfjs-backend-webgpu';
import {TensorInfo, util} from '@tensorflow/tfjs-core';
import {MsDeformAttnGrad, MsDeformAttnGradInputs} from '../../src/kernel_names.ts';
import {MAX_ATTN_LEVEL_CELLS} from '../constants.ts';
import {SORTED_FIELDS} from '../gpu/cell_sort.ts';
import {checkExactIndices, VALUE_GRAD_FIELDS} from '../gpu/ms_deform_attn.ts';
import type {MsDeformAttnGeometry} from '../reference/ms_deform_attn.ts';
import {
  CELL_RUN_START, CELL_RUNS_SUM, flatView, SAMPLE_CELLS_MAIN, SORTED_CELL, SORTED_SAMPLE, SORTED_SAMPLES_MAIN,
  SORTED_TABLE, sortCellsWebGPU,
} from './cell_sort_webgpu.ts';
import {MS_DEFORM_LEVEL, MS_DEFORM_SAMPLE} from './ms_deform_attn_webgpu.ts';
import {sampleCount} from './MsDeformAttn.ts';
import {ProgramUniforms, wgslUniforms, wgslValues} from './uniforms.ts';
import {mainPerValue, zerosWebGPU} from './webgpu_util.ts';

const VALUE_GRAD_UNIFORMS = wgslUniforms(VALUE_GRAD_FIELDS);

function valueGradUniforms(g: MsDeformAttnGeometry): ProgramUniforms {
  return wgslValues(MsDeformAttnGrad, VALUE_GRAD_FIELDS, {...g});
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

abstract class ValueGradStep implements WebGPUProgram {
  abstract variableNames: string[];
  abstract shaderKey: string;
  outputShape: number[];
  dispatchLayout: {x: number[]};
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  uniforms = VALUE_GRAD_UNIFORMS;
  size = true;

  constructor(outputShape: number[]) {
    this.outputShape = outputShape;
    this.dispatchLayout = webgpu_util.flatDispatchLayout(outputShape);
    this.dispatch = webgpu_util.computeDispatch(this.dispatchLayout, outputShape, this.workgroupSize);
  }
  abstract getUserCode(): string;
}

/** Cells [segments Q P] (int32) from SpatialShapes, LevelStartIndex and SamplingLocations. */
export class SampleCellsProgram extends ValueGradStep {
  variableNames = ['SpatialShapes', 'LevelStartIndex', 'SamplingLocations'];
  shaderKey = 'tfjsVisionOps_msDeformAttnSampleCells';

  constructor(g: MsDeformAttnGeometry) {
    super([sampleCount(g)]);
  }

  getUserCode() {
    return `
      ${MS_DEFORM_SAMPLE}
      ${SAMPLE_INDEX}
      ${SAMPLE_CELL}
      ${SAMPLE_CELLS_MAIN}
    `;
  }
}

const SORTED_FIELD = `
  fn sortedField(g : i32, at : i32, part : i32) -> f32 {
    let k = sortedSample(g, at);
    let j = sampleIndex(g, k);
    if (part < 4) {
      let s = msdaSample(j, msdaLevel(g % uniforms.levels));
      return s.weights[part];
    }
    if (part == 4) { return msdaWeight(j); }
    if (part == 5) { return f32(queryRow(g, k)); }
    return f32(sortedCell(g, at));
  }
`;

/** SortedSamples [segments Q P SORTED_FIELDS]. */
export class SortedSamplesProgram extends ValueGradStep {
  variableNames = ['SpatialShapes', 'LevelStartIndex', 'SamplingLocations', 'AttentionWeights', 'Pairs'];
  shaderKey = 'tfjsVisionOps_msDeformAttnSortedSamples';

  constructor(g: MsDeformAttnGeometry) {
    super([sampleCount(g) * SORTED_FIELDS]);
  }

  getUserCode() {
    return `
      ${MS_DEFORM_SAMPLE}
      ${SAMPLE_INDEX}
      ${SORTED_SAMPLE}
      ${SORTED_CELL}
      fn msdaWeight(j : i32) -> f32 {
        return AttentionWeights[j];
      }
      ${SORTED_FIELD}
      ${SORTED_SAMPLES_MAIN}
    `;
  }
}

export const LEVEL_OFFSET = `
  fn levelOffset(s : i32, level : vec3<i32>) -> i32 {
    if (!msdaLevelUsable(level) || level.z > s || level.z <= s - level.x * level.y) { return -1; }
    return s - level.z;
  }
`;

/** PositionLevels [S]: the level holding each value position, -1 for none, L for several. */
export class PositionLevelsProgram extends ValueGradStep {
  variableNames = ['SpatialShapes', 'LevelStartIndex'];
  shaderKey = 'tfjsVisionOps_msDeformAttnPositionLevels';

  constructor(g: MsDeformAttnGeometry) {
    super([g.spatialSize]);
  }

  getUserCode() {
    return `
      ${MS_DEFORM_LEVEL}
      ${SAMPLE_INDEX}
      ${LEVEL_OFFSET}
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let s = getCoordsFromIndex(index);
        var found = -1;
        for (var l = 0; l < uniforms.levels; l++) {
          if (levelOffset(s, msdaLevel(l)) >= 0) { found = select(uniforms.levels, l, found < 0); }
        }
        setOutputAtIndex(index, f32(found));
      }
    `;
  }
}

const POSITION_LEVEL = `
  fn positionLevel(s : i32) -> i32 {
    return i32(PositionLevels[s]);
  }
`;

/** Runs [B S M L 6]: the starts of cells (y, x) + 0, 1, 2 and (y + 1, x) + 0, 1, 2 (0 where s is not in l). */
export class CellRunsProgram extends ValueGradStep {
  variableNames = ['SpatialShapes', 'LevelStartIndex', 'SortedSamples', 'PositionLevels'];
  shaderKey = 'tfjsVisionOps_msDeformAttnCellRuns';

  constructor(g: MsDeformAttnGeometry) {
    super([g.batch * g.spatialSize * g.heads * g.levels * 6]);
  }

  getUserCode() {
    return `
      ${MS_DEFORM_LEVEL}
      ${SAMPLE_INDEX}
      ${LEVEL_OFFSET}
      ${SORTED_TABLE}
      ${POSITION_LEVEL}
      ${CELL_RUN_START}
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let i = getCoordsFromIndex(index);
        let r = i % 6;
        let l = (i / 6) % uniforms.levels;
        let m = (i / (6 * uniforms.levels)) % uniforms.heads;
        let s = (i / (6 * uniforms.levels * uniforms.heads)) % uniforms.spatialSize;
        let b = i / (6 * uniforms.levels * uniforms.heads * uniforms.spatialSize);
        var bound = 0;
        let holding = positionLevel(s);
        if (holding == l || holding == uniforms.levels) {
          let level = msdaLevel(l);
          let offset = levelOffset(s, level);
          if (offset >= 0) {
            let cell = (offset / level.y + r / 3) * (level.y + 1) + offset % level.y + r % 3;
            bound = cellRunStart((b * uniforms.heads + m) * uniforms.levels + l, cell);
          }
        }
        setOutputAtIndex(index, f32(bound));
      }
    `;
  }
}

export const VALUE_GRAD_ACCESS = `
  fn sortedRowValue(bqm : i32, c : i32) -> f32 {
    return Dy[bqm * uniforms.channels + c];
  }

  fn cellRunBound(i : i32) -> i32 {
    return i32(Runs[i]);
  }
`;

/** dValue [B, S, M, C]. */
export class ValueGradProgram extends ValueGradStep {
  variableNames = ['Dy', 'Runs', 'SortedSamples', 'PositionLevels'];
  shaderKey = 'tfjsVisionOps_msDeformAttnValueGrad';

  constructor(g: MsDeformAttnGeometry) {
    super([g.batch, g.spatialSize, g.heads, g.channels]);
  }

  getUserCode() {
    return `
      ${SAMPLE_INDEX}
      ${SORTED_TABLE}
      ${POSITION_LEVEL}
      ${VALUE_GRAD_ACCESS}
      ${CELL_RUNS_SUM}
      ${mainPerValue(`
        let b = coords[0];
        let s = coords[1];
        let m = coords[2];
        let c = coords[3];
        var sum = 0.0;
        let holding = positionLevel(s);
        let lastLevel = select(holding, uniforms.levels - 1, holding == uniforms.levels);
        for (var l = select(max(holding, 0), 0, holding == uniforms.levels); l <= lastLevel; l++) {
          let runs = (((b * uniforms.spatialSize + s) * uniforms.heads + m) * uniforms.levels + l) * 6;
          let first = cellRunBound(runs);
          let last = cellRunBound(runs + 5);
          if (first >= last) { continue; }
          let row = vec3<i32>(first, cellRunBound(runs + 1), cellRunBound(runs + 2));
          let below = vec3<i32>(cellRunBound(runs + 3), cellRunBound(runs + 4), last);
          sum += cellRunsSum((b * uniforms.heads + m) * uniforms.levels + l, row, below, c);
        }
        setOutputAtIndex(index, sum);`)}
    `;
  }
}

/** dValue [B, S, M, C] of msDeformAttn's gradient (see the header). */
export function msDeformAttnValueGradWebGPU(
    webgpu: WebGPUBackend, inputs: MsDeformAttnGradInputs, g: MsDeformAttnGeometry): TensorInfo {
  const {dy, value, spatialShapes, levelStartIndex, samplingLocations, attentionWeights} = inputs;
  if (util.sizeFromShape(value.shape) === 0) return webgpu.makeTensorInfo(value.shape, 'float32', new Float32Array(0));
  if (sampleCount(g) === 0) return zerosWebGPU(webgpu, value.shape);
  checkExactIndices(`${MsDeformAttnGrad} (webgpu)`, g);
  util.assert(util.arraysEqual(spatialShapes.shape, [g.levels, 2]) &&
      util.arraysEqual(levelStartIndex.shape, [g.levels]),
      () => `${MsDeformAttnGrad}: level tables of shapes [${spatialShapes.shape}], [${levelStartIndex.shape}] ` +
          `for ${g.levels} levels`);
  const tables = [flatView(spatialShapes), flatView(levelStartIndex)];
  const locations = flatView(samplingLocations);
  const uniforms = valueGradUniforms(g);
  const cells = webgpu.runWebGPUProgram(new SampleCellsProgram(g), [...tables, locations], 'int32', uniforms);
  const pairs = sortCellsWebGPU(webgpu, cells, g.queries * g.points);
  const sorted = webgpu.runWebGPUProgram(new SortedSamplesProgram(g),
      [...tables, locations, flatView(attentionWeights), pairs], 'float32', uniforms);
  const levels = webgpu.runWebGPUProgram(new PositionLevelsProgram(g), tables, 'float32', uniforms);
  const runs = webgpu.runWebGPUProgram(new CellRunsProgram(g), [...tables, sorted, levels], 'float32', uniforms);
  const dValue = webgpu.runWebGPUProgram(new ValueGradProgram(g), [flatView(dy), runs, sorted, levels], 'float32',
      uniforms);
  [cells, pairs, sorted, levels, runs].forEach(t => webgpu.disposeData(t.dataId));
  return dValue;
}

/**
 * WGSL programs of multi-scale deformable attention for the webgpu backend,
 * the translation of kernels/webgl/ms_deform_attn_gpu.ts (token-equivalent,
 * test/shader_pairs.spec.ts): one output value per invocation, a gather over
 * the (l, p) samples (forward) or the channels (sample gradients); the value
 * gradient is ms_deform_attn_value_grad.ts, on the same MS_DEFORM_SAMPLE.
 * Inputs are flat buffers read by index; shapes are uniforms.
 */
import {webgpu_util} from '@tensorflow/tfjs-backend-webgpu';
import type {WebGPUProgram} from '@tensorflow/tfjs-backend-webgpu';
import {MsDeformAttn} from '../../src/kernel_names.ts';
import {floatLiteral, MAX_ATTN_LEVEL_CELLS} from '../constants.ts';
import {MS_DEFORM_FIELDS, msDeformValues} from '../gpu/uniforms.ts';
import type {MsDeformAttnGeometry} from '../reference/ms_deform_attn.ts';
import {ProgramUniforms, wgslUniforms, wgslValues} from './uniforms.ts';

export const MS_DEFORM_UNIFORMS = wgslUniforms(MS_DEFORM_FIELDS);

export function msDeformUniforms(g: MsDeformAttnGeometry, gradOfAttention = false): ProgramUniforms {
  return wgslValues(MsDeformAttn, MS_DEFORM_FIELDS, msDeformValues(g, gradOfAttention));
}

/** Level l's table entries, for programs with inputs SpatialShapes (int32 [L, 2]) and LevelStartIndex (int32 [L]). */
export const MS_DEFORM_LEVEL = `
  // Level l's (H, W, start).
  fn msdaLevel(l : i32) -> vec3<i32> {
    return vec3<i32>(SpatialShapes[2 * l], SpatialShapes[2 * l + 1], LevelStartIndex[l]);
  }

  // levelUsable of the reference: H, W >= 1 and (H + 1)(W + 1) float32-exact cells; nothing reads a level beyond.
  fn msdaLevelUsable(level : vec3<i32>) -> bool {
    return level.x >= 1 && level.y >= 1 &&
        (f32(level.x) + 1.0) * (f32(level.y) + 1.0) <= ${floatLiteral(MAX_ATTN_LEVEL_CELLS)};
  }
`;

/**
 * The geometry of sample j = (((b Q + q) M + m) L + l) P + p, for programs
 * with inputs SpatialShapes (int32 [L, 2]), LevelStartIndex (int32 [L]),
 * SamplingLocations (float32 [N, 2], N = B Q M L P) and the MS_DEFORM_FIELDS
 * uniforms. The level tables are data: a corner reads (row >= 0) only inside
 * its level and inside [0, S), whatever H, W and start hold, and no index wraps.
 */
export const MS_DEFORM_SAMPLE = `
  ${MS_DEFORM_LEVEL}
  struct MsdaSample { finite : bool, pos : vec2<f32>, frac : vec2<f32>, rows : vec4<i32>, weights : vec4<f32>, };

  fn msdaLocation(j : i32) -> vec2<f32> {
    return vec2<f32>(SamplingLocations[2 * j], SamplingLocations[2 * j + 1]);
  }

  fn msdaIsFinite(v : f32) -> bool {
    return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
  }

  // A floor as an i32; -2 (both its corners outside every level) for floors below, or too large for i32().
  fn msdaFloor(f : f32) -> i32 {
    return select(-2, i32(f), f >= -2.0 && f <= 2147483520.0);
  }

  // Value position start + cy W + cx of corner (cx, cy), -1 outside the level or [0, S). In u32, S - start
  // (start < S) and -start (start < 0) are exact, and bounding cy first keeps cy W + cx from wrapping.
  fn msdaCornerRow(cy : i32, cx : i32, level : vec3<i32>) -> i32 {
    if (cy < 0 || cy >= level.x || cx < 0 || cx >= level.y || level.z >= uniforms.spatialSize) { return -1; }
    let room = u32(uniforms.spatialSize) - u32(level.z);
    if (u32(cx) >= room || u32(cy) > (room - u32(cx) - 1u) / u32(level.y)) { return -1; }
    let rel = u32(cy) * u32(level.y) + u32(cx);
    if (level.z < 0 && rel < 0u - u32(level.z)) { return -1; }
    return i32(u32(level.z) + rel);
  }

  // Sample j on its level: pixel position (x W - 0.5, y H - 0.5), its fraction past the top-left corner,
  // the value rows of the corners nw ne sw se (-1: reads 0) and their bilinear weights.
  fn msdaSample(j : i32, level : vec3<i32>) -> MsdaSample {
    let xy = msdaLocation(j);
    let pos = vec2<f32>(xy.x * f32(level.y), xy.y * f32(level.x)) - 0.5;
    if (!msdaIsFinite(pos.x) || !msdaIsFinite(pos.y)) {
      return MsdaSample(false, pos, vec2<f32>(0.0), vec4<i32>(-1), vec4<f32>(0.0));
    }
    let f = floor(pos);
    let l = pos - f;
    let h = vec2<f32>(1.0) - l;
    let x0 = msdaFloor(f.x);
    let y0 = msdaFloor(f.y);
    var rows = vec4<i32>(-1);
    if (msdaLevelUsable(level)) {
      rows = vec4<i32>(msdaCornerRow(y0, x0, level), msdaCornerRow(y0, x0 + 1, level),
          msdaCornerRow(y0 + 1, x0, level), msdaCornerRow(y0 + 1, x0 + 1, level));
    }
    return MsdaSample(true, pos, l, rows, vec4<f32>(h.y * h.x, h.y * l.x, l.y * h.x, l.y * l.x));
  }
`;

/** Value [B, S, M, C] access; without the input (S = 0) no corner reads. */
function valueAccess(hasValue: boolean) {
  const read = 'Value[((b * uniforms.spatialSize + row) * uniforms.heads + m) * uniforms.channels + c]';
  return `
  fn msdaValue(b : i32, row : i32, m : i32, c : i32) -> f32 {
    return ${hasValue ? read : '0.0'};
  }`;
}

const FORWARD_MAIN = `
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    let o = getCoordsFromIndex(index);
    let b = o[0];
    let q = o[1];
    let m = o[2];
    let c = o[3];
    var sum = 0.0;
    var nonFinite = false;
    for (var l = 0; l < uniforms.levels; l++) {
      let level = msdaLevel(l);
      for (var p = 0; p < uniforms.points; p++) {
        let j = (((b * uniforms.queries + q) * uniforms.heads + m) * uniforms.levels + l) * uniforms.points + p;
        let s = msdaSample(j, level);
        if (!s.finite) {
          nonFinite = true;
          continue;
        }
        var v = 0.0;
        for (var k = 0; k < 4; k++) {
          if (s.rows[k] >= 0) { v += s.weights[k] * msdaValue(b, s.rows[k], m, c); }
        }
        sum += msdaWeight(j) * v;
      }
    }
    // NaN explicitly: GPU arithmetic on NaN is not guaranteed to give NaN.
    setOutputAtIndex(index, select(sum, uniforms.NAN, nonFinite));
  }
`;

const SAMPLE_GRAD_MAIN = `
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    let o = getCoordsFromIndex(index);
    let j = o[0];
    let bqm = j / (uniforms.levels * uniforms.points);
    let b = bqm / (uniforms.queries * uniforms.heads);
    let m = bqm % uniforms.heads;
    let level = msdaLevel((j / uniforms.points) % uniforms.levels);
    let s = msdaSample(j, level);
    if (!s.finite) {
      setOutputAtIndex(index, uniforms.NAN);
      return;
    }
    let a = msdaWeight(j);
    let h = vec2<f32>(1.0) - s.frac;
    // d(corner weight)/d(pixel x) and /d(pixel y), nw ne sw se.
    let wx = vec4<f32>(-h.y, h.y, -s.frac.y, s.frac.y);
    let wy = vec4<f32>(-h.x, -s.frac.x, h.x, s.frac.x);
    var dw = 0.0;
    var gx = 0.0;
    var gy = 0.0;
    for (var c = 0; c < uniforms.channels; c++) {
      let d = msdaDy(bqm, c);
      let ad = a * d;
      var v = 0.0;
      var vx = 0.0;
      var vy = 0.0;
      for (var k = 0; k < 4; k++) {
        if (s.rows[k] >= 0) {
          let u = msdaValue(b, s.rows[k], m, c);
          v += s.weights[k] * u;
          vx += wx[k] * u;
          vy += wy[k] * u;
        }
      }
      dw += d * v;
      gx += ad * vx;
      gy += ad * vy;
    }
    let dLocation = select(gy * f32(level.x), gx * f32(level.y), o[1] == 0);
    setOutputAtIndex(index, select(dLocation, dw, uniforms.gradOfAttention != 0));
  }
`;

abstract class MsDeformProgram implements WebGPUProgram {
  abstract shaderKey: string;
  variableNames: string[];
  uniforms = MS_DEFORM_UNIFORMS;
  outputShape: number[];
  dispatchLayout: {x: number[]};
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;

  constructor(outputShape: number[], readonly hasValue: boolean, extraInputs: string[] = []) {
    this.outputShape = outputShape;
    this.variableNames = [...extraInputs, ...(hasValue ? ['Value'] : []), 'SpatialShapes', 'LevelStartIndex',
      'SamplingLocations', 'AttentionWeights'];
    this.dispatchLayout = webgpu_util.flatDispatchLayout(outputShape);
    this.dispatch = webgpu_util.computeDispatch(this.dispatchLayout, outputShape, this.workgroupSize);
  }

  abstract getUserCode(): string;
}

/** out [B, Q, M, C] from [Value,] SpatialShapes, LevelStartIndex, SamplingLocations, AttentionWeights. */
export class MsDeformAttnProgram extends MsDeformProgram {
  shaderKey: string;

  constructor(outputShape: number[], hasValue: boolean) {
    super(outputShape, hasValue);
    this.shaderKey = `tfjsVisionOps_msDeformAttn_${hasValue}`;
  }

  getUserCode() {
    return `
      ${MS_DEFORM_SAMPLE}
      ${valueAccess(this.hasValue)}
      fn msdaWeight(j : i32) -> f32 {
        return AttentionWeights[j];
      }
      ${FORWARD_MAIN}
    `;
  }
}

/**
 * dSamplingLocations [N, 2] (uniform gradOfAttention 0) or
 * dAttentionWeights [N, 1] (1), one shader, from Dy, [Value,] SpatialShapes,
 * LevelStartIndex, SamplingLocations, AttentionWeights: a loop over the
 * channels per value.
 */
export class MsDeformAttnSampleGradProgram extends MsDeformProgram {
  shaderKey: string;

  constructor(outputShape: number[], hasValue: boolean) {
    super(outputShape, hasValue, ['Dy']);
    this.shaderKey = `tfjsVisionOps_msDeformAttnSampleGrad_${hasValue}`;
  }

  getUserCode() {
    return `
      ${MS_DEFORM_SAMPLE}
      ${valueAccess(this.hasValue)}
      fn msdaWeight(j : i32) -> f32 {
        return AttentionWeights[j];
      }
      fn msdaDy(bqm : i32, c : i32) -> f32 {
        return Dy[bqm * uniforms.channels + c];
      }
      ${SAMPLE_GRAD_MAIN}
    `;
  }
}

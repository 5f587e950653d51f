/**
 * GLSL programs of multi-scale deformable attention for the webgl backend
 * (WebGL2), the math of kernels/reference/ms_deform_attn.ts: one output value
 * per invocation, a gather over the (l, p) samples (forward) or the channels
 * (sample gradients). The value gradient (a scatter) is
 * ms_deform_attn_value_grad.ts, on the same sample geometry MS_DEFORM_SAMPLE.
 * Shapes are uniforms (MS_DEFORM_FIELDS), so no size recompiles.
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import {MsDeformAttn} from '../../src/kernel_names.ts';
import {floatLiteral, MAX_ATTN_LEVEL_CELLS} from '../constants.ts';
import {MS_DEFORM_FIELDS, msDeformValues} from '../gpu/uniforms.ts';
import type {MsDeformAttnGeometry} from '../reference/ms_deform_attn.ts';
import {glslUniforms, glslValues} from './uniforms.ts';

export const MS_DEFORM_UNIFORMS = glslUniforms(MS_DEFORM_FIELDS);

export function msDeformUniforms(g: MsDeformAttnGeometry, gradOfAttention = false): number[][] {
  return glslValues(MsDeformAttn, MS_DEFORM_FIELDS, msDeformValues(g, gradOfAttention));
}

/** Level l's table entries, for programs with inputs SpatialShapes [L, 2] and LevelStartIndex [L]. */
export const MS_DEFORM_LEVEL = `
  // Level l's (H, W, start); webgl holds int32 as float, brought into int range before int().
  ivec3 msdaLevel(int l) {
    vec3 t = vec3(getSpatialShapes(l, 0), getSpatialShapes(l, 1), getLevelStartIndex(l));
    return ivec3(clamp(t, -2147483648.0, 2147483520.0));
  }

  // levelUsable of the reference: H, W >= 1 and (H + 1)(W + 1) float32-exact cells; nothing reads a level beyond.
  bool msdaLevelUsable(ivec3 level) {
    return level.x >= 1 && level.y >= 1 &&
        (float(level.x) + 1.0) * (float(level.y) + 1.0) <= ${floatLiteral(MAX_ATTN_LEVEL_CELLS)};
  }
`;

/**
 * The geometry of sample j = (((b Q + q) M + m) L + l) P + p, for programs
 * with inputs SpatialShapes [L, 2], LevelStartIndex [L], SamplingLocations
 * viewed as [N, 2] (N = B Q M L P) and the MS_DEFORM_FIELDS uniforms. The
 * level tables are data: a corner reads (row >= 0) only inside its level and
 * inside [0, S), whatever H, W and start hold, and no index wraps.
 */
export const MS_DEFORM_SAMPLE = `
  ${MS_DEFORM_LEVEL}
  struct MsdaSample { bool finite; vec2 pos; vec2 frac; ivec4 rows; vec4 weights; };

  vec2 msdaLocation(int j) {
    return vec2(getSamplingLocations(j, 0), getSamplingLocations(j, 1));
  }

  bool msdaIsFinite(float v) {
    return (floatBitsToUint(v) & 0x7f800000u) != 0x7f800000u;
  }

  // A floor as an int; -2 (both its corners outside every level) for floors below, or too large for int().
  int msdaFloor(float f) {
    return f >= -2.0 && f <= 2147483520.0 ? int(f) : -2;
  }

  // Value position start + cy W + cx of corner (cx, cy), -1 outside the level or [0, S). In uint, S - start
  // (start < S) and -start (start < 0) are exact, and bounding cy first keeps cy W + cx from wrapping.
  int msdaCornerRow(int cy, int cx, ivec3 level) {
    if (cy < 0 || cy >= level.x || cx < 0 || cx >= level.y || level.z >= spatialSize) return -1;
    uint room = uint(spatialSize) - uint(level.z);
    if (uint(cx) >= room || uint(cy) > (room - uint(cx) - 1u) / uint(level.y)) return -1;
    uint rel = uint(cy) * uint(level.y) + uint(cx);
    if (level.z < 0 && rel < 0u - uint(level.z)) return -1;
    return int(uint(level.z) + rel);
  }

  // Sample j on its level: pixel position (x W - 0.5, y H - 0.5), its fraction past the top-left corner,
  // the value rows of the corners nw ne sw se (-1: reads 0) and their bilinear weights.
  MsdaSample msdaSample(int j, ivec3 level) {
    vec2 xy = msdaLocation(j);
    vec2 pos = vec2(xy.x * float(level.y), xy.y * float(level.x)) - 0.5;
    if (!msdaIsFinite(pos.x) || !msdaIsFinite(pos.y)) return MsdaSample(false, pos, vec2(0.0), ivec4(-1), vec4(0.0));
    vec2 f = floor(pos);
    vec2 l = pos - f;
    vec2 h = vec2(1.0) - l;
    int x0 = msdaFloor(f.x), y0 = msdaFloor(f.y);
    ivec4 rows = ivec4(-1);
    if (msdaLevelUsable(level)) {
      rows = ivec4(msdaCornerRow(y0, x0, level), msdaCornerRow(y0, x0 + 1, level),
          msdaCornerRow(y0 + 1, x0, level), msdaCornerRow(y0 + 1, x0 + 1, level));
    }
    return MsdaSample(true, pos, l, rows, vec4(h.y * h.x, h.y * l.x, l.y * h.x, l.y * l.x));
  }
`;

/** Value [B, S, M, C] access; without the input (S = 0) no corner reads. */
function valueAccess(hasValue: boolean) {
  return `
  float msdaValue(int b, int row, int m, int c) {
    return ${hasValue ? 'getValue(b, row, m, c)' : '0.0'};
  }`;
}

const FORWARD_MAIN = `
  void main() {
    ivec4 o = getOutputCoords();
    int b = o[0], q = o[1], m = o[2], c = o[3];
    float sum = 0.0;
    bool nonFinite = false;
    for (int l = 0; l < levels; l++) {
      ivec3 level = msdaLevel(l);
      for (int p = 0; p < points; p++) {
        int j = (((b * queries + q) * heads + m) * levels + l) * points + p;
        MsdaSample s = msdaSample(j, level);
        if (!s.finite) {
          nonFinite = true;
          continue;
        }
        float v = 0.0;
        for (int k = 0; k < 4; k++) {
          if (s.rows[k] >= 0) v += s.weights[k] * msdaValue(b, s.rows[k], m, c);
        }
        sum += msdaWeight(j) * v;
      }
    }
    // NaN explicitly: GPU arithmetic on NaN is not guaranteed to give NaN.
    setOutput(nonFinite ? NAN : sum);
  }
`;

/** out [B, Q, M, C] from [Value,] SpatialShapes, LevelStartIndex, SamplingLocations [N, 2], AttentionWeights [N]. */
export class MsDeformAttnProgram implements GPGPUProgram {
  variableNames: string[];
  outputShape: number[];
  userCode: string;
  enableShapeUniforms = true;
  customUniforms = MS_DEFORM_UNIFORMS;

  constructor(outputShape: number[], hasValue: boolean) {
    this.outputShape = outputShape;
    this.variableNames = [...(hasValue ? ['Value'] : []), 'SpatialShapes', 'LevelStartIndex', 'SamplingLocations',
      'AttentionWeights'];
    this.userCode = `
      ${MS_DEFORM_SAMPLE}
      ${valueAccess(hasValue)}
      float msdaWeight(int j) {
        return getAttentionWeights(j);
      }
      ${FORWARD_MAIN}
    `;
  }
}

const SAMPLE_GRAD_MAIN = `
  void main() {
    ivec2 o = getOutputCoords();
    int j = o[0];
    int bqm = j / (levels * points);
    int b = bqm / (queries * heads), m = bqm % heads;
    ivec3 level = msdaLevel((j / points) % levels);
    MsdaSample s = msdaSample(j, level);
    if (!s.finite) {
      setOutput(NAN);
      return;
    }
    float a = msdaWeight(j);
    vec2 h = vec2(1.0) - s.frac;
    // d(corner weight)/d(pixel x) and /d(pixel y), nw ne sw se.
    vec4 wx = vec4(-h.y, h.y, -s.frac.y, s.frac.y);
    vec4 wy = vec4(-h.x, -s.frac.x, h.x, s.frac.x);
    float dw = 0.0, gx = 0.0, gy = 0.0;
    for (int c = 0; c < channels; c++) {
      float d = msdaDy(bqm, c);
      float ad = a * d;
      float v = 0.0, vx = 0.0, vy = 0.0;
      for (int k = 0; k < 4; k++) {
        if (s.rows[k] >= 0) {
          float u = msdaValue(b, s.rows[k], m, c);
          v += s.weights[k] * u;
          vx += wx[k] * u;
          vy += wy[k] * u;
        }
      }
      dw += d * v;
      gx += ad * vx;
      gy += ad * vy;
    }
    float dLocation = o[1] == 0 ? gx * float(level.y) : gy * float(level.x);
    setOutput(gradOfAttention != 0 ? dw : dLocation);
  }
`;

/**
 * dSamplingLocations [N, 2] (uniform gradOfAttention 0) or
 * dAttentionWeights [N, 1] (1), one shader, from Dy [B Q M, C], [Value,]
 * SpatialShapes, LevelStartIndex, SamplingLocations [N, 2],
 * AttentionWeights [N]: a loop over the channels per value.
 */
export class MsDeformAttnSampleGradProgram implements GPGPUProgram {
  variableNames: string[];
  outputShape: number[];
  userCode: string;
  enableShapeUniforms = true;
  customUniforms = MS_DEFORM_UNIFORMS;

  constructor(outputShape: number[], hasValue: boolean) {
    this.outputShape = outputShape;
    this.variableNames = ['Dy', ...(hasValue ? ['Value'] : []), 'SpatialShapes', 'LevelStartIndex',
      'SamplingLocations', 'AttentionWeights'];
    this.userCode = `
      ${MS_DEFORM_SAMPLE}
      ${valueAccess(hasValue)}
      float msdaWeight(int j) {
        return getAttentionWeights(j);
      }
      float msdaDy(int bqm, int c) {
        return getDy(bqm, c);
      }
      ${SAMPLE_GRAD_MAIN}
    `;
  }
}

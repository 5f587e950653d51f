/**
 * GLSL programs of multi-scale deformable attention for the webgl backend
 * (WebGL2), the math of kernels/reference/ms_deform_attn.ts. The forward is
 * two passes: CornerBitsProgram, which corners of each sample read (the
 * costly guards against hostile level tables, once per sample), then
 * MsDeformAttnProgram, a gather of 4 channels per invocation. A sample's
 * location and attention gradients are one gather over its channels; the
 * value gradient (a scatter) is ms_deform_attn_value_grad.ts. All on the
 * sample geometry MS_DEFORM_SAMPLE; shapes are uniforms (MS_DEFORM_FIELDS),
 * so no size recompiles.
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import {MsDeformAttn} from '../../src/kernel_names.ts';
import {floatLiteral, MAX_ATTN_LEVEL_CELLS} from '../constants.ts';
import {MS_DEFORM_FIELDS, msDeformValues} from '../gpu/uniforms.ts';
import type {MsDeformAttnGeometry} from '../reference/ms_deform_attn.ts';
import {glslUniforms, glslValues} from './uniforms.ts';

export const MS_DEFORM_UNIFORMS = glslUniforms(MS_DEFORM_FIELDS);

export function msDeformUniforms(g: MsDeformAttnGeometry): number[][] {
  return glslValues(MsDeformAttn, MS_DEFORM_FIELDS, msDeformValues(g));
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

/** Bilinear weights of corners nw ne sw se for a position frac past the top-left one. */
const MS_DEFORM_BILINEAR = `
  vec4 msdaBilinear(vec2 frac) {
    vec2 h = vec2(1.0) - frac;
    return vec4(h.y * h.x, h.y * frac.x, frac.y * h.x, frac.y * frac.x);
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
  ${MS_DEFORM_BILINEAR}
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

  // Sample j's pixel position on its level: (x W - 0.5, y H - 0.5).
  vec2 msdaPosition(int j, ivec3 level) {
    vec2 xy = msdaLocation(j);
    return vec2(xy.x * float(level.y), xy.y * float(level.x)) - 0.5;
  }

  // Sample j on its level: pixel position, its fraction past the top-left corner, the value rows of the
  // corners nw ne sw se (-1: reads 0) and their bilinear weights.
  MsdaSample msdaSample(int j, ivec3 level) {
    vec2 pos = msdaPosition(j, level);
    if (!msdaIsFinite(pos.x) || !msdaIsFinite(pos.y)) {
      return MsdaSample(false, pos, vec2(0.0), ivec4(-1), vec4(0.0));
    }
    vec2 f = floor(pos);
    int x0 = msdaFloor(f.x), y0 = msdaFloor(f.y);
    ivec4 rows = ivec4(-1);
    if (msdaLevelUsable(level)) {
      rows = ivec4(msdaCornerRow(y0, x0, level), msdaCornerRow(y0, x0 + 1, level),
          msdaCornerRow(y0 + 1, x0, level), msdaCornerRow(y0 + 1, x0 + 1, level));
    }
    return MsdaSample(true, pos, pos - f, rows, msdaBilinear(pos - f));
  }
`;

/** Value [B, S, M, C] access; without the input (S = 0) no corner reads. */
function valueAccess(hasValue: boolean) {
  return `
  float msdaValue(int b, int row, int m, int c) {
    return ${hasValue ? 'getValue(b, row, m, c)' : '0.0'};
  }`;
}

/** Marks a non-finite location in the corner bits (it has no corner bit). */
const NON_FINITE = 16;
/** Samples per row of the CornerBits texture, 2-D so that its reads need no division. */
const BITS_ROW = 512;

const SAMPLE_COUNT = `
  int msdaSampleCount() {
    return batch * queries * heads * levels * points;
  }
`;

const CORNER_BITS = `
  // Which corners of sample j read (bit k for nw ne sw se), or ${NON_FINITE} for a non-finite location.
  int msdaCornerBits(int j) {
    MsdaSample s = msdaSample(j, msdaLevel((j / points) % levels));
    int bits = s.finite ? 0 : ${NON_FINITE};
    for (int k = 0; k < 4; k++) {
      if (s.rows[k] >= 0) bits |= 1 << uint(k);
    }
    return bits;
  }

  void main() {
    int j = msdaBitsSample(getOutputCoords());
    setOutput(j < msdaSampleCount() ? float(msdaCornerBits(j)) : 0.0);
  }
`;

/**
 * CornerBits [ceil(N / BITS_ROW), BITS_ROW] from SpatialShapes, LevelStartIndex, SamplingLocations [N, 2]: the
 * part of the sample geometry that guards reads against hostile level tables, once per sample.
 */
export class CornerBitsProgram implements GPGPUProgram {
  variableNames = ['SpatialShapes', 'LevelStartIndex', 'SamplingLocations'];
  outputShape: number[];
  userCode = `
    ${MS_DEFORM_SAMPLE}
    int msdaBitsSample(ivec2 o) {
      return o[0] * ${BITS_ROW} + o[1];
    }
    ${SAMPLE_COUNT}
    ${CORNER_BITS}
  `;
  enableShapeUniforms = true;
  customUniforms = MS_DEFORM_UNIFORMS;

  constructor(samples: number) {
    this.outputShape = [Math.ceil(samples / BITS_ROW), BITS_ROW];
  }
}

const FORWARD_GATHER = `
  // w times the values of channels c..c+3 of corner k at row where bit k of bits is set, else 0; the read
  // is unconditional (of row 0 where the corner does not read): cheaper than a branch.
  vec4 msdaCorner(int bits, int k, int row, int b, int m, int c, float w) {
    bool reads = ((bits >> uint(k)) & 1) != 0;
    vec4 u = msdaValues(b, reads ? row : 0, m, c);
    return reads ? w * u : vec4(0.0);
  }

  void main() {
    ivec2 lanes = msdaLanes();
    if (lanes[0] >= batch * queries * heads) return;
    int b = lanes[0] / (queries * heads), m = lanes[0] % heads, c = lanes[1];
    vec4 sum = vec4(0.0);
    bool nonFinite = false;
    for (int l = 0; l < levels; l++) {
      ivec3 level = msdaLevel(l);
      for (int p = 0; p < points; p++) {
        int j = (lanes[0] * levels + l) * points + p;
        int bits = msdaBits(j);
        nonFinite = nonFinite || bits == ${NON_FINITE};
        vec2 pos = msdaPosition(j, level);
        vec2 corner = floor(pos);
        // Offset y0 W + x0 of the top-left corner in its level: float32-exact where a corner reads.
        int offset = int(corner.y * float(level.y) + corner.x);
        vec4 w = msdaBilinear(pos - corner);
        vec4 v = msdaCorner(bits, 0, level.z + offset, b, m, c, w.x) +
            msdaCorner(bits, 1, level.z + (offset + 1), b, m, c, w.y) +
            msdaCorner(bits, 2, level.z + (offset + level.y), b, m, c, w.z) +
            msdaCorner(bits, 3, level.z + (offset + level.y + 1), b, m, c, w.w);
        sum += msdaWeight(j) * v;
      }
    }
    // NaN explicitly: GPU arithmetic on NaN is not guaranteed to give NaN.
    msdaSetLanes(lanes, nonFinite ? vec4(NAN) : sum);
  }
`;

/**
 * Packed out [B Q M, C / k, k] from [Value,] SpatialShapes, LevelStartIndex, SamplingLocations [N, 2],
 * AttentionWeights [N], CornerBits (CornerBitsProgram's): each invocation sums its L P samples for the
 * channels of one texel, 4 t..4 t+3 of a query row (k = 2, C even) or 2 t, 2 t + 1 (k = 1), so each
 * sample's geometry serves several outputs.
 */
export class MsDeformAttnProgram implements GPGPUProgram {
  variableNames: string[];
  outputShape: number[];
  userCode: string;
  enableShapeUniforms = true;
  packedOutput = true;
  customUniforms = MS_DEFORM_UNIFORMS;

  constructor(g: MsDeformAttnGeometry, hasValue: boolean) {
    const pairs = g.channels % 2 === 0;
    this.outputShape = [g.batch * g.queries * g.heads, pairs ? g.channels / 2 : g.channels, pairs ? 2 : 1];
    this.variableNames = [...(hasValue ? ['Value'] : []), 'SpatialShapes', 'LevelStartIndex', 'SamplingLocations',
      'AttentionWeights', 'CornerBits'];
    const read = (lane: number) => hasValue ? `getValue(b, row, m, min(c + ${lane}, channels - 1))` : '0.0';
    this.userCode = `
      ${MS_DEFORM_SAMPLE}
      float msdaWeight(int j) {
        return getAttentionWeights(j);
      }
      int msdaBits(int j) {
        return int(getCornerBits(j / ${BITS_ROW}, j % ${BITS_ROW}));
      }
      vec4 msdaValues(int b, int row, int m, int c) {
        return vec4(${read(0)}, ${read(1)}, ${read(2)}, ${read(3)});
      }
      // Query row and first channel of this texel.
      ivec2 msdaLanes() {
        ivec3 o = getOutputCoords();
        return ivec2(o[0], o[1] * ${pairs ? 2 : 1});
      }
      void msdaSetLanes(ivec2 lanes, vec4 v) {
        setOutput(${pairs ? 'v' : 'vec4(v.x, 0.0, v.y, 0.0)'});
      }
      ${FORWARD_GATHER}
    `;
  }
}

const SAMPLE_GRAD_MAIN = `
  void main() {
    int j = msdaGradSample();
    if (j >= msdaSampleCount()) return;
    int bqm = j / (levels * points);
    int b = bqm / (queries * heads), m = bqm % heads;
    ivec3 level = msdaLevel((j / points) % levels);
    MsdaSample s = msdaSample(j, level);
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
        // A corner that does not read adds 0 (its weights are finite): no branch.
        bool reads = s.rows[k] >= 0;
        float u = msdaValue(b, reads ? s.rows[k] : 0, m, c);
        u = reads ? u : 0.0;
        v += s.weights[k] * u;
        vx += wx[k] * u;
        vy += wy[k] * u;
      }
      dw += d * v;
      gx += ad * vx;
      gy += ad * vy;
    }
    // NaN explicitly: GPU arithmetic on NaN is not guaranteed to give NaN.
    msdaSetGrads(s.finite ? vec3(gx * float(level.y), gy * float(level.x), dw) : vec3(NAN));
  }
`;

/**
 * Per sample j of N: (dSamplingLocations x, y, dAttentionWeights) as packed [N, 2, 2] (texel j), from Dy
 * [B Q M, C], [Value,] SpatialShapes, LevelStartIndex, SamplingLocations [N, 2], AttentionWeights [N]: a
 * loop over the channels per sample.
 */
export class MsDeformAttnSampleGradProgram implements GPGPUProgram {
  variableNames: string[];
  outputShape: number[];
  userCode: string;
  enableShapeUniforms = true;
  packedOutput = true;
  customUniforms = MS_DEFORM_UNIFORMS;

  constructor(samples: number, hasValue: boolean) {
    this.outputShape = [samples, 2, 2];
    this.variableNames = ['Dy', ...(hasValue ? ['Value'] : []), 'SpatialShapes', 'LevelStartIndex',
      'SamplingLocations', 'AttentionWeights'];
    this.userCode = `
      ${MS_DEFORM_SAMPLE}
      ${valueAccess(hasValue)}
      ${SAMPLE_COUNT}
      float msdaWeight(int j) {
        return getAttentionWeights(j);
      }
      float msdaDy(int bqm, int c) {
        return getDy(bqm, c);
      }
      int msdaGradSample() {
        return getOutputCoords()[0];
      }
      void msdaSetGrads(vec3 grads) {
        setOutput(vec4(grads, 0.0));
      }
      ${SAMPLE_GRAD_MAIN}
    `;
  }
}

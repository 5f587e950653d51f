/**
 * WGSL programs of multi-scale deformable attention for the webgpu backend,
 * the translation of kernels/webgl/ms_deform_attn_gpu.ts (token-equivalent,
 * test/shader_pairs.spec.ts): the forward as the corner bits of each sample,
 * then a gather of 4 channels per invocation; the location and attention
 * gradients of a sample as one gather over its channels; the value gradient
 * is ms_deform_attn_value_grad.ts, on the same MS_DEFORM_SAMPLE. Inputs are
 * flat buffers read by index; shapes are uniforms.
 */
import {webgpu_util} from '@tensorflow/tfjs-backend-webgpu';
import type {WebGPUProgram} from '@tensorflow/tfjs-backend-webgpu';
import {MsDeformAttn} from '../../src/kernel_names.ts';
import {floatLiteral, MAX_ATTN_LEVEL_CELLS} from '../constants.ts';
import {MS_DEFORM_FIELDS, msDeformValues} from '../gpu/uniforms.ts';
import type {MsDeformAttnGeometry} from '../reference/ms_deform_attn.ts';
import {ProgramUniforms, wgslUniforms, wgslValues} from './uniforms.ts';

export const MS_DEFORM_UNIFORMS = wgslUniforms(MS_DEFORM_FIELDS);

export function msDeformUniforms(g: MsDeformAttnGeometry): ProgramUniforms {
  return wgslValues(MsDeformAttn, MS_DEFORM_FIELDS, msDeformValues(g));
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

/** Bilinear weights of corners nw ne sw se for a position frac past the top-left one. */
const MS_DEFORM_BILINEAR = `
  fn msdaBilinear(frac : vec2<f32>) -> vec4<f32> {
    let h = vec2<f32>(1.0) - frac;
    return vec4<f32>(h.y * h.x, h.y * frac.x, frac.y * h.x, frac.y * frac.x);
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
  ${MS_DEFORM_BILINEAR}
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

  // Sample j's pixel position on its level: (x W - 0.5, y H - 0.5).
  fn msdaPosition(j : i32, level : vec3<i32>) -> vec2<f32> {
    let xy = msdaLocation(j);
    return vec2<f32>(xy.x * f32(level.y), xy.y * f32(level.x)) - 0.5;
  }

  // Sample j on its level: pixel position, its fraction past the top-left corner, the value rows of the
  // corners nw ne sw se (-1: reads 0) and their bilinear weights.
  fn msdaSample(j : i32, level : vec3<i32>) -> MsdaSample {
    let pos = msdaPosition(j, level);
    if (!msdaIsFinite(pos.x) || !msdaIsFinite(pos.y)) {
      return MsdaSample(false, pos, vec2<f32>(0.0), vec4<i32>(-1), vec4<f32>(0.0));
    }
    let f = floor(pos);
    let x0 = msdaFloor(f.x);
    let y0 = msdaFloor(f.y);
    var rows = vec4<i32>(-1);
    if (msdaLevelUsable(level)) {
      rows = vec4<i32>(msdaCornerRow(y0, x0, level), msdaCornerRow(y0, x0 + 1, level),
          msdaCornerRow(y0 + 1, x0, level), msdaCornerRow(y0 + 1, x0 + 1, level));
    }
    return MsdaSample(true, pos, pos - f, rows, msdaBilinear(pos - f));
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

/** Marks a non-finite location in the corner bits (it has no corner bit). */
const NON_FINITE = 16;

const SAMPLE_COUNT = `
  fn msdaSampleCount() -> i32 {
    return uniforms.batch * uniforms.queries * uniforms.heads * uniforms.levels * uniforms.points;
  }
`;

const CORNER_BITS = `
  // Which corners of sample j read (bit k for nw ne sw se), or ${NON_FINITE} for a non-finite location.
  fn msdaCornerBits(j : i32) -> i32 {
    let s = msdaSample(j, msdaLevel((j / uniforms.points) % uniforms.levels));
    var bits = select(${NON_FINITE}, 0, s.finite);
    for (var k = 0; k < 4; k++) {
      if (s.rows[k] >= 0) { bits |= 1 << u32(k); }
    }
    return bits;
  }

  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    let j = msdaBitsSample(getCoordsFromIndex(index));
    setOutputAtIndex(index, select(0.0, f32(msdaCornerBits(j)), j < msdaSampleCount()));
  }
`;

const FORWARD_GATHER = `
  // w times the values of channels c..c+3 of corner k at row where bit k of bits is set, else 0; the read
  // is unconditional (of row 0 where the corner does not read): cheaper than a branch.
  fn msdaCorner(bits : i32, k : i32, row : i32, b : i32, m : i32, c : i32, w : f32) -> vec4<f32> {
    let reads = ((bits >> u32(k)) & 1) != 0;
    let u = msdaValues(b, select(0, row, reads), m, c);
    return select(vec4<f32>(0.0), w * u, reads);
  }

  fn main(index : i32) {
    let lanes = msdaLanes();
    if (lanes[0] >= uniforms.batch * uniforms.queries * uniforms.heads) { return; }
    let b = lanes[0] / (uniforms.queries * uniforms.heads);
    let m = lanes[0] % uniforms.heads;
    let c = lanes[1];
    var sum = vec4<f32>(0.0);
    var nonFinite = false;
    for (var l = 0; l < uniforms.levels; l++) {
      let level = msdaLevel(l);
      for (var p = 0; p < uniforms.points; p++) {
        let j = (lanes[0] * uniforms.levels + l) * uniforms.points + p;
        let bits = msdaBits(j);
        nonFinite = nonFinite || bits == ${NON_FINITE};
        let pos = msdaPosition(j, level);
        let corner = floor(pos);
        // Offset y0 W + x0 of the top-left corner in its level: float32-exact where a corner reads.
        let offset = i32(corner.y * f32(level.y) + corner.x);
        let w = msdaBilinear(pos - corner);
        let v = msdaCorner(bits, 0, level.z + offset, b, m, c, w.x) +
            msdaCorner(bits, 1, level.z + (offset + 1), b, m, c, w.y) +
            msdaCorner(bits, 2, level.z + (offset + level.y), b, m, c, w.z) +
            msdaCorner(bits, 3, level.z + (offset + level.y + 1), b, m, c, w.w);
        sum += msdaWeight(j) * v;
      }
    }
    // NaN explicitly: GPU arithmetic on NaN is not guaranteed to give NaN.
    msdaSetLanes(lanes, select(sum, vec4<f32>(uniforms.NAN), nonFinite));
  }
`;

const SAMPLE_GRAD_MAIN = `
  fn main(index : i32) {
    let j = msdaGradSample();
    if (j >= msdaSampleCount()) { return; }
    let bqm = j / (uniforms.levels * uniforms.points);
    let b = bqm / (uniforms.queries * uniforms.heads);
    let m = bqm % uniforms.heads;
    let level = msdaLevel((j / uniforms.points) % uniforms.levels);
    let s = msdaSample(j, level);
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
        // A corner that does not read adds 0 (its weights are finite): no branch.
        let reads = s.rows[k] >= 0;
        var u = msdaValue(b, select(0, s.rows[k], reads), m, c);
        u = select(0.0, u, reads);
        v += s.weights[k] * u;
        vx += wx[k] * u;
        vy += wy[k] * u;
      }
      dw += d * v;
      gx += ad * vx;
      gy += ad * vy;
    }
    // NaN explicitly: GPU arithmetic on NaN is not guaranteed to give NaN.
    msdaSetGrads(select(vec3<f32>(uniforms.NAN), vec3<f32>(gx * f32(level.y), gy * f32(level.x), dw), s.finite));
  }
`;

abstract class MsDeformProgram implements WebGPUProgram {
  abstract shaderKey: string;
  abstract variableNames: string[];
  uniforms = MS_DEFORM_UNIFORMS;
  outputShape: number[];
  dispatchLayout: {x: number[]};
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;

  /** threads: the invocations, the output's size unless given. */
  constructor(outputShape: number[], threads = outputShape) {
    this.outputShape = outputShape;
    this.dispatchLayout = webgpu_util.flatDispatchLayout(threads);
    this.dispatch = webgpu_util.computeDispatch(this.dispatchLayout, threads, this.workgroupSize);
  }

  abstract getUserCode(): string;
}

/** CornerBits [N] from SpatialShapes, LevelStartIndex, SamplingLocations: see CORNER_BITS. */
export class CornerBitsProgram extends MsDeformProgram {
  shaderKey = 'tfjsVisionOps_msDeformAttnCornerBits';
  variableNames = ['SpatialShapes', 'LevelStartIndex', 'SamplingLocations'];

  constructor(samples: number) {
    super([samples]);
  }

  getUserCode() {
    return `
      ${MS_DEFORM_SAMPLE}
      fn msdaBitsSample(o : i32) -> i32 {
        return o;
      }
      ${SAMPLE_COUNT}
      ${CORNER_BITS}
    `;
  }
}

/**
 * out [B, Q, M, C] from [Value,] SpatialShapes, LevelStartIndex, SamplingLocations, AttentionWeights,
 * CornerBits (CornerBitsProgram's): each invocation sums its L P samples for 4 channels, so each sample's
 * geometry serves 4 outputs.
 */
export class MsDeformAttnProgram extends MsDeformProgram {
  shaderKey: string;
  variableNames: string[];

  constructor(g: MsDeformAttnGeometry, readonly hasValue: boolean) {
    super([g.batch, g.queries, g.heads, g.channels], [g.batch * g.queries * g.heads * Math.ceil(g.channels / 4)]);
    this.variableNames = [...(hasValue ? ['Value'] : []), 'SpatialShapes', 'LevelStartIndex', 'SamplingLocations',
      'AttentionWeights', 'CornerBits'];
    this.shaderKey = `tfjsVisionOps_msDeformAttn_${hasValue}`;
  }

  getUserCode() {
    const read = 'Value[((b * uniforms.spatialSize + row) * uniforms.heads + m) * uniforms.channels + ' +
        'min(c + k, uniforms.channels - 1)]';
    return `
      ${MS_DEFORM_SAMPLE}
      fn msdaWeight(j : i32) -> f32 {
        return AttentionWeights[j];
      }
      fn msdaBits(j : i32) -> i32 {
        return i32(CornerBits[j]);
      }
      fn msdaValues(b : i32, row : i32, m : i32, c : i32) -> vec4<f32> {
        var u = vec4<f32>(0.0);
        for (var k = 0; k < 4; k++) {
          u[k] = ${this.hasValue ? read : '0.0'};
        }
        return u;
      }
      // Query row and first channel of this invocation.
      fn msdaLanes() -> vec2<i32> {
        let groups = (uniforms.channels + 3) / 4;
        let index = getGlobalIndex();
        return vec2<i32>(index / groups, index % groups * 4);
      }
      fn msdaSetLanes(lanes : vec2<i32>, v : vec4<f32>) {
        for (var k = 0; k < 4; k++) {
          if (lanes[1] + k < uniforms.channels) {
            setOutputAtIndex(lanes[0] * uniforms.channels + lanes[1] + k, v[k]);
          }
        }
      }
      ${FORWARD_GATHER}
    `;
  }
}

/**
 * Per sample j of N: (dSamplingLocations x, y, dAttentionWeights) as [N, 3], from Dy, [Value,]
 * SpatialShapes, LevelStartIndex, SamplingLocations, AttentionWeights: a loop over the channels per sample.
 */
export class MsDeformAttnSampleGradProgram extends MsDeformProgram {
  shaderKey: string;
  variableNames: string[];

  constructor(samples: number, readonly hasValue: boolean) {
    super([samples, 3], [samples]);
    this.variableNames = ['Dy', ...(hasValue ? ['Value'] : []), 'SpatialShapes', 'LevelStartIndex',
      'SamplingLocations', 'AttentionWeights'];
    this.shaderKey = `tfjsVisionOps_msDeformAttnSampleGrad_${hasValue}`;
  }

  getUserCode() {
    return `
      ${MS_DEFORM_SAMPLE}
      ${valueAccess(this.hasValue)}
      ${SAMPLE_COUNT}
      fn msdaWeight(j : i32) -> f32 {
        return AttentionWeights[j];
      }
      fn msdaDy(bqm : i32, c : i32) -> f32 {
        return Dy[bqm * uniforms.channels + c];
      }
      fn msdaGradSample() -> i32 {
        return getGlobalIndex();
      }
      fn msdaSetGrads(grads : vec3<f32>) {
        let j = getGlobalIndex();
        for (var k = 0; k < 3; k++) {
          setOutputAtIndex(3 * j + k, grads[k]);
        }
      }
      ${SAMPLE_GRAD_MAIN}
    `;
  }
}

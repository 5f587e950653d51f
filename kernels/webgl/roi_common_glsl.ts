/**
 * GLSL (WebGL2) shared by the RoI programs of the webgl backend
 * (roi_align_gpu.ts, roi_pool_gpu.ts, ps_roi_gpu.ts; WGSL twin:
 * kernels/webgpu/roi_common_wgsl.ts): the uniforms and per-axis geometry of
 * roi_align and roi_pool, the program base class, and the pieces of main()
 * that the ops have in common. Shapes, sizes and every attribute are
 * uniforms: a new box count or map size does not recompile a shader.
 */
import {TensorInfo} from '@tensorflow/tfjs-core';
import type {GPGPUProgram, MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {floatLiteral, MAX_ADAPTIVE_GRID, MAX_ROUNDED_COORD} from '../constants.ts';
import {UniformFields, UniformValues} from '../gpu/uniforms.ts';
import {glslUniforms, glslValues} from './uniforms.ts';

export const ROI_ALIGN_GEOMETRY = `
  bool roiIsFinite(float v) {
    return (floatBitsToUint(v) & 0x7f800000u) != 0x7f800000u;
  }

  // One axis of one RoI: (start, bin size, samples per bin); no samples: grid 0.
  vec3 roiAxis(float c1, float c2, int pooled) {
    float offset = aligned == 1 ? 0.5 : 0.0;
    float start = c1 * spatialScale - offset;
    float size = (c2 * spatialScale - offset) - start;
    if (aligned == 0 && size < 1.0) size = 1.0;
    float bin = size / float(pooled);
    float grid = float(samplingRatio);
    if (samplingRatio <= 0) {
      float g = ceil(bin);
      grid = g > 0.0 ? min(g, ${floatLiteral(MAX_ADAPTIVE_GRID)}) : 0.0;
    }
    if (!roiIsFinite(start) || !roiIsFinite(bin)) grid = 0.0;
    return vec3(start, bin, grid);
  }

  bool roiBatchValid(float b) {
    return roiIsFinite(b) && b > -1.0 && b < float(batch);
  }

  // Sample i of bin p, in torchvision's order of float operations.
  float roiSample(vec3 axis, int p, int i) {
    return (axis.x + float(p) * axis.y) + (float(i) + 0.5) * axis.y / axis.z;
  }

  // Sample indices of bin p that can land in [lo, hi], one extra on each side.
  ivec2 roiSampleRange(vec3 axis, int p, float lo, float hi) {
    float base = axis.x + float(p) * axis.y;
    float bin = axis.y, grid = axis.z;
    if (!(grid > 0.0) || !roiIsFinite(base)) return ivec2(0, -1);
    if (bin == 0.0) return base >= lo && base <= hi ? ivec2(0, int(grid) - 1) : ivec2(0, -1);
    float t1 = (lo - base) / bin * grid - 0.5;
    float t2 = (hi - base) / bin * grid - 0.5;
    float first = clamp(floor(min(t1, t2)) - 1.0, 0.0, grid);
    float last = clamp(ceil(max(t1, t2)) + 1.0, -1.0, grid - 1.0);
    return ivec2(int(first), int(last));
  }

  // Bilinear taps of an in-range sample y of an axis of size pixels: (low, high, weight of high).
  vec3 roiTaps(float y, int size) {
    y = max(y, 0.0);
    int low = int(y);
    int high = low + 1;
    if (low >= size - 1) {
      low = high = size - 1;
      y = float(low);
    }
    return vec3(float(low), float(high), y - float(low));
  }

  // Summed bilinear weight of pixel row (or column) 'pixel' over the samples of bin p
  // that can land in [lo, hi].
  float roiTapWeight(vec3 axis, int p, int pixel, int size, float lo, float hi) {
    ivec2 r = roiSampleRange(axis, p, lo, hi);
    float fsize = float(size);
    float w = 0.0;
    for (int i = r.x; i <= r.y; i++) {
      float y = roiSample(axis, p, i);
      if (!(y >= -1.0 && y <= fsize)) continue;
      vec3 t = roiTaps(y, size);
      if (int(t.x) == pixel) w += 1.0 - t.z;
      if (int(t.y) == pixel) w += t.z;
    }
    return w;
  }
`;

export const ROI_POOL_GEOMETRY = `
  bool roiIsNaN(float v) {
    return (floatBitsToUint(v) & 0x7fffffffu) > 0x7f800000u;
  }

  bool roiBatchValid(float b) {
    return !roiIsNaN(b) && b > -1.0 && b < float(batch);
  }

  // C's round() (half away from zero) of the scaled corner, clamped to +-2^24.
  float roiRound(float c) {
    float v = c * spatialScale;
    float a = abs(v);
    float r = floor(a);
    if (a - r >= 0.5) r += 1.0;
    return clamp(v < 0.0 ? -r : r, -${floatLiteral(MAX_ROUNDED_COORD)}, ${floatLiteral(MAX_ROUNDED_COORD)});
  }

  // One axis of one RoI: (start, bin size), roi = end - start + plusOne (roi_pool: 1,
  // ps_roi_pool: 0); NaN corners give an empty axis (bin 0, start -2^25).
  vec2 poolAxis(float c1, float c2, int pooled, float plusOne) {
    if (roiIsNaN(c1) || roiIsNaN(c2)) return vec2(-33554432.0, 0.0);
    float start = roiRound(c1);
    float end = roiRound(c2);
    return vec2(start, max(end - start + plusOne, 1.0) / float(pooled));
  }

  // Rows (or columns) [lo, hi) of bin p.
  ivec2 poolBin(vec2 axis, int p, int size) {
    float fsize = float(size);
    float lo = clamp(floor(float(p) * axis.y) + axis.x, 0.0, fsize);
    float hi = clamp(ceil(float(p + 1) * axis.y) + axis.x, 0.0, fsize);
    return ivec2(int(lo), int(hi));
  }
`;

/** One invocation per output value, all shapes as uniforms: the block `fields` (kernels/gpu/uniforms.ts). */
export abstract class RoiProgram implements GPGPUProgram {
  abstract variableNames: string[];
  abstract fields: UniformFields;
  abstract userCode: string;
  outputShape: number[];
  enableShapeUniforms = true;

  constructor(outputShape: number[]) {
    this.outputShape = outputShape;
  }

  get customUniforms() {
    return glslUniforms(this.fields);
  }
}

/** Runs an RoI program with its uniforms valued by name from `values`. */
export function runRoiProgram(
    webgl: MathBackendWebGL, kernelName: string, program: RoiProgram, inputs: TensorInfo[],
    values: UniformValues): TensorInfo {
  return webgl.runWebGLProgram(program, inputs, 'float32', glslValues(kernelName, program.fields, values));
}

/**
 * main() of a forward program, one output value (k, ph, pw, coords[3]) per
 * invocation: `body` runs with k, ph, pw, the input channel c = `channel` and
 * RoI k's batch index b in scope, and ends with setOutput.
 */
export function forwardMain(channel: string, body: string): string {
  return `
    void main() {
      ivec4 coords = getOutputCoords();
      int k = coords[0], ph = coords[1], pw = coords[2];
      int c = ${channel};
      float b = getBoxes(k, 0);
      ${body}
    }
  `;
}

/**
 * main() of a backward gather, one dx value (n, h, w, c) per invocation: after
 * `prelude`, sums over the RoIs k of image n the statements `perRoi`, which add
 * to `sum` (or `continue`).
 */
export function gatherMain(prelude: string, perRoi: string): string {
  return `
    void main() {
      ivec4 coords = getOutputCoords();
      int n = coords[0], h = coords[1], w = coords[2], c = coords[3];
      ${prelude}
      float sum = 0.0;
      for (int k = 0; k < numBoxes; k++) {
        float b = getBoxes(k, 0);
        if (!roiBatchValid(b) || int(b) != n) continue;
        ${perRoi}
      }
      setOutput(sum);
    }
  `;
}

/** Position-sensitive ops: the input channel of output channel coords[3] at bin (ph, pw). */
export const PS_INPUT_CHANNEL = '(coords[3] * pooledHeight + ph) * pooledWidth + pw';

/** Position-sensitive ops, backward: the one bin (ph, pw) and output channel cout that input channel c feeds. */
export const PS_BIN_OF_CHANNEL = `
      int pw = c % pooledWidth;
      int ph = (c / pooledWidth) % pooledHeight;
      int cout = c / (pooledWidth * pooledHeight);`;

/** roi_align: RoI k's row (ay) and column (ax) axes, see roiAxis. */
const ROI_ALIGN_AXES = `
      vec3 ay = roiAxis(getBoxes(k, 2), getBoxes(k, 4), pooledHeight);
      vec3 ax = roiAxis(getBoxes(k, 1), getBoxes(k, 3), pooledWidth);`;

/** roi_align forward body (see forwardMain): the mean of the bilinear samples of bin (ph, pw) in channel c. */
export const ROI_ALIGN_BIN_MEAN = `
      ${ROI_ALIGN_AXES}
      float result = 0.0;
      if (roiBatchValid(b) && ay.z > 0.0 && ax.z > 0.0) {
        int n = int(b);
        float fh = float(height), fw = float(width);
        ivec2 ry = roiSampleRange(ay, ph, -1.0, fh);
        ivec2 rx = roiSampleRange(ax, pw, -1.0, fw);
        float sum = 0.0;
        for (int iy = ry.x; iy <= ry.y; iy++) {
          float y = roiSample(ay, ph, iy);
          if (!(y >= -1.0 && y <= fh)) continue;
          vec3 ty = roiTaps(y, height);
          int y0 = int(ty.x), y1 = int(ty.y);
          for (int ix = rx.x; ix <= rx.y; ix++) {
            float x = roiSample(ax, pw, ix);
            if (!(x >= -1.0 && x <= fw)) continue;
            vec3 tx = roiTaps(x, width);
            int x0 = int(tx.x), x1 = int(tx.y);
            float hy = 1.0 - ty.z, hx = 1.0 - tx.z;
            sum += hy * hx * getX(n, y0, x0, c) + hy * tx.z * getX(n, y0, x1, c) +
                ty.z * hx * getX(n, y1, x0, c) + ty.z * tx.z * getX(n, y1, x1, c);
          }
        }
        result = sum / (ay.z * ax.z);
      }
      setOutput(result);`;

/**
 * roi_align backward prelude (see gatherMain): the sample positions that can
 * reach pixel (h, w), rows [rowLo, rowHi] and columns [colLo, colHi].
 */
export const ROI_ALIGN_REACH = `
      float fh = float(h), fw = float(w);
      // A sample reaches row h from (h - 1, h + 1); clamped ones from [-1, 0] and (H - 1, H].
      float rowLo = max(fh - 1.0, -1.0), rowHi = min(fh + 1.0, float(height));
      float colLo = max(fw - 1.0, -1.0), colHi = min(fw + 1.0, float(width));`;

/** roi_align backward, the start of perRoi (see gatherMain): RoI k's axes ay, ax; an RoI without samples is skipped. */
export const ROI_ALIGN_GATHER_AXES = `
      ${ROI_ALIGN_AXES}
      if (!(ay.z > 0.0 && ax.z > 0.0)) continue;`;

/**
 * roi_pool forward body, start (see forwardMain): rows and cols [lo, hi) of bin
 * (ph, pw) of RoI k, both empty for an invalid batch index; the RoI spans
 * end - start + `plusOne` and its bins are clipped to the map less `clip`
 * pixels (roi_pool: '1.0', 0; ps_roi_pool forward: '0.0', 1).
 */
export function poolRoiBins(plusOne: '1.0'|'0.0', clip: 0|1): string {
  const less = clip === 1 ? ' - 1' : '';
  return `
      ivec2 rows = ivec2(0);
      ivec2 cols = ivec2(0);
      if (roiBatchValid(b)) {
        rows = poolBin(poolAxis(getBoxes(k, 2), getBoxes(k, 4), pooledHeight, ${plusOne}), ph, height${less});
        cols = poolBin(poolAxis(getBoxes(k, 1), getBoxes(k, 3), pooledWidth, ${plusOne}), pw, width${less});
      }`;
}

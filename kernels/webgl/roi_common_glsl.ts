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

/**
 * A backward gather: dx [N, H, W, C] in packed texels, each the block of
 * columns w, w + 1 and channels c, c + 1 that one invocation sums (see gatherMain).
 */
export abstract class RoiGatherProgram extends RoiProgram {
  packedOutput = true;
}

/**
 * A backward gather over roi_align's samples: it reads the weight tables or,
 * where a table would be too large, Boxes [K, 5]; `code` is the rest of the
 * program (the terms and gatherMain).
 */
export abstract class RoiAlignGatherProgram extends RoiGatherProgram {
  variableNames: string[];
  userCode: string;

  constructor(outputShape: number[], weightTables: boolean, code: string) {
    super(outputShape);
    this.variableNames = weightTables ? ['Dy', 'TileBoxes', 'RowWeights', 'ColWeights'] : ['Dy', 'Boxes', 'TileBoxes'];
    this.userCode = `
      ${weightTables ? '' : ROI_ALIGN_GEOMETRY}
      ${roiAlignWeights(weightTables)}
      ${code}
    `;
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
 * main() of a backward gather (RoiGatherProgram), one block of dx per
 * invocation: row h of image n, columns w and w1 = w + 1, channels c and
 * c1 = c + 1 (w1, c1 clamped into the map: a lane past its edge repeats one
 * inside, whose value nothing writes). After `prelude`, roiGatherBlock sums
 * over the RoIs k listed for the block's tile (TileBoxes, roi_tiles_gpu.ts:
 * the count, then the RoIs of image n that reach the tile in increasing k;
 * w and w1 share a tile, whose side is even) the statements `perRoi`, which
 * add to sum = ((w, c), (w, c1), (w1, c), (w1, c1)) or `continue`: each of
 * the block's values is a sum in a fixed order. The channel-independent work
 * of an RoI (its bins and weights) is done once for two channels.
 */
export function gatherMain(prelude: string, perRoi: string): string {
  return `
    vec4 roiGatherBlock(int n, int h, int w, int c) {
      int w1 = min(w + 1, width - 1);
      int c1 = min(c + 1, channels - 1);
      ${prelude}
      vec4 sum = vec4(0.0);
      int tile = (n * tilesY + h / tileSize) * tilesX + w / tileSize;
      int count = int(getTileBoxes(tile, 0));
      for (int i = 1; i <= count; i++) {
        int k = int(getTileBoxes(tile, i));
        ${perRoi}
      }
      return sum;
    }

    void main() {
      ivec4 coords = getOutputCoords();
      setOutput(roiGatherBlock(coords[0], coords[1], coords[2], coords[3]));
    }
  `;
}

/** Bins in either of two ranges [x, y] (an empty one, y < x, adds none). */
export const ROI_BIN_UNION = `
  ivec2 roiBinUnion(ivec2 a, ivec2 b) {
    if (a.y < a.x) return b;
    if (b.y < b.x) return a;
    return ivec2(min(a.x, b.x), max(a.y, b.y));
  }
`;

/** Position-sensitive ops: the input channel of output channel coords[3] at bin (ph, pw). */
export const PS_INPUT_CHANNEL = '(coords[3] * pooledHeight + ph) * pooledWidth + pw';

/** Position-sensitive ops, backward: the one bin (ph, pw) and output channel that input channel c feeds. */
export const PS_BIN_OF_CHANNEL = `
  ivec3 psBinOfChannel(int c) {
    return ivec3((c / pooledWidth) % pooledHeight, c % pooledWidth, c / (pooledWidth * pooledHeight));
  }
`;

/** roi_align: RoI k's row (ay) and column (ax) axes, see roiAxis. */
export const ROI_ALIGN_AXES = `
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
 * roi_align backward: roiRowWeight(k, ph, h) * roiColWeight(k, pw, w) * dy is
 * what bin (ph, pw) of RoI k gives pixel (h, w) (the row weights are over the
 * RoI's sample count); roiRowBins(k, h) and roiColBins(k, w) hold every bin of
 * nonzero weight (last < first: none). Read from the tables RowWeights
 * [K, H, PH + 1] and ColWeights [K, W, PW + 1] (RoiAlignWeightsProgram: a
 * pixel's bin weights, then its first and last bins of nonzero weight as
 * first * (P + 1) + last + 1, exact for P < 2^12), or computed from the boxes
 * (the bins then a range that can reach the pixel, zero weights included).
 */
export function roiAlignWeights(fromTables: boolean): string {
  if (fromTables) {
    return `
      float roiRowWeight(int k, int ph, int h) {
        return getRowWeights(k, h, ph);
      }

      float roiColWeight(int k, int pw, int w) {
        return getColWeights(k, w, pw);
      }

      ivec2 roiRowBins(int k, int h) {
        int bins = int(getRowWeights(k, h, pooledHeight));
        return ivec2(bins / (pooledHeight + 1), bins % (pooledHeight + 1) - 1);
      }

      ivec2 roiColBins(int k, int w) {
        int bins = int(getColWeights(k, w, pooledWidth));
        return ivec2(bins / (pooledWidth + 1), bins % (pooledWidth + 1) - 1);
      }
    `;
  }
  return `
    // The samples that can reach pixel i lie in (i - 1, i + 1); clamped ones in [-1, 0] and (size - 1, size].
    vec2 roiPixelReach(int i, int size) {
      float fi = float(i);
      return vec2(max(fi - 1.0, -1.0), min(fi + 1.0, float(size)));
    }

    // Bins of an axis whose samples can reach pixel i, one extra on each side.
    ivec2 roiBinRange(vec3 axis, int pooled, int i, int size) {
      if (!(axis.z > 0.0)) return ivec2(0, -1);
      vec2 reach = roiPixelReach(i, size);
      float start = axis.x, bin = axis.y;
      if (bin == 0.0) return start >= reach.x && start <= reach.y ? ivec2(0, pooled - 1) : ivec2(0, -1);
      float u1 = (reach.x - start) / bin, u2 = (reach.y - start) / bin;
      float first = clamp(floor(min(u1, u2)) - 1.0, 0.0, float(pooled));
      float last = clamp(ceil(max(u1, u2)) + 1.0, -1.0, float(pooled - 1));
      return ivec2(int(first), int(last));
    }

    // Weight of pixel i in bin p of an axis, see roiTapWeight.
    float roiPixelWeight(vec3 axis, int p, int i, int size) {
      vec2 reach = roiPixelReach(i, size);
      return roiTapWeight(axis, p, i, size, reach.x, reach.y);
    }

    // Weight of pixel row h in bin ph of an RoI of axes ay, ax, over its sample count.
    float roiAxesRowWeight(vec3 ay, vec3 ax, int ph, int h) {
      if (!(ay.z > 0.0 && ax.z > 0.0)) return 0.0;
      return roiPixelWeight(ay, ph, h, height) / (ay.z * ax.z);
    }

    float roiRowWeight(int k, int ph, int h) {
      ${ROI_ALIGN_AXES}
      return roiAxesRowWeight(ay, ax, ph, h);
    }

    float roiColWeight(int k, int pw, int w) {
      return roiPixelWeight(roiAxis(getBoxes(k, 1), getBoxes(k, 3), pooledWidth), pw, w, width);
    }

    ivec2 roiRowBins(int k, int h) {
      ${ROI_ALIGN_AXES}
      return ax.z > 0.0 ? roiBinRange(ay, pooledHeight, h, height) : ivec2(0, -1);
    }

    ivec2 roiColBins(int k, int w) {
      return roiBinRange(roiAxis(getBoxes(k, 1), getBoxes(k, 3), pooledWidth), pooledWidth, w, width);
    }
  `;
}

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

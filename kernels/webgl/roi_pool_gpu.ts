/**
 * GLSL programs of roi_pool for the webgl backend (WebGL2), channelsLast, the
 * math of kernels/reference/roi_pool.ts:
 *  - RoiPoolProgram: per output value, the max of its bin (strictly greater in
 *    row-major order: the first maximum wins; empty bin: 0), or with the
 *    uniform `argmaxOut` set, that maximum's index h * W + w (-1: none);
 *  - RoiPoolGradProgram: a gather. Each dx value sums dy over the bins (of the
 *    RoIs of its image) whose argmax is its pixel.
 * Shapes and attributes are uniforms: no recompilation per box count.
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';

type CustomUniform = NonNullable<GPGPUProgram['customUniforms']>[number];

export const ROI_POOL_UNIFORMS: CustomUniform[] = [
  {name: 'batch', type: 'int'}, {name: 'height', type: 'int'}, {name: 'width', type: 'int'},
  {name: 'numBoxes', type: 'int'}, {name: 'pooledHeight', type: 'int'},
  {name: 'pooledWidth', type: 'int'}, {name: 'spatialScale', type: 'float'},
  {name: 'argmaxOut', type: 'int'},
];

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
    return clamp(v < 0.0 ? -r : r, -16777216.0, 16777216.0);
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

/** out[K, PH, PW, C] (or its argmax) from X [N, H, W, C] and Boxes [K, 5]. */
export class RoiPoolProgram implements GPGPUProgram {
  variableNames = ['X', 'Boxes'];
  outputShape: number[];
  enableShapeUniforms = true;
  customUniforms = ROI_POOL_UNIFORMS;
  userCode = `
    ${ROI_POOL_GEOMETRY}

    void main() {
      ivec4 coords = getOutputCoords();
      int k = coords[0], ph = coords[1], pw = coords[2], c = coords[3];
      float b = getBoxes(k, 0);
      ivec2 rows = ivec2(0);
      ivec2 cols = ivec2(0);
      if (roiBatchValid(b)) {
        rows = poolBin(poolAxis(getBoxes(k, 2), getBoxes(k, 4), pooledHeight, 1.0), ph, height);
        cols = poolBin(poolAxis(getBoxes(k, 1), getBoxes(k, 3), pooledWidth, 1.0), pw, width);
      }
      float best = 0.0;
      float arg = -1.0;
      if (rows.y > rows.x && cols.y > cols.x) {
        int n = int(b);
        best = -3.4028234663852886e38;
        for (int h = rows.x; h < rows.y; h++) {
          for (int w = cols.x; w < cols.y; w++) {
            float v = getX(n, h, w, c);
            if (v > best) {
              best = v;
              arg = float(h * width + w);
            }
          }
        }
      }
      setOutput(argmaxOut == 1 ? arg : best);
    }
  `;

  constructor(outShape: number[]) {
    this.outputShape = outShape;
  }
}

/** dx[N, H, W, C] from Dy and Arg [K, PH, PW, C] and Boxes [K, 5]. */
export class RoiPoolGradProgram implements GPGPUProgram {
  variableNames = ['Dy', 'Arg', 'Boxes'];
  outputShape: number[];
  enableShapeUniforms = true;
  customUniforms = ROI_POOL_UNIFORMS;
  userCode = `
    ${ROI_POOL_GEOMETRY}

    // Bins that can hold pixel row (or column) i: p in (u / bin - 1, (u + 1) / bin), u = i - start.
    ivec2 poolBinRange(vec2 axis, int i, int pooled) {
      float u = float(i) - axis.x;
      if (!(axis.y > 0.0)) return ivec2(0, -1);
      float first = clamp(floor(u / axis.y - 1.0), 0.0, float(pooled));
      float last = clamp(ceil((u + 1.0) / axis.y), -1.0, float(pooled - 1));
      return ivec2(int(first), int(last));
    }

    void main() {
      ivec4 coords = getOutputCoords();
      int n = coords[0], h = coords[1], w = coords[2], c = coords[3];
      float index = float(h * width + w);
      float sum = 0.0;
      for (int k = 0; k < numBoxes; k++) {
        float b = getBoxes(k, 0);
        if (!roiBatchValid(b) || int(b) != n) continue;
        vec2 ay = poolAxis(getBoxes(k, 2), getBoxes(k, 4), pooledHeight, 1.0);
        vec2 ax = poolAxis(getBoxes(k, 1), getBoxes(k, 3), pooledWidth, 1.0);
        ivec2 bh = poolBinRange(ay, h, pooledHeight);
        ivec2 bw = poolBinRange(ax, w, pooledWidth);
        for (int ph = bh.x; ph <= bh.y; ph++) {
          ivec2 rows = poolBin(ay, ph, height);
          if (h < rows.x || h >= rows.y) continue;
          for (int pw = bw.x; pw <= bw.y; pw++) {
            ivec2 cols = poolBin(ax, pw, width);
            if (w < cols.x || w >= cols.y) continue;
            if (getArg(k, ph, pw, c) == index) sum += getDy(k, ph, pw, c);
          }
        }
      }
      setOutput(sum);
    }
  `;

  constructor(xShape: number[]) {
    this.outputShape = xShape;
  }
}

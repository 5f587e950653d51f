/**
 * GLSL programs of roi_align for the webgl backend (WebGL2), channelsLast, the
 * math of kernels/reference/roi_align.ts:
 *  - forward: one output value per invocation, the average of the bilinear
 *    samples of its bin (only the sample indices that can land in [-1, size]
 *    are visited, then each is tested as torchvision does);
 *  - backward: a gather. Each dx value sums, over the RoIs of its image and
 *    the few bins whose samples can reach its pixel, row weight * column
 *    weight * dy / count: no scatter, no atomics, no read-back.
 * Shapes, sizes and every attribute are uniforms: a new box count or map size
 * does not recompile the shader.
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';

type CustomUniform = NonNullable<GPGPUProgram['customUniforms']>[number];

export const ROI_ALIGN_UNIFORMS: CustomUniform[] = [
  {name: 'batch', type: 'int'}, {name: 'height', type: 'int'}, {name: 'width', type: 'int'},
  {name: 'numBoxes', type: 'int'}, {name: 'pooledHeight', type: 'int'},
  {name: 'pooledWidth', type: 'int'}, {name: 'spatialScale', type: 'float'},
  {name: 'samplingRatio', type: 'int'}, {name: 'aligned', type: 'int'},
];

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
      grid = g > 0.0 ? min(g, 65536.0) : 0.0;
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

/** out[K, PH, PW, C] from X [N, H, W, C] and Boxes [K, 5]. */
export class RoiAlignProgram implements GPGPUProgram {
  variableNames = ['X', 'Boxes'];
  outputShape: number[];
  enableShapeUniforms = true;
  customUniforms = ROI_ALIGN_UNIFORMS;
  userCode = `
    ${ROI_ALIGN_GEOMETRY}

    void main() {
      ivec4 coords = getOutputCoords();
      int k = coords[0], ph = coords[1], pw = coords[2], c = coords[3];
      float b = getBoxes(k, 0);
      float result = 0.0;
      vec3 ay = roiAxis(getBoxes(k, 2), getBoxes(k, 4), pooledHeight);
      vec3 ax = roiAxis(getBoxes(k, 1), getBoxes(k, 3), pooledWidth);
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
      setOutput(result);
    }
  `;

  constructor(outShape: number[]) {
    this.outputShape = outShape;
  }
}

/** dx[N, H, W, C] from Dy [K, PH, PW, C] and Boxes [K, 5], one gathered value per invocation. */
export class RoiAlignGradProgram implements GPGPUProgram {
  variableNames = ['Dy', 'Boxes'];
  outputShape: number[];
  enableShapeUniforms = true;
  customUniforms = ROI_ALIGN_UNIFORMS;
  userCode = `
    ${ROI_ALIGN_GEOMETRY}

    // Bins whose span can hold samples in [lo, hi], one extra on each side.
    ivec2 roiBinRange(vec3 axis, int pooled, float lo, float hi) {
      float start = axis.x, bin = axis.y;
      if (bin == 0.0) return start >= lo && start <= hi ? ivec2(0, pooled - 1) : ivec2(0, -1);
      float u1 = (lo - start) / bin, u2 = (hi - start) / bin;
      float first = clamp(floor(min(u1, u2)) - 1.0, 0.0, float(pooled));
      float last = clamp(ceil(max(u1, u2)) + 1.0, -1.0, float(pooled - 1));
      return ivec2(int(first), int(last));
    }

    void main() {
      ivec4 coords = getOutputCoords();
      int n = coords[0], h = coords[1], w = coords[2], c = coords[3];
      float fh = float(h), fw = float(w);
      // A sample reaches row h from (h - 1, h + 1); clamped ones from [-1, 0] and (H - 1, H].
      float rowLo = max(fh - 1.0, -1.0), rowHi = min(fh + 1.0, float(height));
      float colLo = max(fw - 1.0, -1.0), colHi = min(fw + 1.0, float(width));
      float sum = 0.0;
      for (int k = 0; k < numBoxes; k++) {
        float b = getBoxes(k, 0);
        if (!roiBatchValid(b) || int(b) != n) continue;
        vec3 ay = roiAxis(getBoxes(k, 2), getBoxes(k, 4), pooledHeight);
        vec3 ax = roiAxis(getBoxes(k, 1), getBoxes(k, 3), pooledWidth);
        if (!(ay.z > 0.0 && ax.z > 0.0)) continue;
        ivec2 bh = roiBinRange(ay, pooledHeight, rowLo, rowHi);
        ivec2 bw = roiBinRange(ax, pooledWidth, colLo, colHi);
        float inv = 1.0 / (ay.z * ax.z);
        for (int ph = bh.x; ph <= bh.y; ph++) {
          float wy = roiTapWeight(ay, ph, h, height, rowLo, rowHi);
          if (wy == 0.0) continue;
          for (int pw = bw.x; pw <= bw.y; pw++) {
            float wx = roiTapWeight(ax, pw, w, width, colLo, colHi);
            if (wx != 0.0) sum += wy * inv * wx * getDy(k, ph, pw, c);
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

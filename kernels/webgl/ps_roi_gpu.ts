/**
 * GLSL programs of ps_roi_align and ps_roi_pool for the webgl backend
 * (WebGL2), channelsLast, the math of kernels/reference/ps_roi.ts. They share
 * the geometry of roi_align (run with aligned = 1) and roi_pool (roi without
 * + 1). Bin (ph, pw) of output channel c reads input channel
 * (c * PH + ph) * PW + pw, so in the backward gather each dx value belongs to
 * exactly one bin per RoI: ph = (c / PW) % PH, pw = c % PW.
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import {ROI_ALIGN_GEOMETRY, ROI_ALIGN_UNIFORMS} from './roi_align_gpu';
import {ROI_POOL_GEOMETRY, ROI_POOL_UNIFORMS} from './roi_pool_gpu';

/** out[K, PH, PW, Cout] from X [N, H, W, Cout * PH * PW] and Boxes [K, 5]. */
export class PsRoiAlignProgram implements GPGPUProgram {
  variableNames = ['X', 'Boxes'];
  outputShape: number[];
  enableShapeUniforms = true;
  customUniforms = ROI_ALIGN_UNIFORMS;
  userCode = `
    ${ROI_ALIGN_GEOMETRY}

    void main() {
      ivec4 coords = getOutputCoords();
      int k = coords[0], ph = coords[1], pw = coords[2];
      int c = (coords[3] * pooledHeight + ph) * pooledWidth + pw;
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

/** dx[N, H, W, C] from Dy [K, PH, PW, Cout] and Boxes [K, 5]. */
export class PsRoiAlignGradProgram implements GPGPUProgram {
  variableNames = ['Dy', 'Boxes'];
  outputShape: number[];
  enableShapeUniforms = true;
  customUniforms = ROI_ALIGN_UNIFORMS;
  userCode = `
    ${ROI_ALIGN_GEOMETRY}

    void main() {
      ivec4 coords = getOutputCoords();
      int n = coords[0], h = coords[1], w = coords[2], c = coords[3];
      int pw = c % pooledWidth;
      int ph = (c / pooledWidth) % pooledHeight;
      int cout = c / (pooledWidth * pooledHeight);
      float fh = float(h), fw = float(w);
      float rowLo = max(fh - 1.0, -1.0), rowHi = min(fh + 1.0, float(height));
      float colLo = max(fw - 1.0, -1.0), colHi = min(fw + 1.0, float(width));
      float sum = 0.0;
      for (int k = 0; k < numBoxes; k++) {
        float b = getBoxes(k, 0);
        if (!roiBatchValid(b) || int(b) != n) continue;
        vec3 ay = roiAxis(getBoxes(k, 2), getBoxes(k, 4), pooledHeight);
        vec3 ax = roiAxis(getBoxes(k, 1), getBoxes(k, 3), pooledWidth);
        if (!(ay.z > 0.0 && ax.z > 0.0)) continue;
        float wy = roiTapWeight(ay, ph, h, height, rowLo, rowHi);
        if (wy == 0.0) continue;
        float wx = roiTapWeight(ax, pw, w, width, colLo, colHi);
        if (wx != 0.0) sum += wy / (ay.z * ax.z) * wx * getDy(k, ph, pw, cout);
      }
      setOutput(sum);
    }
  `;

  constructor(xShape: number[]) {
    this.outputShape = xShape;
  }
}

/** out[K, PH, PW, Cout]: the mean of each bin, bins clipped to the map minus its last row and column. */
export class PsRoiPoolProgram implements GPGPUProgram {
  variableNames = ['X', 'Boxes'];
  outputShape: number[];
  enableShapeUniforms = true;
  customUniforms = ROI_POOL_UNIFORMS;
  userCode = `
    ${ROI_POOL_GEOMETRY}

    void main() {
      ivec4 coords = getOutputCoords();
      int k = coords[0], ph = coords[1], pw = coords[2];
      int c = (coords[3] * pooledHeight + ph) * pooledWidth + pw;
      float b = getBoxes(k, 0);
      ivec2 rows = ivec2(0);
      ivec2 cols = ivec2(0);
      if (roiBatchValid(b)) {
        rows = poolBin(poolAxis(getBoxes(k, 2), getBoxes(k, 4), pooledHeight, 0.0), ph, height - 1);
        cols = poolBin(poolAxis(getBoxes(k, 1), getBoxes(k, 3), pooledWidth, 0.0), pw, width - 1);
      }
      float result = 0.0;
      if (rows.y > rows.x && cols.y > cols.x) {
        int n = int(b);
        float sum = 0.0;
        for (int h = rows.x; h < rows.y; h++) {
          for (int w = cols.x; w < cols.y; w++) sum += getX(n, h, w, c);
        }
        result = sum / float((rows.y - rows.x) * (cols.y - cols.x));
      }
      setOutput(result);
    }
  `;

  constructor(outShape: number[]) {
    this.outputShape = outShape;
  }
}

/** dx[N, H, W, C]: dy / area over each bin, bins clipped to the whole map (torchvision's backward). */
export class PsRoiPoolGradProgram implements GPGPUProgram {
  variableNames = ['Dy', 'Boxes'];
  outputShape: number[];
  enableShapeUniforms = true;
  customUniforms = ROI_POOL_UNIFORMS;
  userCode = `
    ${ROI_POOL_GEOMETRY}

    void main() {
      ivec4 coords = getOutputCoords();
      int n = coords[0], h = coords[1], w = coords[2], c = coords[3];
      int pw = c % pooledWidth;
      int ph = (c / pooledWidth) % pooledHeight;
      int cout = c / (pooledWidth * pooledHeight);
      float sum = 0.0;
      for (int k = 0; k < numBoxes; k++) {
        float b = getBoxes(k, 0);
        if (!roiBatchValid(b) || int(b) != n) continue;
        ivec2 rows = poolBin(poolAxis(getBoxes(k, 2), getBoxes(k, 4), pooledHeight, 0.0), ph, height);
        ivec2 cols = poolBin(poolAxis(getBoxes(k, 1), getBoxes(k, 3), pooledWidth, 0.0), pw, width);
        if (h < rows.x || h >= rows.y || w < cols.x || w >= cols.y) continue;
        sum += getDy(k, ph, pw, cout) / float((rows.y - rows.x) * (cols.y - cols.x));
      }
      setOutput(sum);
    }
  `;

  constructor(xShape: number[]) {
    this.outputShape = xShape;
  }
}

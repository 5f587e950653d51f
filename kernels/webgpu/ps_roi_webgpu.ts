/**
 * WGSL programs of ps_roi_align and ps_roi_pool for the webgpu backend,
 * channelsLast; the formulation of kernels/webgl/ps_roi_gpu.ts (roi_align's
 * geometry with aligned = 1, roi_pool's without the + 1; in the backward
 * gather each dx value belongs to one bin per RoI: ph = (c / PW) % PH, pw = c % PW).
 */
import {ROI_ALIGN_GEOMETRY, RoiProgram} from './roi_align_webgpu';
import {ROI_POOL_GEOMETRY, RoiPoolBase} from './roi_pool_webgpu';

/** out[K, PH, PW, Cout] from X [N, H, W, Cout * PH * PW] and Boxes [K, 5]. */
export class PsRoiAlignProgram extends RoiProgram {
  variableNames = ['X', 'Boxes'];
  shaderKey = 'tfjsVisionOps_psRoiAlign';

  getUserCode() {
    return `
      ${ROI_ALIGN_GEOMETRY}
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let coords = getCoordsFromIndex(index);
        let k = coords[0];
        let ph = coords[1];
        let pw = coords[2];
        let c = (coords[3] * uniforms.pooledHeight + ph) * uniforms.pooledWidth + pw;
        let b = getBoxes(k, 0);
        let ay = roiAxis(getBoxes(k, 2), getBoxes(k, 4), uniforms.pooledHeight);
        let ax = roiAxis(getBoxes(k, 1), getBoxes(k, 3), uniforms.pooledWidth);
        var result = 0.0;
        if (roiBatchValid(b) && ay.z > 0.0 && ax.z > 0.0) {
          let n = i32(b);
          let fh = f32(uniforms.height);
          let fw = f32(uniforms.width);
          let ry = roiSampleRange(ay, ph, -1.0, fh);
          let rx = roiSampleRange(ax, pw, -1.0, fw);
          var sum = 0.0;
          for (var iy = ry.x; iy <= ry.y; iy++) {
            let y = roiSample(ay, ph, iy);
            if (!(y >= -1.0 && y <= fh)) { continue; }
            let ty = roiTaps(y, uniforms.height);
            let y0 = i32(ty.x);
            let y1 = i32(ty.y);
            for (var ix = rx.x; ix <= rx.y; ix++) {
              let x = roiSample(ax, pw, ix);
              if (!(x >= -1.0 && x <= fw)) { continue; }
              let tx = roiTaps(x, uniforms.width);
              let x0 = i32(tx.x);
              let x1 = i32(tx.y);
              let hy = 1.0 - ty.z;
              let hx = 1.0 - tx.z;
              sum += hy * hx * getX(n, y0, x0, c) + hy * tx.z * getX(n, y0, x1, c) +
                  ty.z * hx * getX(n, y1, x0, c) + ty.z * tx.z * getX(n, y1, x1, c);
            }
          }
          result = sum / (ay.z * ax.z);
        }
        setOutputAtIndex(index, result);
      }
    `;
  }
}

/** dx[N, H, W, C] from Dy [K, PH, PW, Cout] and Boxes [K, 5]. */
export class PsRoiAlignGradProgram extends RoiProgram {
  variableNames = ['Dy', 'Boxes'];
  shaderKey = 'tfjsVisionOps_psRoiAlignGrad';

  getUserCode() {
    return `
      ${ROI_ALIGN_GEOMETRY}
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let coords = getCoordsFromIndex(index);
        let n = coords[0];
        let h = coords[1];
        let w = coords[2];
        let c = coords[3];
        let pw = c % uniforms.pooledWidth;
        let ph = (c / uniforms.pooledWidth) % uniforms.pooledHeight;
        let cout = c / (uniforms.pooledWidth * uniforms.pooledHeight);
        let fh = f32(h);
        let fw = f32(w);
        let rowLo = max(fh - 1.0, -1.0);
        let rowHi = min(fh + 1.0, f32(uniforms.height));
        let colLo = max(fw - 1.0, -1.0);
        let colHi = min(fw + 1.0, f32(uniforms.width));
        var sum = 0.0;
        for (var k = 0; k < uniforms.numBoxes; k++) {
          let b = getBoxes(k, 0);
          if (!roiBatchValid(b) || i32(b) != n) { continue; }
          let ay = roiAxis(getBoxes(k, 2), getBoxes(k, 4), uniforms.pooledHeight);
          let ax = roiAxis(getBoxes(k, 1), getBoxes(k, 3), uniforms.pooledWidth);
          if (!(ay.z > 0.0 && ax.z > 0.0)) { continue; }
          let wy = roiTapWeight(ay, ph, h, uniforms.height, rowLo, rowHi);
          if (wy == 0.0) { continue; }
          let wx = roiTapWeight(ax, pw, w, uniforms.width, colLo, colHi);
          if (wx != 0.0) { sum += wy / (ay.z * ax.z) * wx * getDy(k, ph, pw, cout); }
        }
        setOutputAtIndex(index, sum);
      }
    `;
  }
}

/** out[K, PH, PW, Cout]: the mean of each bin, bins clipped to the map minus its last row and column. */
export class PsRoiPoolProgram extends RoiPoolBase {
  variableNames = ['X', 'Boxes'];
  shaderKey = 'tfjsVisionOps_psRoiPool';

  getUserCode() {
    return `
      ${ROI_POOL_GEOMETRY}
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let coords = getCoordsFromIndex(index);
        let k = coords[0];
        let ph = coords[1];
        let pw = coords[2];
        let c = (coords[3] * uniforms.pooledHeight + ph) * uniforms.pooledWidth + pw;
        let b = getBoxes(k, 0);
        var rows = vec2<i32>(0, 0);
        var cols = vec2<i32>(0, 0);
        if (roiBatchValid(b)) {
          rows = poolBin(poolAxis(getBoxes(k, 2), getBoxes(k, 4), uniforms.pooledHeight, 0.0), ph, uniforms.height - 1);
          cols = poolBin(poolAxis(getBoxes(k, 1), getBoxes(k, 3), uniforms.pooledWidth, 0.0), pw, uniforms.width - 1);
        }
        var result = 0.0;
        if (rows.y > rows.x && cols.y > cols.x) {
          let n = i32(b);
          var sum = 0.0;
          for (var h = rows.x; h < rows.y; h++) {
            for (var w = cols.x; w < cols.y; w++) { sum += getX(n, h, w, c); }
          }
          result = sum / f32((rows.y - rows.x) * (cols.y - cols.x));
        }
        setOutputAtIndex(index, result);
      }
    `;
  }
}

/** dx[N, H, W, C]: dy / area over each bin, bins clipped to the whole map (torchvision's backward). */
export class PsRoiPoolGradProgram extends RoiPoolBase {
  variableNames = ['Dy', 'Boxes'];
  shaderKey = 'tfjsVisionOps_psRoiPoolGrad';

  getUserCode() {
    return `
      ${ROI_POOL_GEOMETRY}
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let coords = getCoordsFromIndex(index);
        let n = coords[0];
        let h = coords[1];
        let w = coords[2];
        let c = coords[3];
        let pw = c % uniforms.pooledWidth;
        let ph = (c / uniforms.pooledWidth) % uniforms.pooledHeight;
        let cout = c / (uniforms.pooledWidth * uniforms.pooledHeight);
        var sum = 0.0;
        for (var k = 0; k < uniforms.numBoxes; k++) {
          let b = getBoxes(k, 0);
          if (!roiBatchValid(b) || i32(b) != n) { continue; }
          let rows = poolBin(poolAxis(getBoxes(k, 2), getBoxes(k, 4), uniforms.pooledHeight, 0.0), ph, uniforms.height);
          let cols = poolBin(poolAxis(getBoxes(k, 1), getBoxes(k, 3), uniforms.pooledWidth, 0.0), pw, uniforms.width);
          if (h < rows.x || h >= rows.y || w < cols.x || w >= cols.y) { continue; }
          sum += getDy(k, ph, pw, cout) / f32((rows.y - rows.x) * (cols.y - cols.x));
        }
        setOutputAtIndex(index, sum);
      }
    `;
  }
}

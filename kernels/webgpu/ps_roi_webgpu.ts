/**
 * WGSL programs of ps_roi_align and ps_roi_pool for the webgpu backend,
 * channelsLast; the formulation of kernels/webgl/ps_roi_gpu.ts (roi_align's
 * geometry with aligned = 1, roi_pool's without the + 1; in the backward
 * gather each dx value belongs to one bin per RoI: ph = (c / PW) % PH, pw = c % PW).
 * Geometry and shared pieces of main() in roi_common_wgsl.ts.
 */
import {
  forwardMain, gatherMain, poolRoiBins, PS_BIN_OF_CHANNEL, PS_INPUT_CHANNEL, ROI_ALIGN_BIN_MEAN,
  ROI_ALIGN_GATHER_AXES, ROI_ALIGN_GEOMETRY, ROI_ALIGN_REACH, ROI_POOL_GEOMETRY,
  RoiProgram,
} from './roi_common_wgsl.ts';
import {PS_ROI_ALIGN_FIELDS, PS_ROI_POOL_FIELDS} from '../gpu/uniforms.ts';

/** out[K, PH, PW, Cout] from X [N, H, W, Cout * PH * PW] and Boxes [K, 5]. */
export class PsRoiAlignProgram extends RoiProgram {
  variableNames = ['X', 'Boxes'];
  shaderKey = 'tfjsVisionOps_psRoiAlign';
  fields = PS_ROI_ALIGN_FIELDS;

  getUserCode() {
    return `
      ${ROI_ALIGN_GEOMETRY}
      ${forwardMain(PS_INPUT_CHANNEL, ROI_ALIGN_BIN_MEAN)}
    `;
  }
}

/** dx[N, H, W, C] from Dy [K, PH, PW, Cout] and Boxes [K, 5]. */
export class PsRoiAlignGradProgram extends RoiProgram {
  variableNames = ['Dy', 'Boxes'];
  shaderKey = 'tfjsVisionOps_psRoiAlignGrad';
  fields = PS_ROI_ALIGN_FIELDS;

  getUserCode() {
    return `
      ${ROI_ALIGN_GEOMETRY}
      ${gatherMain(PS_BIN_OF_CHANNEL + ROI_ALIGN_REACH, `
          ${ROI_ALIGN_GATHER_AXES}
          let wy = roiTapWeight(ay, ph, h, uniforms.height, rowLo, rowHi);
          if (wy == 0.0) { continue; }
          let wx = roiTapWeight(ax, pw, w, uniforms.width, colLo, colHi);
          if (wx != 0.0) { sum += wy / (ay.z * ax.z) * wx * getDy(k, ph, pw, cout); }`)}
    `;
  }
}

/** out[K, PH, PW, Cout]: the mean of each bin, bins clipped to the map minus its last row and column. */
export class PsRoiPoolProgram extends RoiProgram {
  variableNames = ['X', 'Boxes'];
  shaderKey = 'tfjsVisionOps_psRoiPool';
  fields = PS_ROI_POOL_FIELDS;

  getUserCode() {
    return `
      ${ROI_POOL_GEOMETRY}
      ${forwardMain(PS_INPUT_CHANNEL, `
        ${poolRoiBins('0.0', 1)}
        var result = 0.0;
        if (rows.y > rows.x && cols.y > cols.x) {
          let n = i32(b);
          var sum = 0.0;
          for (var h = rows.x; h < rows.y; h++) {
            for (var w = cols.x; w < cols.y; w++) { sum += getX(n, h, w, c); }
          }
          result = sum / f32((rows.y - rows.x) * (cols.y - cols.x));
        }
        setOutputAtIndex(index, result);`)}
    `;
  }
}

/** dx[N, H, W, C]: dy / area over each bin, bins clipped to the whole map (torchvision's backward). */
export class PsRoiPoolGradProgram extends RoiProgram {
  variableNames = ['Dy', 'Boxes'];
  shaderKey = 'tfjsVisionOps_psRoiPoolGrad';
  fields = PS_ROI_POOL_FIELDS;

  getUserCode() {
    return `
      ${ROI_POOL_GEOMETRY}
      ${gatherMain(PS_BIN_OF_CHANNEL, `
          let rows = poolBin(poolAxis(getBoxes(k, 2), getBoxes(k, 4), uniforms.pooledHeight, 0.0), ph, uniforms.height);
          let cols = poolBin(poolAxis(getBoxes(k, 1), getBoxes(k, 3), uniforms.pooledWidth, 0.0), pw, uniforms.width);
          if (h < rows.x || h >= rows.y || w < cols.x || w >= cols.y) { continue; }
          sum += getDy(k, ph, pw, cout) / f32((rows.y - rows.x) * (cols.y - cols.x));`)}
    `;
  }
}

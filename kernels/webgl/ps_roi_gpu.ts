/**
 * GLSL programs of ps_roi_align and ps_roi_pool for the webgl backend
 * (WebGL2), channelsLast, the math of kernels/reference/ps_roi.ts. They share
 * the geometry of roi_align (run with aligned = 1) and roi_pool (roi without
 * + 1). Bin (ph, pw) of output channel c reads input channel
 * (c * PH + ph) * PW + pw, so in the backward gather each dx value belongs to
 * exactly one bin per RoI: ph = (c / PW) % PH, pw = c % PW. Geometry and
 * shared pieces of main() in roi_common_glsl.ts.
 */
import {
  forwardMain, gatherMain, poolRoiBins, PS_BIN_OF_CHANNEL, PS_INPUT_CHANNEL, ROI_ALIGN_BIN_MEAN,
  ROI_ALIGN_GATHER_AXES, ROI_ALIGN_GEOMETRY, ROI_ALIGN_REACH, ROI_POOL_GEOMETRY,
  RoiProgram,
} from './roi_common_glsl.ts';
import {PS_ROI_ALIGN_FIELDS, PS_ROI_POOL_FIELDS} from '../gpu/uniforms.ts';

/** out[K, PH, PW, Cout] from X [N, H, W, Cout * PH * PW] and Boxes [K, 5]. */
export class PsRoiAlignProgram extends RoiProgram {
  variableNames = ['X', 'Boxes'];
  fields = PS_ROI_ALIGN_FIELDS;
  userCode = `
    ${ROI_ALIGN_GEOMETRY}
    ${forwardMain(PS_INPUT_CHANNEL, ROI_ALIGN_BIN_MEAN)}
  `;
}

/** dx[N, H, W, C] from Dy [K, PH, PW, Cout] and Boxes [K, 5]. */
export class PsRoiAlignGradProgram extends RoiProgram {
  variableNames = ['Dy', 'Boxes'];
  fields = PS_ROI_ALIGN_FIELDS;
  userCode = `
    ${ROI_ALIGN_GEOMETRY}
    ${gatherMain(PS_BIN_OF_CHANNEL + ROI_ALIGN_REACH, `
        ${ROI_ALIGN_GATHER_AXES}
        float wy = roiTapWeight(ay, ph, h, height, rowLo, rowHi);
        if (wy == 0.0) continue;
        float wx = roiTapWeight(ax, pw, w, width, colLo, colHi);
        if (wx != 0.0) sum += wy / (ay.z * ax.z) * wx * getDy(k, ph, pw, cout);`)}
  `;
}

/** out[K, PH, PW, Cout]: the mean of each bin, bins clipped to the map minus its last row and column. */
export class PsRoiPoolProgram extends RoiProgram {
  variableNames = ['X', 'Boxes'];
  fields = PS_ROI_POOL_FIELDS;
  userCode = `
    ${ROI_POOL_GEOMETRY}
    ${forwardMain(PS_INPUT_CHANNEL, `
      ${poolRoiBins('0.0', 1)}
      float result = 0.0;
      if (rows.y > rows.x && cols.y > cols.x) {
        int n = int(b);
        float sum = 0.0;
        for (int h = rows.x; h < rows.y; h++) {
          for (int w = cols.x; w < cols.y; w++) sum += getX(n, h, w, c);
        }
        result = sum / float((rows.y - rows.x) * (cols.y - cols.x));
      }
      setOutput(result);`)}
  `;
}

/** dx[N, H, W, C]: dy / area over each bin, bins clipped to the whole map (torchvision's backward). */
export class PsRoiPoolGradProgram extends RoiProgram {
  variableNames = ['Dy', 'Boxes'];
  fields = PS_ROI_POOL_FIELDS;
  userCode = `
    ${ROI_POOL_GEOMETRY}
    ${gatherMain(PS_BIN_OF_CHANNEL, `
        ivec2 rows = poolBin(poolAxis(getBoxes(k, 2), getBoxes(k, 4), pooledHeight, 0.0), ph, height);
        ivec2 cols = poolBin(poolAxis(getBoxes(k, 1), getBoxes(k, 3), pooledWidth, 0.0), pw, width);
        if (h < rows.x || h >= rows.y || w < cols.x || w >= cols.y) continue;
        sum += getDy(k, ph, pw, cout) / float((rows.y - rows.x) * (cols.y - cols.x));`)}
  `;
}

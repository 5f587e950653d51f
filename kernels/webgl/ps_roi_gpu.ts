/**
 * GLSL programs of ps_roi_align and ps_roi_pool for the webgl backend
 * (WebGL2), channelsLast, the math of kernels/reference/ps_roi.ts. They share
 * the geometry of roi_align (run with aligned = 1) and roi_pool (roi without
 * + 1). Bin (ph, pw) of output channel c reads input channel
 * (c * PH + ph) * PW + pw, so in the backward gather each dx value belongs to
 * exactly one bin per RoI: ph = (c / PW) % PH, pw = c % PW (psBinOfChannel).
 * Geometry and shared pieces of main() in roi_common_glsl.ts.
 */
import {
  forwardMain, gatherMain, poolRoiBins, PS_BIN_OF_CHANNEL, PS_INPUT_CHANNEL, ROI_ALIGN_BIN_MEAN, ROI_ALIGN_GEOMETRY,
  ROI_POOL_GEOMETRY, RoiAlignGatherProgram, RoiGatherProgram, RoiProgram,
} from './roi_common_glsl.ts';
import {PS_ROI_ALIGN_FIELDS, PS_ROI_POOL_FIELDS, ROI_GATHER_FIELDS} from '../gpu/uniforms.ts';

/** out[K, PH, PW, Cout] from X [N, H, W, Cout * PH * PW] and Boxes [K, 5]. */
export class PsRoiAlignProgram extends RoiProgram {
  variableNames = ['X', 'Boxes'];
  fields = PS_ROI_ALIGN_FIELDS;
  userCode = `
    ${ROI_ALIGN_GEOMETRY}
    ${forwardMain(PS_INPUT_CHANNEL, ROI_ALIGN_BIN_MEAN)}
  `;
}

/**
 * dx[N, H, W, C] from Dy [K, PH, PW, Cout], the tile lists and roi_align's
 * weight tables (or Boxes [K, 5], see RoiAlignGradProgram).
 */
export class PsRoiAlignGradProgram extends RoiAlignGatherProgram {
  fields = {...PS_ROI_ALIGN_FIELDS, ...ROI_GATHER_FIELDS};

  constructor(outputShape: number[], weightTables = true) {
    super(outputShape, weightTables, `
      ${PS_BIN_OF_CHANNEL}

      // What bin 'bin' (ph, pw, output channel) of RoI k gives columns w and w1 at row weight wy; zero weights add
      // nothing.
      vec2 psAlignTerms(int k, ivec3 bin, float wy, int w, int w1) {
        if (wy == 0.0) return vec2(0.0);
        float wx = roiColWeight(k, bin.y, w), wx1 = roiColWeight(k, bin.y, w1);
        if (wx == 0.0 && wx1 == 0.0) return vec2(0.0);
        float dy = getDy(k, bin.x, bin.y, bin.z);
        return vec2(wx != 0.0 ? wy * wx * dy : 0.0, wx1 != 0.0 ? wy * wx1 * dy : 0.0);
      }
      ${gatherMain(`
          ivec3 bin = psBinOfChannel(c);
          ivec3 bin1 = psBinOfChannel(c1);`, `
          float wy = roiRowWeight(k, bin.x, h);
          float wy1 = bin1.x == bin.x ? wy : roiRowWeight(k, bin1.x, h);
          if (wy == 0.0 && wy1 == 0.0) continue;
          sum += vec4(psAlignTerms(k, bin, wy, w, w1), psAlignTerms(k, bin1, wy1, w, w1)).xzyw;`)}
    `);
  }
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
export class PsRoiPoolGradProgram extends RoiGatherProgram {
  variableNames = ['Dy', 'Boxes', 'TileBoxes'];
  fields = {...PS_ROI_POOL_FIELDS, ...ROI_GATHER_FIELDS};
  userCode = `
    ${ROI_POOL_GEOMETRY}
    ${PS_BIN_OF_CHANNEL}

    // What bin 'bin' (ph, pw, output channel) of RoI k (axes ay, ax) gives pixel (h, w).
    float psPoolTerm(int k, vec2 ay, vec2 ax, ivec3 bin, int h, int w) {
      ivec2 rows = poolBin(ay, bin.x, height);
      ivec2 cols = poolBin(ax, bin.y, width);
      if (h < rows.x || h >= rows.y || w < cols.x || w >= cols.y) return 0.0;
      return getDy(k, bin.x, bin.y, bin.z) / float((rows.y - rows.x) * (cols.y - cols.x));
    }
    ${gatherMain(`
        ivec3 bin = psBinOfChannel(c);
        ivec3 bin1 = psBinOfChannel(c1);`, `
        vec2 ay = poolAxis(getBoxes(k, 2), getBoxes(k, 4), pooledHeight, 0.0);
        vec2 ax = poolAxis(getBoxes(k, 1), getBoxes(k, 3), pooledWidth, 0.0);
        sum += vec4(psPoolTerm(k, ay, ax, bin, h, w), psPoolTerm(k, ay, ax, bin1, h, w),
            psPoolTerm(k, ay, ax, bin, h, w1), psPoolTerm(k, ay, ax, bin1, h, w1));`)}
  `;
}

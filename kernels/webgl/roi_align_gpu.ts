/**
 * GLSL programs of roi_align for the webgl backend (WebGL2), channelsLast, the
 * math of kernels/reference/roi_align.ts:
 *  - forward: one output value per invocation, the average of the bilinear
 *    samples of its bin (only the sample indices that can land in [-1, size]
 *    are visited, then each is tested as torchvision does);
 *  - backward: a gather. Each dx value sums, over the RoIs listed for its tile
 *    and the few bins whose samples reach its pixel, row weight * column
 *    weight * dy: no scatter, no atomics, no read-back. The weights do not
 *    depend on the channel: RoiAlignWeightsProgram writes them once per RoI
 *    and pixel row (or column) for the gather to read.
 * Geometry and shared pieces of main() in roi_common_glsl.ts.
 */
import {
  forwardMain, gatherMain, ROI_ALIGN_AXES, ROI_ALIGN_BIN_MEAN, ROI_ALIGN_GEOMETRY, roiAlignWeights, ROI_BIN_UNION,
  RoiAlignGatherProgram, RoiProgram,
} from './roi_common_glsl.ts';
import {ROI_ALIGN_FIELDS, ROI_ALIGN_WEIGHTS_FIELDS, ROI_GATHER_FIELDS} from '../gpu/uniforms.ts';

/** out[K, PH, PW, C] from X [N, H, W, C] and Boxes [K, 5]. */
export class RoiAlignProgram extends RoiProgram {
  variableNames = ['X', 'Boxes'];
  fields = ROI_ALIGN_FIELDS;
  userCode = `
    ${ROI_ALIGN_GEOMETRY}
    ${forwardMain('coords[3]', ROI_ALIGN_BIN_MEAN)}
  `;
}

/**
 * RowWeights [K, H, PH + 1] (columns 0) or ColWeights [K, W, PW + 1] (columns
 * 1) from Boxes [K, 5], of roi_align and ps_roi_align (see roiAlignWeights).
 */
export class RoiAlignWeightsProgram extends RoiProgram {
  variableNames = ['Boxes'];
  fields = ROI_ALIGN_WEIGHTS_FIELDS;
  userCode = `
    ${ROI_ALIGN_GEOMETRY}
    ${roiAlignWeights(false)}

    // The first and last bins of an axis that give pixel i a nonzero weight, as first * (pooled + 1) + last + 1.
    float roiWeightBins(vec3 axis, int pooled, int i, int size) {
      ivec2 bins = roiBinRange(axis, pooled, i, size);
      int first = 0;
      int last = -1;
      for (int p = bins.x; p <= bins.y; p++) {
        if (roiPixelWeight(axis, p, i, size) != 0.0) {
          if (last < 0) first = p;
          last = p;
        }
      }
      return float(first * (pooled + 1) + last + 1);
    }

    void main() {
      ivec3 coords = getOutputCoords();
      int k = coords[0], i = coords[1], j = coords[2];
      ${ROI_ALIGN_AXES}
      float result = 0.0;
      if (columns == 1) {
        if (j < pooledWidth) {
          result = roiPixelWeight(ax, j, i, width);
        } else if (ay.z > 0.0) {
          result = roiWeightBins(ax, pooledWidth, i, width);
        }
      } else {
        if (j < pooledHeight) {
          result = roiAxesRowWeight(ay, ax, j, i);
        } else if (ax.z > 0.0) {
          result = roiWeightBins(ay, pooledHeight, i, height);
        }
      }
      setOutput(result);
    }
  `;
}

/**
 * dx[N, H, W, C] from Dy [K, PH, PW, C], the tile lists and the weight
 * tables (or, where a table would be too large, Boxes [K, 5]).
 */
export class RoiAlignGradProgram extends RoiAlignGatherProgram {
  fields = {...ROI_ALIGN_FIELDS, ...ROI_GATHER_FIELDS};

  constructor(outputShape: number[], weightTables = true) {
    super(outputShape, weightTables, `
      ${ROI_BIN_UNION}

      // One term of a dx value: zero weights add nothing (not even 0 * inf).
      float roiTerm(float wy, float wx, float dy) {
        return wx != 0.0 ? wy * wx * dy : 0.0;
      }
      ${gatherMain('', `
          ivec2 bh = roiRowBins(k, h);
          if (bh.y < bh.x) continue;
          ivec2 bw = roiColBins(k, w);
          ivec2 bw1 = roiColBins(k, w1);
          ivec2 cols = roiBinUnion(bw, bw1);
          for (int ph = bh.x; ph <= bh.y; ph++) {
            float wy = roiRowWeight(k, ph, h);
            if (wy == 0.0) continue;
            for (int pw = cols.x; pw <= cols.y; pw++) {
              float wx = pw >= bw.x && pw <= bw.y ? roiColWeight(k, pw, w) : 0.0;
              float wx1 = pw >= bw1.x && pw <= bw1.y ? roiColWeight(k, pw, w1) : 0.0;
              if (wx == 0.0 && wx1 == 0.0) continue;
              float dy = getDy(k, ph, pw, c), dy1 = getDy(k, ph, pw, c1);
              sum += vec4(roiTerm(wy, wx, dy), roiTerm(wy, wx, dy1), roiTerm(wy, wx1, dy), roiTerm(wy, wx1, dy1));
            }
          }`)}
    `);
  }
}

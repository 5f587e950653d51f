/**
 * WGSL programs of roi_align for the webgpu backend, channelsLast; the same
 * formulation as kernels/webgl/roi_align_gpu.ts (forward: the samples of one
 * bin per invocation; backward: a gather over the RoIs listed for each dx
 * value's tile and the few bins that reach its pixel, with weights from
 * RoiAlignWeightsProgram's tables, so no atomics). Geometry and shared pieces
 * of main() in roi_common_wgsl.ts.
 */
import {
  forwardMain, gatherMain, ROI_ALIGN_AXES, ROI_ALIGN_BIN_MEAN, ROI_ALIGN_GEOMETRY, roiAlignWeights, ROI_BIN_UNION,
  RoiAlignGatherProgram, RoiProgram,
} from './roi_common_wgsl.ts';
import {ROI_ALIGN_FIELDS, ROI_ALIGN_WEIGHTS_FIELDS, ROI_GATHER_FIELDS} from '../gpu/uniforms.ts';
import {mainPerValue} from './webgpu_util.ts';

/** out[K, PH, PW, C] from X [N, H, W, C] and Boxes [K, 5]. */
export class RoiAlignProgram extends RoiProgram {
  variableNames = ['X', 'Boxes'];
  shaderKey = 'tfjsVisionOps_roiAlign';
  fields = ROI_ALIGN_FIELDS;

  getUserCode() {
    return `
      ${ROI_ALIGN_GEOMETRY}
      ${forwardMain('coords[3]', ROI_ALIGN_BIN_MEAN)}
    `;
  }
}

/** RowWeights [K, H, PH + 1] (columns 0) or ColWeights [K, W, PW + 1] (columns 1) from Boxes [K, 5]. */
export class RoiAlignWeightsProgram extends RoiProgram {
  variableNames = ['Boxes'];
  shaderKey = 'tfjsVisionOps_roiAlignWeights';
  fields = ROI_ALIGN_WEIGHTS_FIELDS;

  getUserCode() {
    return `
      ${ROI_ALIGN_GEOMETRY}
      ${roiAlignWeights(false)}

      // The first and last bins of an axis that give pixel i a nonzero weight, as first * (pooled + 1) + last + 1.
      fn roiWeightBins(axis : vec3<f32>, pooled : i32, i : i32, size : i32) -> f32 {
        let bins = roiBinRange(axis, pooled, i, size);
        var first = 0;
        var last = -1;
        for (var p = bins.x; p <= bins.y; p++) {
          if (roiPixelWeight(axis, p, i, size) != 0.0) {
            if (last < 0) { first = p; }
            last = p;
          }
        }
        return f32(first * (pooled + 1) + last + 1);
      }

      ${mainPerValue(`
        let k = coords[0];
        let i = coords[1];
        let j = coords[2];
        ${ROI_ALIGN_AXES}
        var result = 0.0;
        if (uniforms.columns == 1) {
          if (j < uniforms.pooledWidth) {
            result = roiPixelWeight(ax, j, i, uniforms.width);
          } else if (ay.z > 0.0) {
            result = roiWeightBins(ax, uniforms.pooledWidth, i, uniforms.width);
          }
        } else {
          if (j < uniforms.pooledHeight) {
            result = roiAxesRowWeight(ay, ax, j, i);
          } else if (ax.z > 0.0) {
            result = roiWeightBins(ay, uniforms.pooledHeight, i, uniforms.height);
          }
        }
        setOutputAtIndex(index, result);`)}
    `;
  }
}

/** dx[N, H, W, C] from Dy [K, PH, PW, C], the tile lists and the weight tables (or Boxes [K, 5]). */
export class RoiAlignGradProgram extends RoiAlignGatherProgram {
  fields = {...ROI_ALIGN_FIELDS, ...ROI_GATHER_FIELDS};

  constructor(outputShape: number[], weightTables = true) {
    super(outputShape, weightTables, 'roiAlignGrad');
  }

  code() {
    return `
      ${ROI_BIN_UNION}

      // One term of a dx value: zero weights add nothing (not even 0 * inf).
      fn roiTerm(wy : f32, wx : f32, dy : f32) -> f32 {
        return select(0.0, wy * wx * dy, wx != 0.0);
      }
      ${gatherMain('', `
          let bh = roiRowBins(k, h);
          if (bh.y < bh.x) { continue; }
          let bw = roiColBins(k, w);
          let bw1 = roiColBins(k, w1);
          let cols = roiBinUnion(bw, bw1);
          for (var ph = bh.x; ph <= bh.y; ph++) {
            let wy = roiRowWeight(k, ph, h);
            if (wy == 0.0) { continue; }
            for (var pw = cols.x; pw <= cols.y; pw++) {
              let wx = select(0.0, roiColWeight(k, pw, w), pw >= bw.x && pw <= bw.y);
              let wx1 = select(0.0, roiColWeight(k, pw, w1), pw >= bw1.x && pw <= bw1.y);
              if (wx == 0.0 && wx1 == 0.0) { continue; }
              let dy = getDy(k, ph, pw, c);
              let dy1 = getDy(k, ph, pw, c1);
              sum += vec4<f32>(roiTerm(wy, wx, dy), roiTerm(wy, wx, dy1), roiTerm(wy, wx1, dy), roiTerm(wy, wx1, dy1));
            }
          }`)}
    `;
  }
}

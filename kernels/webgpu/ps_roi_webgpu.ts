/**
 * WGSL programs of ps_roi_align and ps_roi_pool for the webgpu backend,
 * channelsLast; the formulation of kernels/webgl/ps_roi_gpu.ts (roi_align's
 * geometry with aligned = 1, roi_pool's without the + 1; in the backward
 * gather each dx value belongs to one bin per RoI: ph = (c / PW) % PH, pw = c % PW).
 * Geometry and shared pieces of main() in roi_common_wgsl.ts.
 */
import {
  forwardMain, gatherMain, poolRoiBins, PS_BIN_OF_CHANNEL, PS_INPUT_CHANNEL, ROI_ALIGN_BIN_MEAN, ROI_ALIGN_GEOMETRY,
  ROI_POOL_GEOMETRY, RoiAlignGatherProgram, RoiGatherProgram, RoiProgram,
} from './roi_common_wgsl.ts';
import {PS_ROI_ALIGN_FIELDS, PS_ROI_POOL_FIELDS, ROI_GATHER_FIELDS} from '../gpu/uniforms.ts';

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

/** dx[N, H, W, C] from Dy [K, PH, PW, Cout], the tile lists and roi_align's weight tables (or Boxes [K, 5]). */
export class PsRoiAlignGradProgram extends RoiAlignGatherProgram {
  fields = {...PS_ROI_ALIGN_FIELDS, ...ROI_GATHER_FIELDS};

  constructor(outputShape: number[], weightTables = true) {
    super(outputShape, weightTables, 'psRoiAlignGrad');
  }

  code() {
    return `
      ${PS_BIN_OF_CHANNEL}

      // What bin 'bin' (ph, pw, output channel) of RoI k gives columns w and w1 at row weight wy; zero weights add
      // nothing.
      fn psAlignTerms(k : i32, bin : vec3<i32>, wy : f32, w : i32, w1 : i32) -> vec2<f32> {
        if (wy == 0.0) { return vec2<f32>(0.0); }
        let wx = roiColWeight(k, bin.y, w);
        let wx1 = roiColWeight(k, bin.y, w1);
        if (wx == 0.0 && wx1 == 0.0) { return vec2<f32>(0.0); }
        let dy = getDy(k, bin.x, bin.y, bin.z);
        return vec2<f32>(select(0.0, wy * wx * dy, wx != 0.0), select(0.0, wy * wx1 * dy, wx1 != 0.0));
      }
      ${gatherMain(`
          let bin = psBinOfChannel(c);
          let bin1 = psBinOfChannel(c1);`, `
          let wy = roiRowWeight(k, bin.x, h);
          let wy1 = select(roiRowWeight(k, bin1.x, h), wy, bin1.x == bin.x);
          if (wy == 0.0 && wy1 == 0.0) { continue; }
          sum += vec4<f32>(psAlignTerms(k, bin, wy, w, w1), psAlignTerms(k, bin1, wy1, w, w1)).xzyw;`)}
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
export class PsRoiPoolGradProgram extends RoiGatherProgram {
  variableNames = ['Dy', 'Boxes', 'TileBoxes'];
  shaderKey = 'tfjsVisionOps_psRoiPoolGrad';
  fields = {...PS_ROI_POOL_FIELDS, ...ROI_GATHER_FIELDS};

  getUserCode() {
    return `
      ${ROI_POOL_GEOMETRY}
      ${PS_BIN_OF_CHANNEL}

      // What bin 'bin' (ph, pw, output channel) of RoI k (axes ay, ax) gives pixel (h, w).
      fn psPoolTerm(k : i32, ay : vec2<f32>, ax : vec2<f32>, bin : vec3<i32>, h : i32, w : i32) -> f32 {
        let rows = poolBin(ay, bin.x, uniforms.height);
        let cols = poolBin(ax, bin.y, uniforms.width);
        if (h < rows.x || h >= rows.y || w < cols.x || w >= cols.y) { return 0.0; }
        return getDy(k, bin.x, bin.y, bin.z) / f32((rows.y - rows.x) * (cols.y - cols.x));
      }
      ${gatherMain(`
          let bin = psBinOfChannel(c);
          let bin1 = psBinOfChannel(c1);`, `
          let ay = poolAxis(getBoxes(k, 2), getBoxes(k, 4), uniforms.pooledHeight, 0.0);
          let ax = poolAxis(getBoxes(k, 1), getBoxes(k, 3), uniforms.pooledWidth, 0.0);
          sum += vec4<f32>(psPoolTerm(k, ay, ax, bin, h, w), psPoolTerm(k, ay, ax, bin1, h, w),
              psPoolTerm(k, ay, ax, bin, h, w1), psPoolTerm(k, ay, ax, bin1, h, w1));`)}
    `;
  }
}

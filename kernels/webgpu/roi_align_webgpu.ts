/**
 * WGSL programs of roi_align for the webgpu backend, channelsLast; the same
 * formulation as kernels/webgl/roi_align_gpu.ts (forward: the samples of one
 * bin per invocation; backward: a gather over the RoIs and the few bins that
 * can reach each dx value, so no atomics). Geometry and shared pieces of main()
 * in roi_common_wgsl.ts.
 */
import {
  forwardMain, gatherMain, ROI_ALIGN_BIN_MEAN, ROI_ALIGN_GATHER_AXES, ROI_ALIGN_GEOMETRY, ROI_ALIGN_REACH,
  RoiProgram,
} from './roi_common_wgsl.ts';
import {ROI_ALIGN_FIELDS} from '../gpu/uniforms.ts';

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

/** dx[N, H, W, C] from Dy [K, PH, PW, C] and Boxes [K, 5], one gathered value per invocation. */
export class RoiAlignGradProgram extends RoiProgram {
  variableNames = ['Dy', 'Boxes'];
  shaderKey = 'tfjsVisionOps_roiAlignGrad';
  fields = ROI_ALIGN_FIELDS;

  getUserCode() {
    return `
      ${ROI_ALIGN_GEOMETRY}

      // Bins whose span can hold samples in [lo, hi], one extra on each side.
      fn roiBinRange(axis : vec3<f32>, pooled : i32, lo : f32, hi : f32) -> vec2<i32> {
        let start = axis.x;
        let bin = axis.y;
        if (bin == 0.0) {
          return select(vec2<i32>(0, -1), vec2<i32>(0, pooled - 1), start >= lo && start <= hi);
        }
        let u1 = (lo - start) / bin;
        let u2 = (hi - start) / bin;
        let first = clamp(floor(min(u1, u2)) - 1.0, 0.0, f32(pooled));
        let last = clamp(ceil(max(u1, u2)) + 1.0, -1.0, f32(pooled - 1));
        return vec2<i32>(i32(first), i32(last));
      }
      ${gatherMain(ROI_ALIGN_REACH, `
          ${ROI_ALIGN_GATHER_AXES}
          let bh = roiBinRange(ay, uniforms.pooledHeight, rowLo, rowHi);
          let bw = roiBinRange(ax, uniforms.pooledWidth, colLo, colHi);
          let inv = 1.0 / (ay.z * ax.z);
          for (var ph = bh.x; ph <= bh.y; ph++) {
            let wy = roiTapWeight(ay, ph, h, uniforms.height, rowLo, rowHi);
            if (wy == 0.0) { continue; }
            for (var pw = bw.x; pw <= bw.y; pw++) {
              let wx = roiTapWeight(ax, pw, w, uniforms.width, colLo, colHi);
              if (wx != 0.0) { sum += wy * inv * wx * getDy(k, ph, pw, c); }
            }
          }`)}
    `;
  }
}

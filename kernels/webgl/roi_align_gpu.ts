/**
 * GLSL programs of roi_align for the webgl backend (WebGL2), channelsLast, the
 * math of kernels/reference/roi_align.ts:
 *  - forward: one output value per invocation, the average of the bilinear
 *    samples of its bin (only the sample indices that can land in [-1, size]
 *    are visited, then each is tested as torchvision does);
 *  - backward: a gather. Each dx value sums, over the RoIs of its image and
 *    the few bins whose samples can reach its pixel, row weight * column
 *    weight * dy / count: no scatter, no atomics, no read-back.
 * Geometry and shared pieces of main() in roi_common_glsl.ts.
 */
import {
  forwardMain, gatherMain, ROI_ALIGN_BIN_MEAN, ROI_ALIGN_GATHER_AXES, ROI_ALIGN_GEOMETRY, ROI_ALIGN_REACH,
  RoiProgram,
} from './roi_common_glsl.ts';
import {ROI_ALIGN_FIELDS} from '../gpu/uniforms.ts';

/** out[K, PH, PW, C] from X [N, H, W, C] and Boxes [K, 5]. */
export class RoiAlignProgram extends RoiProgram {
  variableNames = ['X', 'Boxes'];
  fields = ROI_ALIGN_FIELDS;
  userCode = `
    ${ROI_ALIGN_GEOMETRY}
    ${forwardMain('coords[3]', ROI_ALIGN_BIN_MEAN)}
  `;
}

/** dx[N, H, W, C] from Dy [K, PH, PW, C] and Boxes [K, 5], one gathered value per invocation. */
export class RoiAlignGradProgram extends RoiProgram {
  variableNames = ['Dy', 'Boxes'];
  fields = ROI_ALIGN_FIELDS;
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
    ${gatherMain(ROI_ALIGN_REACH, `
        ${ROI_ALIGN_GATHER_AXES}
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
        }`)}
  `;
}

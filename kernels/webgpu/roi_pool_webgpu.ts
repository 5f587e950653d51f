/**
 * WGSL programs of roi_pool for the webgpu backend, channelsLast; the same
 * formulation as kernels/webgl/roi_pool_gpu.ts (forward: the max of one bin,
 * or with `argmaxOut` its first argmax h * W + w, per invocation; backward: a
 * gather of dy over the bins whose argmax is each dx value's pixel). Geometry
 * and shared pieces of main() in roi_common_wgsl.ts.
 */
import {floatLiteral, FLT_MAX} from '../constants.ts';
import {
  forwardMain, gatherMain, poolRoiBins, ROI_BIN_UNION, ROI_POOL_GEOMETRY, RoiGatherProgram, RoiProgram,
} from './roi_common_wgsl.ts';
import {ROI_GATHER_FIELDS, ROI_POOL_FIELDS} from '../gpu/uniforms.ts';

/** out[K, PH, PW, C] (or its argmax) from X [N, H, W, C] and Boxes [K, 5]. */
export class RoiPoolProgram extends RoiProgram {
  variableNames = ['X', 'Boxes'];
  shaderKey = 'tfjsVisionOps_roiPool';
  fields = ROI_POOL_FIELDS;

  getUserCode() {
    return `
      ${ROI_POOL_GEOMETRY}
      ${forwardMain('coords[3]', `
        ${poolRoiBins('1.0', 0)}
        var best = 0.0;
        var arg = -1.0;
        if (rows.y > rows.x && cols.y > cols.x) {
          let n = i32(b);
          best = -${floatLiteral(FLT_MAX)};
          for (var h = rows.x; h < rows.y; h++) {
            for (var w = cols.x; w < cols.y; w++) {
              let v = getX(n, h, w, c);
              if (v > best) {
                best = v;
                arg = f32(h * uniforms.width + w);
              }
            }
          }
        }
        setOutputAtIndex(index, select(best, arg, uniforms.argmaxOut == 1));`)}
    `;
  }
}

/** dx[N, H, W, C] from Dy and Arg [K, PH, PW, C], Boxes [K, 5] and the tile lists. */
export class RoiPoolGradProgram extends RoiGatherProgram {
  variableNames = ['Dy', 'Arg', 'Boxes', 'TileBoxes'];
  shaderKey = 'tfjsVisionOps_roiPoolGrad';
  fields = {...ROI_POOL_FIELDS, ...ROI_GATHER_FIELDS};

  getUserCode() {
    return `
      ${ROI_POOL_GEOMETRY}
      ${ROI_BIN_UNION}

      // Bins that can hold pixel row (or column) i: p in (u / bin - 1, (u + 1) / bin), u = i - start.
      fn poolBinRange(axis : vec2<f32>, i : i32, pooled : i32) -> vec2<i32> {
        let u = f32(i) - axis.x;
        if (!(axis.y > 0.0)) { return vec2<i32>(0, -1); }
        let first = clamp(floor(u / axis.y - 1.0), 0.0, f32(pooled));
        let last = clamp(ceil((u + 1.0) / axis.y), -1.0, f32(pooled - 1));
        return vec2<i32>(i32(first), i32(last));
      }
      ${gatherMain(`
          let pixel = f32(h * uniforms.width + w);
          let pixel1 = f32(h * uniforms.width + w1);`, `
          let ay = poolAxis(getBoxes(k, 2), getBoxes(k, 4), uniforms.pooledHeight, 1.0);
          let ax = poolAxis(getBoxes(k, 1), getBoxes(k, 3), uniforms.pooledWidth, 1.0);
          let bh = poolBinRange(ay, h, uniforms.pooledHeight);
          let bw = roiBinUnion(poolBinRange(ax, w, uniforms.pooledWidth), poolBinRange(ax, w1, uniforms.pooledWidth));
          for (var ph = bh.x; ph <= bh.y; ph++) {
            let rows = poolBin(ay, ph, uniforms.height);
            if (h < rows.x || h >= rows.y) { continue; }
            for (var pw = bw.x; pw <= bw.y; pw++) {
              let cols = poolBin(ax, pw, uniforms.width);
              let holds = w >= cols.x && w < cols.y;
              let holds1 = w1 >= cols.x && w1 < cols.y;
              if (!holds && !holds1) { continue; }
              let arg = getArg(k, ph, pw, c);
              let arg1 = getArg(k, ph, pw, c1);
              let dy = getDy(k, ph, pw, c);
              let dy1 = getDy(k, ph, pw, c1);
              sum += vec4<f32>(select(0.0, dy, holds && arg == pixel), select(0.0, dy1, holds && arg1 == pixel),
                  select(0.0, dy, holds1 && arg == pixel1), select(0.0, dy1, holds1 && arg1 == pixel1));
            }
          }`)}
    `;
  }
}

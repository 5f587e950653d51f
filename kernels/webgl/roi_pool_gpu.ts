/**
 * GLSL programs of roi_pool for the webgl backend (WebGL2), channelsLast, the
 * math of kernels/reference/roi_pool.ts:
 *  - RoiPoolProgram: per output value, the max of its bin (strictly greater in
 *    row-major order: the first maximum wins; empty bin: 0), or with the
 *    uniform `argmaxOut` set, that maximum's index h * W + w (-1: none);
 *  - RoiPoolGradProgram: a gather. Each dx value sums dy over the bins (of the
 *    RoIs listed for its tile) whose argmax is its pixel.
 * Geometry and shared pieces of main() in roi_common_glsl.ts.
 */
import {floatLiteral, FLT_MAX} from '../constants.ts';
import {
  forwardMain, gatherMain, poolRoiBins, ROI_BIN_UNION, ROI_POOL_GEOMETRY, RoiGatherProgram, RoiProgram,
} from './roi_common_glsl.ts';
import {ROI_GATHER_FIELDS, ROI_POOL_FIELDS} from '../gpu/uniforms.ts';

/** out[K, PH, PW, C] (or its argmax) from X [N, H, W, C] and Boxes [K, 5]. */
export class RoiPoolProgram extends RoiProgram {
  variableNames = ['X', 'Boxes'];
  fields = ROI_POOL_FIELDS;
  userCode = `
    ${ROI_POOL_GEOMETRY}
    ${forwardMain('coords[3]', `
      ${poolRoiBins('1.0', 0)}
      float best = 0.0;
      float arg = -1.0;
      if (rows.y > rows.x && cols.y > cols.x) {
        int n = int(b);
        best = -${floatLiteral(FLT_MAX)};
        for (int h = rows.x; h < rows.y; h++) {
          for (int w = cols.x; w < cols.y; w++) {
            float v = getX(n, h, w, c);
            if (v > best) {
              best = v;
              arg = float(h * width + w);
            }
          }
        }
      }
      setOutput(argmaxOut == 1 ? arg : best);`)}
  `;
}

/** dx[N, H, W, C] from Dy and Arg [K, PH, PW, C], Boxes [K, 5] and the tile lists. */
export class RoiPoolGradProgram extends RoiGatherProgram {
  variableNames = ['Dy', 'Arg', 'Boxes', 'TileBoxes'];
  fields = {...ROI_POOL_FIELDS, ...ROI_GATHER_FIELDS};
  userCode = `
    ${ROI_POOL_GEOMETRY}
    ${ROI_BIN_UNION}

    // Bins that can hold pixel row (or column) i: p in (u / bin - 1, (u + 1) / bin), u = i - start.
    ivec2 poolBinRange(vec2 axis, int i, int pooled) {
      float u = float(i) - axis.x;
      if (!(axis.y > 0.0)) return ivec2(0, -1);
      float first = clamp(floor(u / axis.y - 1.0), 0.0, float(pooled));
      float last = clamp(ceil((u + 1.0) / axis.y), -1.0, float(pooled - 1));
      return ivec2(int(first), int(last));
    }
    ${gatherMain(`
        float pixel = float(h * width + w);
        float pixel1 = float(h * width + w1);`, `
        vec2 ay = poolAxis(getBoxes(k, 2), getBoxes(k, 4), pooledHeight, 1.0);
        vec2 ax = poolAxis(getBoxes(k, 1), getBoxes(k, 3), pooledWidth, 1.0);
        ivec2 bh = poolBinRange(ay, h, pooledHeight);
        ivec2 bw = roiBinUnion(poolBinRange(ax, w, pooledWidth), poolBinRange(ax, w1, pooledWidth));
        for (int ph = bh.x; ph <= bh.y; ph++) {
          ivec2 rows = poolBin(ay, ph, height);
          if (h < rows.x || h >= rows.y) continue;
          for (int pw = bw.x; pw <= bw.y; pw++) {
            ivec2 cols = poolBin(ax, pw, width);
            bool holds = w >= cols.x && w < cols.y;
            bool holds1 = w1 >= cols.x && w1 < cols.y;
            if (!holds && !holds1) continue;
            float arg = getArg(k, ph, pw, c), arg1 = getArg(k, ph, pw, c1);
            float dy = getDy(k, ph, pw, c), dy1 = getDy(k, ph, pw, c1);
            sum += vec4(holds && arg == pixel ? dy : 0.0, holds && arg1 == pixel ? dy1 : 0.0,
                holds1 && arg == pixel1 ? dy : 0.0, holds1 && arg1 == pixel1 ? dy1 : 0.0);
          }
        }`)}
  `;
}

/**
 * GLSL of the tile lists that bound the RoI backward gathers by what the RoIs
 * cover (kernels/gpu/roi_kernels.ts runs them; WGSL twin:
 * kernels/webgpu/roi_tiles_webgpu.ts). A map of the chunk's batch is cut
 * into tiles of tileSize x tileSize pixels, tile t = (n * tilesY + ty) *
 * tilesX + tx:
 *  - a reach program: per RoI k, Reach [K, 5] = its image (-1: it reaches no
 *    pixel) and the pixel rows and columns [first, last] it can touch;
 *  - TileCoverProgram: Cover [tiles, K], 1 where RoI k's reach meets tile t;
 *  - TilePrefixProgram, run with stride 1, R, R^2, ... below K: Prefix
 *    [tiles, K], the inclusive prefix sums of Cover along K;
 *  - TileBoxesProgram: TileBoxes [tiles, 1 + K], the count of the RoIs that
 *    reach tile t, then those RoIs in increasing k.
 */
import {PS_ROI_POOL_FIELDS, ROI_ALIGN_FIELDS, ROI_PREFIX_FIELDS, ROI_TILE_FIELDS} from '../gpu/uniforms.ts';
import {ROI_PREFIX_RADIX} from '../gpu/roi_kernels.ts';
import {ROI_ALIGN_AXES, ROI_ALIGN_GEOMETRY, ROI_POOL_GEOMETRY, RoiProgram} from './roi_common_glsl.ts';

/**
 * main() of a reach program, one field of RoI k per invocation: `spans` sets
 * reach = (rows, cols) for a valid batch index; an empty span empties all.
 */
function reachMain(spans: string): string {
  return `
    void main() {
      ivec2 coords = getOutputCoords();
      int k = coords[0], field = coords[1];
      float b = getBoxes(k, 0);
      vec4 reach = vec4(1.0, 0.0, 1.0, 0.0);
      if (roiBatchValid(b)) {
        ${spans}
      }
      bool live = reach.x <= reach.y && reach.z <= reach.w;
      float image = live ? float(int(b)) : -1.0;
      setOutput(field == 0 ? image : reach[max(field - 1, 0)]);
    }
  `;
}

/**
 * Pixels [first, last] of an axis of `size` pixels in [lo, hi] widened by
 * `slack` and by 2^-16 of the coordinates (float rounding of the samples or
 * bins at any magnitude); first > last: none.
 */
const ROI_SPAN = `
  vec2 roiSpan(float lo, float hi, float slack, int size) {
    float widen = slack + (abs(lo) + abs(hi)) / 65536.0;
    return vec2(max(floor(lo - widen), 0.0), min(ceil(hi + widen), float(size - 1)));
  }
`;

/** Reach [K, 5] of roi_align and ps_roi_align: the pixels of the bilinear taps of RoI k's samples. */
export class RoiAlignReachProgram extends RoiProgram {
  variableNames = ['Boxes'];
  fields = ROI_ALIGN_FIELDS;
  userCode = `
    ${ROI_ALIGN_GEOMETRY}
    ${ROI_SPAN}

    // The samples of roiAxis 'axis' lie between its ends; their taps within one pixel.
    vec2 roiAlignSpan(vec3 axis, int pooled, int size) {
      if (!(axis.z > 0.0)) return vec2(1.0, 0.0);
      float end = axis.x + float(pooled) * axis.y;
      return roiSpan(min(axis.x, end), max(axis.x, end), 2.0, size);
    }
    ${reachMain(`
        ${ROI_ALIGN_AXES}
        reach = vec4(roiAlignSpan(ay, pooledHeight, height), roiAlignSpan(ax, pooledWidth, width));`)}
  `;
}

/** Reach [K, 5] of roi_pool (plusOne '1.0') and ps_roi_pool's backward ('0.0'): the pixels of RoI k's bins. */
export class RoiPoolReachProgram extends RoiProgram {
  variableNames = ['Boxes'];
  fields = PS_ROI_POOL_FIELDS;
  userCode: string;

  constructor(outputShape: number[], plusOne: '1.0'|'0.0') {
    super(outputShape);
    this.userCode = `
      ${ROI_POOL_GEOMETRY}
      ${ROI_SPAN}

      // The bins of poolAxis 'axis' cover [start, start + pooled * bin].
      vec2 poolSpan(vec2 axis, int pooled, int size) {
        if (!(axis.y > 0.0)) return vec2(1.0, 0.0);
        return roiSpan(axis.x, axis.x + float(pooled) * axis.y, 1.0, size);
      }
      ${reachMain(`
          vec2 ay = poolAxis(getBoxes(k, 2), getBoxes(k, 4), pooledHeight, ${plusOne});
          vec2 ax = poolAxis(getBoxes(k, 1), getBoxes(k, 3), pooledWidth, ${plusOne});
          reach = vec4(poolSpan(ay, pooledHeight, height), poolSpan(ax, pooledWidth, width));`)}
    `;
  }
}

/** Cover [tiles, K] from Reach [K, 5]. */
export class TileCoverProgram extends RoiProgram {
  variableNames = ['Reach'];
  fields = ROI_TILE_FIELDS;
  userCode = `
    void main() {
      ivec2 coords = getOutputCoords();
      int tile = coords[0], k = coords[1];
      float image = float(tile / (tilesY * tilesX));
      float y0 = float((tile / tilesX) % tilesY * tileSize);
      float x0 = float(tile % tilesX * tileSize);
      float last = float(tileSize - 1);
      bool hit = getReach(k, 0) == image && getReach(k, 1) <= y0 + last && getReach(k, 2) >= y0 &&
          getReach(k, 3) <= x0 + last && getReach(k, 4) >= x0;
      setOutput(hit ? 1.0 : 0.0);
    }
  `;
}

/**
 * One pass of a radix-R prefix sum along K (Hillis and Steele): after the
 * pass of stride R^p, entry k holds the sum of the R^(p + 1) entries of
 * Cover up to k. Counts below 2^24: exact in float32, in any order.
 */
export class TilePrefixProgram extends RoiProgram {
  variableNames = ['Partial'];
  fields = ROI_PREFIX_FIELDS;
  userCode = `
    void main() {
      ivec2 coords = getOutputCoords();
      int tile = coords[0], k = coords[1];
      float sum = 0.0;
      for (int m = 0; m < ${ROI_PREFIX_RADIX}; m++) {
        if (k - m * stride < 0) break;
        sum += getPartial(tile, k - m * stride);
      }
      setOutput(sum);
    }
  `;
}

/** TileBoxes [tiles, 1 + K] from Prefix [tiles, K], the inclusive prefix sums of Cover along K. */
export class TileBoxesProgram extends RoiProgram {
  variableNames = ['Prefix'];
  fields = ROI_TILE_FIELDS;
  userCode = `
    void main() {
      ivec2 coords = getOutputCoords();
      int tile = coords[0], i = coords[1];
      float count = getPrefix(tile, numBoxes - 1);
      float result = count;
      if (i > 0) {
        result = -1.0;
        if (float(i) <= count) {
          // The i-th RoI that reaches the tile: the first k whose prefix sum is i.
          int lo = 0;
          int hi = numBoxes - 1;
          while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (getPrefix(tile, mid) >= float(i)) {
              hi = mid;
            } else {
              lo = mid + 1;
            }
          }
          result = float(lo);
        }
      }
      setOutput(result);
    }
  `;
}

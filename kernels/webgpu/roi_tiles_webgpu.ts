/**
 * WGSL of the tile lists that bound the RoI backward gathers by what the RoIs
 * cover; the formulation of kernels/webgl/roi_tiles_gpu.ts (Reach [K, 5],
 * Cover [tiles, K], its prefix sums along K, TileBoxes [tiles, 1 + K]).
 */
import {PS_ROI_POOL_FIELDS, ROI_ALIGN_FIELDS, ROI_PREFIX_FIELDS, ROI_TILE_FIELDS} from '../gpu/uniforms.ts';
import {ROI_PREFIX_RADIX} from '../gpu/roi_kernels.ts';
import {ROI_ALIGN_AXES, ROI_ALIGN_GEOMETRY, ROI_POOL_GEOMETRY, RoiProgram} from './roi_common_wgsl.ts';
import {mainPerValue} from './webgpu_util.ts';

/**
 * main() of a reach program, one field of RoI k per invocation: `spans` sets
 * reach = (rows, cols) for a valid batch index; an empty span empties all.
 */
function reachMain(spans: string): string {
  return mainPerValue(`
        let k = coords[0];
        let field = coords[1];
        let b = getBoxes(k, 0);
        var reach = vec4<f32>(1.0, 0.0, 1.0, 0.0);
        if (roiBatchValid(b)) {
          ${spans}
        }
        let live = reach.x <= reach.y && reach.z <= reach.w;
        let image = select(-1.0, f32(i32(b)), live);
        setOutputAtIndex(index, select(reach[max(field - 1, 0)], image, field == 0));`);
}

/**
 * Pixels [first, last] of an axis of `size` pixels in [lo, hi] widened by
 * `slack` and by 2^-16 of the coordinates (float rounding of the samples or
 * bins at any magnitude); first > last: none.
 */
const ROI_SPAN = `
  fn roiSpan(lo : f32, hi : f32, slack : f32, size : i32) -> vec2<f32> {
    let widen = slack + (abs(lo) + abs(hi)) / 65536.0;
    return vec2<f32>(max(floor(lo - widen), 0.0), min(ceil(hi + widen), f32(size - 1)));
  }
`;

/** Reach [K, 5] of roi_align and ps_roi_align: the pixels of the bilinear taps of RoI k's samples. */
export class RoiAlignReachProgram extends RoiProgram {
  variableNames = ['Boxes'];
  shaderKey = 'tfjsVisionOps_roiAlignReach';
  fields = ROI_ALIGN_FIELDS;

  getUserCode() {
    return `
      ${ROI_ALIGN_GEOMETRY}
      ${ROI_SPAN}

      // The samples of roiAxis 'axis' lie between its ends; their taps within one pixel.
      fn roiAlignSpan(axis : vec3<f32>, pooled : i32, size : i32) -> vec2<f32> {
        if (!(axis.z > 0.0)) { return vec2<f32>(1.0, 0.0); }
        let end = axis.x + f32(pooled) * axis.y;
        return roiSpan(min(axis.x, end), max(axis.x, end), 2.0, size);
      }
      ${reachMain(`
          ${ROI_ALIGN_AXES}
          reach = vec4<f32>(roiAlignSpan(ay, uniforms.pooledHeight, uniforms.height),
              roiAlignSpan(ax, uniforms.pooledWidth, uniforms.width));`)}
    `;
  }
}

/** Reach [K, 5] of roi_pool (plusOne '1.0') and ps_roi_pool's backward ('0.0'): the pixels of RoI k's bins. */
export class RoiPoolReachProgram extends RoiProgram {
  variableNames = ['Boxes'];
  shaderKey: string;
  fields = PS_ROI_POOL_FIELDS;
  private plusOne: '1.0'|'0.0';

  constructor(outputShape: number[], plusOne: '1.0'|'0.0') {
    super(outputShape);
    this.plusOne = plusOne;
    this.shaderKey = `tfjsVisionOps_roiPoolReach_${plusOne}`;
  }

  getUserCode() {
    return `
      ${ROI_POOL_GEOMETRY}
      ${ROI_SPAN}

      // The bins of poolAxis 'axis' cover [start, start + pooled * bin].
      fn poolSpan(axis : vec2<f32>, pooled : i32, size : i32) -> vec2<f32> {
        if (!(axis.y > 0.0)) { return vec2<f32>(1.0, 0.0); }
        return roiSpan(axis.x, axis.x + f32(pooled) * axis.y, 1.0, size);
      }
      ${reachMain(`
          let ay = poolAxis(getBoxes(k, 2), getBoxes(k, 4), uniforms.pooledHeight, ${this.plusOne});
          let ax = poolAxis(getBoxes(k, 1), getBoxes(k, 3), uniforms.pooledWidth, ${this.plusOne});
          reach = vec4<f32>(poolSpan(ay, uniforms.pooledHeight, uniforms.height),
              poolSpan(ax, uniforms.pooledWidth, uniforms.width));`)}
    `;
  }
}

/** Cover [tiles, K] from Reach [K, 5]. */
export class TileCoverProgram extends RoiProgram {
  variableNames = ['Reach'];
  shaderKey = 'tfjsVisionOps_roiTileCover';
  fields = ROI_TILE_FIELDS;

  getUserCode() {
    return `
      ${mainPerValue(`
        let tile = coords[0];
        let k = coords[1];
        let image = f32(tile / (uniforms.tilesY * uniforms.tilesX));
        let y0 = f32((tile / uniforms.tilesX) % uniforms.tilesY * uniforms.tileSize);
        let x0 = f32(tile % uniforms.tilesX * uniforms.tileSize);
        let last = f32(uniforms.tileSize - 1);
        let hit = getReach(k, 0) == image && getReach(k, 1) <= y0 + last && getReach(k, 2) >= y0 &&
            getReach(k, 3) <= x0 + last && getReach(k, 4) >= x0;
        setOutputAtIndex(index, select(0.0, 1.0, hit));`)}
    `;
  }
}

/** One pass of a radix-R prefix sum along K (see roi_tiles_gpu.ts). */
export class TilePrefixProgram extends RoiProgram {
  variableNames = ['Partial'];
  shaderKey = 'tfjsVisionOps_roiTilePrefix';
  fields = ROI_PREFIX_FIELDS;

  getUserCode() {
    return `
      ${mainPerValue(`
        let tile = coords[0];
        let k = coords[1];
        var sum = 0.0;
        for (var m = 0; m < ${ROI_PREFIX_RADIX}; m++) {
          if (k - m * uniforms.stride < 0) { break; }
          sum += getPartial(tile, k - m * uniforms.stride);
        }
        setOutputAtIndex(index, sum);`)}
    `;
  }
}

/** TileBoxes [tiles, 1 + K] from Prefix [tiles, K], the inclusive prefix sums of Cover along K. */
export class TileBoxesProgram extends RoiProgram {
  variableNames = ['Prefix'];
  shaderKey = 'tfjsVisionOps_roiTileBoxes';
  fields = ROI_TILE_FIELDS;

  getUserCode() {
    return `
      ${mainPerValue(`
        let tile = coords[0];
        let i = coords[1];
        let count = getPrefix(tile, uniforms.numBoxes - 1);
        var result = count;
        if (i > 0) {
          result = -1.0;
          if (f32(i) <= count) {
            // The i-th RoI that reaches the tile: the first k whose prefix sum is i.
            var lo = 0;
            var hi = uniforms.numBoxes - 1;
            while (lo < hi) {
              let mid = (lo + hi) / 2;
              if (getPrefix(tile, mid) >= f32(i)) {
                hi = mid;
              } else {
                lo = mid + 1;
              }
            }
            result = f32(lo);
          }
        }
        setOutputAtIndex(index, result);`)}
    `;
  }
}

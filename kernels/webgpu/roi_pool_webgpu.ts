/**
 * WGSL programs of roi_pool for the webgpu backend, channelsLast; the same
 * formulation as kernels/webgl/roi_pool_gpu.ts (forward: the max of one bin,
 * or with `argmaxOut` its first argmax h * W + w, per invocation; backward: a
 * gather of dy over the bins whose argmax is each dx value's pixel).
 */
import {webgpu_util} from '@tensorflow/tfjs-backend-webgpu';
import type {WebGPUProgram} from '@tensorflow/tfjs-backend-webgpu';

export const ROI_POOL_UNIFORMS =
    'batch : i32, height : i32, width : i32, numBoxes : i32, pooledHeight : i32, pooledWidth : i32, ' +
    'spatialScale : f32, argmaxOut : i32,';

export const ROI_POOL_GEOMETRY = `
  fn roiIsNaN(v : f32) -> bool {
    return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
  }

  fn roiBatchValid(b : f32) -> bool {
    return !roiIsNaN(b) && b > -1.0 && b < f32(uniforms.batch);
  }

  // C's round() (half away from zero) of the scaled corner, clamped to +-2^24.
  fn roiRound(c : f32) -> f32 {
    let v = c * uniforms.spatialScale;
    let a = abs(v);
    var r = floor(a);
    if (a - r >= 0.5) { r += 1.0; }
    return clamp(select(r, -r, v < 0.0), -16777216.0, 16777216.0);
  }

  // One axis of one RoI: (start, bin size), roi = end - start + plusOne (roi_pool: 1,
  // ps_roi_pool: 0); NaN corners give an empty axis (bin 0).
  fn poolAxis(c1 : f32, c2 : f32, pooled : i32, plusOne : f32) -> vec2<f32> {
    if (roiIsNaN(c1) || roiIsNaN(c2)) { return vec2<f32>(-33554432.0, 0.0); }
    let start = roiRound(c1);
    let end = roiRound(c2);
    return vec2<f32>(start, max(end - start + plusOne, 1.0) / f32(pooled));
  }

  // Rows (or columns) [lo, hi) of bin p.
  fn poolBin(axis : vec2<f32>, p : i32, size : i32) -> vec2<i32> {
    let fsize = f32(size);
    let lo = clamp(floor(f32(p) * axis.y) + axis.x, 0.0, fsize);
    let hi = clamp(ceil(f32(p + 1) * axis.y) + axis.x, 0.0, fsize);
    return vec2<i32>(i32(lo), i32(hi));
  }
`;

export abstract class RoiPoolBase implements WebGPUProgram {
  abstract variableNames: string[];
  abstract shaderKey: string;
  uniforms = ROI_POOL_UNIFORMS;
  outputShape: number[];
  dispatchLayout: {x: number[]};
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;

  constructor(outputShape: number[]) {
    this.outputShape = outputShape;
    this.dispatchLayout = webgpu_util.flatDispatchLayout(outputShape);
    this.dispatch = webgpu_util.computeDispatch(this.dispatchLayout, outputShape, this.workgroupSize);
  }

  abstract getUserCode(): string;
}

/** out[K, PH, PW, C] (or its argmax) from X [N, H, W, C] and Boxes [K, 5]. */
export class RoiPoolProgram extends RoiPoolBase {
  variableNames = ['X', 'Boxes'];
  shaderKey = 'tfjsVisionOps_roiPool';

  getUserCode() {
    return `
      ${ROI_POOL_GEOMETRY}
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let coords = getCoordsFromIndex(index);
        let k = coords[0];
        let c = coords[3];
        let b = getBoxes(k, 0);
        var rows = vec2<i32>(0, 0);
        var cols = vec2<i32>(0, 0);
        if (roiBatchValid(b)) {
          rows = poolBin(poolAxis(getBoxes(k, 2), getBoxes(k, 4), uniforms.pooledHeight, 1.0), coords[1], uniforms.height);
          cols = poolBin(poolAxis(getBoxes(k, 1), getBoxes(k, 3), uniforms.pooledWidth, 1.0), coords[2], uniforms.width);
        }
        var best = 0.0;
        var arg = -1.0;
        if (rows.y > rows.x && cols.y > cols.x) {
          let n = i32(b);
          best = -3.4028234663852886e38;
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
        setOutputAtIndex(index, select(best, arg, uniforms.argmaxOut == 1));
      }
    `;
  }
}

/** dx[N, H, W, C] from Dy and Arg [K, PH, PW, C] and Boxes [K, 5]. */
export class RoiPoolGradProgram extends RoiPoolBase {
  variableNames = ['Dy', 'Arg', 'Boxes'];
  shaderKey = 'tfjsVisionOps_roiPoolGrad';

  getUserCode() {
    return `
      ${ROI_POOL_GEOMETRY}

      // Bins that can hold pixel row (or column) i: p in (u / bin - 1, (u + 1) / bin), u = i - start.
      fn poolBinRange(axis : vec2<f32>, i : i32, pooled : i32) -> vec2<i32> {
        let u = f32(i) - axis.x;
        if (!(axis.y > 0.0)) { return vec2<i32>(0, -1); }
        let first = clamp(floor(u / axis.y - 1.0), 0.0, f32(pooled));
        let last = clamp(ceil((u + 1.0) / axis.y), -1.0, f32(pooled - 1));
        return vec2<i32>(i32(first), i32(last));
      }

      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let coords = getCoordsFromIndex(index);
        let n = coords[0];
        let h = coords[1];
        let w = coords[2];
        let c = coords[3];
        let pixel = f32(h * uniforms.width + w);
        var sum = 0.0;
        for (var k = 0; k < uniforms.numBoxes; k++) {
          let b = getBoxes(k, 0);
          if (!roiBatchValid(b) || i32(b) != n) { continue; }
          let ay = poolAxis(getBoxes(k, 2), getBoxes(k, 4), uniforms.pooledHeight, 1.0);
          let ax = poolAxis(getBoxes(k, 1), getBoxes(k, 3), uniforms.pooledWidth, 1.0);
          let bh = poolBinRange(ay, h, uniforms.pooledHeight);
          let bw = poolBinRange(ax, w, uniforms.pooledWidth);
          for (var ph = bh.x; ph <= bh.y; ph++) {
            let rows = poolBin(ay, ph, uniforms.height);
            if (h < rows.x || h >= rows.y) { continue; }
            for (var pw = bw.x; pw <= bw.y; pw++) {
              let cols = poolBin(ax, pw, uniforms.width);
              if (w < cols.x || w >= cols.y) { continue; }
              if (getArg(k, ph, pw, c) == pixel) { sum += getDy(k, ph, pw, c); }
            }
          }
        }
        setOutputAtIndex(index, sum);
      }
    `;
  }
}

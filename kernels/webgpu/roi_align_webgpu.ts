/**
 * WGSL programs of roi_align for the webgpu backend, channelsLast; the same
 * formulation as kernels/webgl/roi_align_gpu.ts (forward: the samples of one
 * bin per invocation; backward: a gather over the RoIs and the few bins that
 * can reach each dx value, so no atomics). Shapes and attributes are
 * uniforms: one pipeline per program.
 */
import {webgpu_util} from '@tensorflow/tfjs-backend-webgpu';
import type {WebGPUProgram} from '@tensorflow/tfjs-backend-webgpu';

export const ROI_ALIGN_UNIFORMS =
    'batch : i32, height : i32, width : i32, numBoxes : i32, pooledHeight : i32, pooledWidth : i32, ' +
    'spatialScale : f32, samplingRatio : i32, aligned : i32,';

export const ROI_ALIGN_GEOMETRY = `
  fn roiIsFinite(v : f32) -> bool {
    return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
  }

  // One axis of one RoI: (start, bin size, samples per bin); no samples: grid 0.
  fn roiAxis(c1 : f32, c2 : f32, pooled : i32) -> vec3<f32> {
    let offset = select(0.0, 0.5, uniforms.aligned == 1);
    let start = c1 * uniforms.spatialScale - offset;
    var size = (c2 * uniforms.spatialScale - offset) - start;
    if (uniforms.aligned == 0 && size < 1.0) { size = 1.0; }
    let bin = size / f32(pooled);
    var grid = f32(uniforms.samplingRatio);
    if (uniforms.samplingRatio <= 0) {
      let g = ceil(bin);
      grid = select(0.0, min(g, 65536.0), g > 0.0);
    }
    if (!roiIsFinite(start) || !roiIsFinite(bin)) { grid = 0.0; }
    return vec3<f32>(start, bin, grid);
  }

  fn roiBatchValid(b : f32) -> bool {
    return roiIsFinite(b) && b > -1.0 && b < f32(uniforms.batch);
  }

  // Sample i of bin p, in torchvision's order of float operations.
  fn roiSample(axis : vec3<f32>, p : i32, i : i32) -> f32 {
    return (axis.x + f32(p) * axis.y) + (f32(i) + 0.5) * axis.y / axis.z;
  }

  // Sample indices of bin p that can land in [lo, hi], one extra on each side.
  fn roiSampleRange(axis : vec3<f32>, p : i32, lo : f32, hi : f32) -> vec2<i32> {
    let base = axis.x + f32(p) * axis.y;
    let bin = axis.y;
    let grid = axis.z;
    if (!(grid > 0.0) || !roiIsFinite(base)) { return vec2<i32>(0, -1); }
    if (bin == 0.0) {
      return select(vec2<i32>(0, -1), vec2<i32>(0, i32(grid) - 1), base >= lo && base <= hi);
    }
    let t1 = (lo - base) / bin * grid - 0.5;
    let t2 = (hi - base) / bin * grid - 0.5;
    let first = clamp(floor(min(t1, t2)) - 1.0, 0.0, grid);
    let last = clamp(ceil(max(t1, t2)) + 1.0, -1.0, grid - 1.0);
    return vec2<i32>(i32(first), i32(last));
  }

  // Bilinear taps of an in-range sample y on an axis of size pixels: (low, high, weight of high).
  fn roiTaps(yIn : f32, size : i32) -> vec3<f32> {
    var y = max(yIn, 0.0);
    var low = i32(y);
    var high = low + 1;
    if (low >= size - 1) {
      low = size - 1;
      high = low;
      y = f32(low);
    }
    return vec3<f32>(f32(low), f32(high), y - f32(low));
  }

  // Summed bilinear weight of pixel row (or column) 'pixel' over the samples of bin p
  // that can land in [lo, hi].
  fn roiTapWeight(axis : vec3<f32>, p : i32, pixel : i32, size : i32, lo : f32, hi : f32) -> f32 {
    let r = roiSampleRange(axis, p, lo, hi);
    let fsize = f32(size);
    var w = 0.0;
    for (var i = r.x; i <= r.y; i++) {
      let y = roiSample(axis, p, i);
      if (!(y >= -1.0 && y <= fsize)) { continue; }
      let t = roiTaps(y, size);
      if (i32(t.x) == pixel) { w += 1.0 - t.z; }
      if (i32(t.y) == pixel) { w += t.z; }
    }
    return w;
  }
`;

export abstract class RoiProgram implements WebGPUProgram {
  abstract variableNames: string[];
  abstract shaderKey: string;
  uniforms = ROI_ALIGN_UNIFORMS;
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

/** out[K, PH, PW, C] from X [N, H, W, C] and Boxes [K, 5]. */
export class RoiAlignProgram extends RoiProgram {
  variableNames = ['X', 'Boxes'];
  shaderKey = 'tfjsVisionOps_roiAlign';

  getUserCode() {
    return `
      ${ROI_ALIGN_GEOMETRY}
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let coords = getCoordsFromIndex(index);
        let k = coords[0];
        let ph = coords[1];
        let pw = coords[2];
        let c = coords[3];
        let b = getBoxes(k, 0);
        let ay = roiAxis(getBoxes(k, 2), getBoxes(k, 4), uniforms.pooledHeight);
        let ax = roiAxis(getBoxes(k, 1), getBoxes(k, 3), uniforms.pooledWidth);
        var result = 0.0;
        if (roiBatchValid(b) && ay.z > 0.0 && ax.z > 0.0) {
          let n = i32(b);
          let fh = f32(uniforms.height);
          let fw = f32(uniforms.width);
          let ry = roiSampleRange(ay, ph, -1.0, fh);
          let rx = roiSampleRange(ax, pw, -1.0, fw);
          var sum = 0.0;
          for (var iy = ry.x; iy <= ry.y; iy++) {
            let y = roiSample(ay, ph, iy);
            if (!(y >= -1.0 && y <= fh)) { continue; }
            let ty = roiTaps(y, uniforms.height);
            let y0 = i32(ty.x);
            let y1 = i32(ty.y);
            for (var ix = rx.x; ix <= rx.y; ix++) {
              let x = roiSample(ax, pw, ix);
              if (!(x >= -1.0 && x <= fw)) { continue; }
              let tx = roiTaps(x, uniforms.width);
              let x0 = i32(tx.x);
              let x1 = i32(tx.y);
              let hy = 1.0 - ty.z;
              let hx = 1.0 - tx.z;
              sum += hy * hx * getX(n, y0, x0, c) + hy * tx.z * getX(n, y0, x1, c) +
                  ty.z * hx * getX(n, y1, x0, c) + ty.z * tx.z * getX(n, y1, x1, c);
            }
          }
          result = sum / (ay.z * ax.z);
        }
        setOutputAtIndex(index, result);
      }
    `;
  }
}

/** dx[N, H, W, C] from Dy [K, PH, PW, C] and Boxes [K, 5], one gathered value per invocation. */
export class RoiAlignGradProgram extends RoiProgram {
  variableNames = ['Dy', 'Boxes'];
  shaderKey = 'tfjsVisionOps_roiAlignGrad';

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

      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let coords = getCoordsFromIndex(index);
        let n = coords[0];
        let h = coords[1];
        let w = coords[2];
        let c = coords[3];
        let fh = f32(h);
        let fw = f32(w);
        // A sample reaches row h from (h - 1, h + 1); clamped ones from [-1, 0] and (H - 1, H].
        let rowLo = max(fh - 1.0, -1.0);
        let rowHi = min(fh + 1.0, f32(uniforms.height));
        let colLo = max(fw - 1.0, -1.0);
        let colHi = min(fw + 1.0, f32(uniforms.width));
        var sum = 0.0;
        for (var k = 0; k < uniforms.numBoxes; k++) {
          let b = getBoxes(k, 0);
          if (!roiBatchValid(b) || i32(b) != n) { continue; }
          let ay = roiAxis(getBoxes(k, 2), getBoxes(k, 4), uniforms.pooledHeight);
          let ax = roiAxis(getBoxes(k, 1), getBoxes(k, 3), uniforms.pooledWidth);
          if (!(ay.z > 0.0 && ax.z > 0.0)) { continue; }
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
          }
        }
        setOutputAtIndex(index, sum);
      }
    `;
  }
}

/**
 * WGSL shared by the RoI programs of the webgpu backend (roi_align_webgpu.ts,
 * roi_pool_webgpu.ts, ps_roi_webgpu.ts; GLSL twin: kernels/webgl/
 * roi_common_glsl.ts): the uniforms and per-axis geometry of roi_align and
 * roi_pool, the program base class, and the pieces of main() that the ops
 * have in common. Shapes and attributes are uniforms: one pipeline per
 * program, whatever the box count or map size.
 */
import {TensorInfo} from '@tensorflow/tfjs-core';
import {webgpu_util} from '@tensorflow/tfjs-backend-webgpu';
import type {WebGPUBackend, WebGPUProgram} from '@tensorflow/tfjs-backend-webgpu';
import {floatLiteral, MAX_ADAPTIVE_GRID, MAX_ROUNDED_COORD} from '../constants.ts';
import {UniformFields, UniformValues} from '../gpu/uniforms.ts';
import {wgslUniforms, wgslValues} from './uniforms.ts';
import {mainPerValue} from './webgpu_util.ts';

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
      grid = select(0.0, min(g, ${floatLiteral(MAX_ADAPTIVE_GRID)}), g > 0.0);
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
    return clamp(select(r, -r, v < 0.0), -${floatLiteral(MAX_ROUNDED_COORD)}, ${floatLiteral(MAX_ROUNDED_COORD)});
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

/** One invocation per output value, shapes and attributes in the uniform block `fields` (kernels/gpu/uniforms.ts). */
export abstract class RoiProgram implements WebGPUProgram {
  abstract variableNames: string[];
  abstract shaderKey: string;
  abstract fields: UniformFields;
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

  get uniforms() {
    return wgslUniforms(this.fields);
  }
}

/**
 * A backward gather: one invocation per block of columns w, w + 1 and
 * channels c, c + 1 of dx [N, H, W, C] (see gatherMain), so the program's
 * outputShape (which sizes the dispatch) is the grid of blocks and its result
 * dx, `resultShape`.
 */
export abstract class RoiGatherProgram extends RoiProgram {
  resultShape: number[];

  constructor(dxShape: number[]) {
    const [batch, height, width, channels] = dxShape;
    super([batch, height, Math.ceil(width / 2), Math.ceil(channels / 2)]);
    this.resultShape = dxShape;
  }
}

/**
 * A backward gather over roi_align's samples: it reads the weight tables or,
 * where a table would be too large, Boxes [K, 5]; `code()` is the rest of the
 * program (the terms and gatherMain).
 */
export abstract class RoiAlignGatherProgram extends RoiGatherProgram {
  variableNames: string[];
  shaderKey: string;
  private weightTables: boolean;

  constructor(outputShape: number[], weightTables: boolean, name: string) {
    super(outputShape);
    this.weightTables = weightTables;
    this.variableNames = weightTables ? ['Dy', 'TileBoxes', 'RowWeights', 'ColWeights'] : ['Dy', 'Boxes', 'TileBoxes'];
    this.shaderKey = `tfjsVisionOps_${name}_${weightTables}`;
  }

  abstract code(): string;

  getUserCode() {
    return `
      ${this.weightTables ? '' : ROI_ALIGN_GEOMETRY}
      ${roiAlignWeights(this.weightTables)}
      ${this.code()}
    `;
  }
}

/** Runs an RoI program with its uniforms valued by name from `values`. */
export function runRoiProgram(
    webgpu: WebGPUBackend, kernelName: string, program: RoiProgram, inputs: TensorInfo[],
    values: UniformValues): TensorInfo {
  const uniforms = wgslValues(kernelName, program.fields, values);
  if (!(program instanceof RoiGatherProgram)) return webgpu.runWebGPUProgram(program, inputs, 'float32', uniforms);
  const dx = webgpu.makeTensorInfo(program.resultShape, 'float32');
  return webgpu.runWebGPUProgram(program, inputs, 'float32', uniforms, dx);
}

/**
 * main() of a forward program, one output value (k, ph, pw, coords[3]) per
 * invocation: `body` runs with k, ph, pw, the input channel c = `channel` and
 * RoI k's batch index b in scope, and ends with setOutputAtIndex.
 */
export function forwardMain(channel: string, body: string): string {
  return mainPerValue(`
        let k = coords[0];
        let ph = coords[1];
        let pw = coords[2];
        let c = ${channel};
        let b = getBoxes(k, 0);
        ${body}`);
}

/**
 * main() of a backward gather (RoiGatherProgram), one block of dx per
 * invocation: roiGatherBlock as in roi_common_glsl.ts's gatherMain, then the
 * block's values inside the map written by flat index.
 */
export function gatherMain(prelude: string, perRoi: string): string {
  return `
      fn roiGatherBlock(n : i32, h : i32, w : i32, c : i32) -> vec4<f32> {
        let w1 = min(w + 1, uniforms.width - 1);
        let c1 = min(c + 1, uniforms.channels - 1);
        ${prelude}
        var sum = vec4<f32>(0.0);
        let tile = (n * uniforms.tilesY + h / uniforms.tileSize) * uniforms.tilesX + w / uniforms.tileSize;
        let count = i32(getTileBoxes(tile, 0));
        for (var i = 1; i <= count; i++) {
          let k = i32(getTileBoxes(tile, i));
          ${perRoi}
        }
        return sum;
      }

      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        // Block (n, h, w / 2, c / 2) of the grid (outShape is dx's shape: the result's).
        let channelBlocks = (uniforms.channels + 1) / 2;
        let columnBlocks = (uniforms.width + 1) / 2;
        let c = index % channelBlocks * 2;
        let w = index / channelBlocks % columnBlocks * 2;
        let h = index / (channelBlocks * columnBlocks) % uniforms.height;
        let n = index / (channelBlocks * columnBlocks * uniforms.height);
        let sum = roiGatherBlock(n, h, w, c);
        let at = ((n * uniforms.height + h) * uniforms.width + w) * uniforms.channels + c;
        let right = w + 1 < uniforms.width;
        let next = c + 1 < uniforms.channels;
        setOutputAtIndex(at, sum.x);
        if (next) { setOutputAtIndex(at + 1, sum.y); }
        if (right) { setOutputAtIndex(at + uniforms.channels, sum.z); }
        if (right && next) { setOutputAtIndex(at + uniforms.channels + 1, sum.w); }
      }
    `;
}

/** Bins in either of two ranges [x, y] (an empty one, y < x, adds none). */
export const ROI_BIN_UNION = `
  fn roiBinUnion(a : vec2<i32>, b : vec2<i32>) -> vec2<i32> {
    if (a.y < a.x) { return b; }
    if (b.y < b.x) { return a; }
    return vec2<i32>(min(a.x, b.x), max(a.y, b.y));
  }
`;

/** Position-sensitive ops: the input channel of output channel coords[3] at bin (ph, pw). */
export const PS_INPUT_CHANNEL = '(coords[3] * uniforms.pooledHeight + ph) * uniforms.pooledWidth + pw';

/** Position-sensitive ops, backward: the one bin (ph, pw) and output channel that input channel c feeds. */
export const PS_BIN_OF_CHANNEL = `
  fn psBinOfChannel(c : i32) -> vec3<i32> {
    return vec3<i32>((c / uniforms.pooledWidth) % uniforms.pooledHeight, c % uniforms.pooledWidth,
        c / (uniforms.pooledWidth * uniforms.pooledHeight));
  }
`;

/** roi_align: RoI k's row (ay) and column (ax) axes, see roiAxis. */
export const ROI_ALIGN_AXES = `
        let ay = roiAxis(getBoxes(k, 2), getBoxes(k, 4), uniforms.pooledHeight);
        let ax = roiAxis(getBoxes(k, 1), getBoxes(k, 3), uniforms.pooledWidth);`;

/** roi_align forward body (see forwardMain): the mean of the bilinear samples of bin (ph, pw) in channel c. */
export const ROI_ALIGN_BIN_MEAN = `
        ${ROI_ALIGN_AXES}
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
        setOutputAtIndex(index, result);`;

/**
 * roi_align backward: the weights of RoI k's bins at a pixel, read from the
 * tables RowWeights and ColWeights or computed from the boxes (see
 * roiAlignWeights of roi_common_glsl.ts).
 */
export function roiAlignWeights(fromTables: boolean): string {
  if (fromTables) {
    return `
      fn roiRowWeight(k : i32, ph : i32, h : i32) -> f32 {
        return getRowWeights(k, h, ph);
      }

      fn roiColWeight(k : i32, pw : i32, w : i32) -> f32 {
        return getColWeights(k, w, pw);
      }

      fn roiRowBins(k : i32, h : i32) -> vec2<i32> {
        let bins = i32(getRowWeights(k, h, uniforms.pooledHeight));
        return vec2<i32>(bins / (uniforms.pooledHeight + 1), bins % (uniforms.pooledHeight + 1) - 1);
      }

      fn roiColBins(k : i32, w : i32) -> vec2<i32> {
        let bins = i32(getColWeights(k, w, uniforms.pooledWidth));
        return vec2<i32>(bins / (uniforms.pooledWidth + 1), bins % (uniforms.pooledWidth + 1) - 1);
      }
    `;
  }
  return `
    // The samples that can reach pixel i lie in (i - 1, i + 1); clamped ones in [-1, 0] and (size - 1, size].
    fn roiPixelReach(i : i32, size : i32) -> vec2<f32> {
      let fi = f32(i);
      return vec2<f32>(max(fi - 1.0, -1.0), min(fi + 1.0, f32(size)));
    }

    // Bins of an axis whose samples can reach pixel i, one extra on each side.
    fn roiBinRange(axis : vec3<f32>, pooled : i32, i : i32, size : i32) -> vec2<i32> {
      if (!(axis.z > 0.0)) { return vec2<i32>(0, -1); }
      let reach = roiPixelReach(i, size);
      let start = axis.x;
      let bin = axis.y;
      if (bin == 0.0) {
        return select(vec2<i32>(0, -1), vec2<i32>(0, pooled - 1), start >= reach.x && start <= reach.y);
      }
      let u1 = (reach.x - start) / bin;
      let u2 = (reach.y - start) / bin;
      let first = clamp(floor(min(u1, u2)) - 1.0, 0.0, f32(pooled));
      let last = clamp(ceil(max(u1, u2)) + 1.0, -1.0, f32(pooled - 1));
      return vec2<i32>(i32(first), i32(last));
    }

    // Weight of pixel i in bin p of an axis, see roiTapWeight.
    fn roiPixelWeight(axis : vec3<f32>, p : i32, i : i32, size : i32) -> f32 {
      let reach = roiPixelReach(i, size);
      return roiTapWeight(axis, p, i, size, reach.x, reach.y);
    }

    // Weight of pixel row h in bin ph of an RoI of axes ay, ax, over its sample count.
    fn roiAxesRowWeight(ay : vec3<f32>, ax : vec3<f32>, ph : i32, h : i32) -> f32 {
      if (!(ay.z > 0.0 && ax.z > 0.0)) { return 0.0; }
      return roiPixelWeight(ay, ph, h, uniforms.height) / (ay.z * ax.z);
    }

    fn roiRowWeight(k : i32, ph : i32, h : i32) -> f32 {
      ${ROI_ALIGN_AXES}
      return roiAxesRowWeight(ay, ax, ph, h);
    }

    fn roiColWeight(k : i32, pw : i32, w : i32) -> f32 {
      return roiPixelWeight(roiAxis(getBoxes(k, 1), getBoxes(k, 3), uniforms.pooledWidth), pw, w, uniforms.width);
    }

    fn roiRowBins(k : i32, h : i32) -> vec2<i32> {
      ${ROI_ALIGN_AXES}
      return select(vec2<i32>(0, -1), roiBinRange(ay, uniforms.pooledHeight, h, uniforms.height), ax.z > 0.0);
    }

    fn roiColBins(k : i32, w : i32) -> vec2<i32> {
      return roiBinRange(roiAxis(getBoxes(k, 1), getBoxes(k, 3), uniforms.pooledWidth), uniforms.pooledWidth, w,
          uniforms.width);
    }
  `;
}

/**
 * roi_pool forward body, start (see forwardMain): rows and cols [lo, hi) of bin
 * (ph, pw) of RoI k, both empty for an invalid batch index; the RoI spans
 * end - start + `plusOne` and its bins are clipped to the map less `clip`
 * pixels (roi_pool: '1.0', 0; ps_roi_pool forward: '0.0', 1).
 */
export function poolRoiBins(plusOne: '1.0'|'0.0', clip: 0|1): string {
  const less = clip === 1 ? ' - 1' : '';
  return `
        var rows = vec2<i32>(0, 0);
        var cols = vec2<i32>(0, 0);
        if (roiBatchValid(b)) {
          rows = poolBin(poolAxis(getBoxes(k, 2), getBoxes(k, 4), uniforms.pooledHeight, ${plusOne}), ph, uniforms.height${less});
          cols = poolBin(poolAxis(getBoxes(k, 1), getBoxes(k, 3), uniforms.pooledWidth, ${plusOne}), pw, uniforms.width${less});
        }`;
}

/**
 * WGSL programs of deform_conv2d for the webgpu backend, channelsLast, the
 * math of kernels/reference/deform_conv2d.ts. The kernels (DeformConv2d.ts,
 * DeformConv2dGrad.ts) run them per chunk of output positions [p0, p0 + rows)
 * around the backend's own BatchMatMul:
 *  - columns: [groups, rows, Kg], Kg = Cg KH KW in HWIO row order (ij, c);
 *  - rows in / out: the chunk of dy read as [groups, rows, Cout / groups],
 *    and a matmul result written into its rows of the output;
 *  - offset and mask gradients: per sample (position, offset group, kernel
 *    point) its four corner sums over its channels of the column gradient,
 *    then the gradients from them;
 *  - input gradient: the translation of kernels/webgl/deform_conv2d_gpu.ts
 *    (see there): the chunk's samples sorted by cell per (image, offset
 *    group) (cell_sort_webgpu.ts), each dx value of the chunk's images adding
 *    its runs, in sorted order, to what earlier chunks left in dx.
 * Every program reads flat arrays and indexes them itself; shapes and
 * attributes are uniforms (one pipeline per program). A program declares only
 * the inputs its entry point reads (pipelines use layout 'auto', which drops
 * unused bindings), so the shared snippet is assembled per input list.
 */
import {webgpu_util} from '@tensorflow/tfjs-backend-webgpu';
import type {WebGPUProgram} from '@tensorflow/tfjs-backend-webgpu';
import {util} from '@tensorflow/tfjs-core';
import {DeformConv2d} from '../../src/kernel_names.ts';
import {SORTED_FIELDS} from '../gpu/cell_sort.ts';
import {DEFORM_FIELDS, deformValues} from '../gpu/uniforms.ts';
import {DeformGeometry} from '../reference/deform_conv2d.ts';
import {
  CELL_RUNS_SUM, SAMPLE_CELLS_MAIN, SORTED_CELL, SORTED_SAMPLE, SORTED_SAMPLES_MAIN, SORTED_TABLE,
} from './cell_sort_webgpu.ts';
import {ProgramUniforms, wgslUniforms, wgslValues} from './uniforms.ts';

export const DEFORM_UNIFORMS = wgslUniforms(DEFORM_FIELDS);

export function deformUniforms(g: DeformGeometry, p0: number, rows: number): ProgramUniforms {
  return wgslValues(DeformConv2d, DEFORM_FIELDS, deformValues(g, p0, rows));
}

/** WGSL helpers for a program reading `inputs` (Offset, X, Mask, Dcol when listed). */
function geometry(inputs: string[]) {
  const has = (name: string) => inputs.includes(name);
  const offset = has('Offset') ? `
  fn offsetValue(p : i32, ch : i32) -> f32 {
    return Offset[p * uniforms.offsetGroups * kk() * 2 + ch];
  }

  // (y, x) of kernel point ij of offset group og at output position p (float32, as torchvision).
  fn samplePosition(p : i32, og : i32, ij : i32) -> vec2<f32> {
    let ox = p % uniforms.outWidth;
    let oy = (p / uniforms.outWidth) % uniforms.outHeight;
    let i = ij / uniforms.kernelW;
    let j = ij % uniforms.kernelW;
    let ch = (og * kk() + ij) * 2;
    let y = f32(oy * uniforms.strideH - uniforms.padH + i * uniforms.dilationH) + offsetValue(p, ch);
    let x = f32(ox * uniforms.strideW - uniforms.padW + j * uniforms.dilationW) + offsetValue(p, ch + 1);
    return vec2<f32>(y, x);
  }` : '';
  const mask = has('Mask') ? `
  fn maskValue(p : i32, og : i32, ij : i32) -> f32 {
    if (uniforms.useMask == 0) { return 1.0; }
    return Mask[(p * uniforms.offsetGroups + og) * kk() + ij];
  }` : '';
  const x = has('X') ? `
  fn corner(b : i32, fy : f32, fx : f32, c : i32) -> f32 {
    if (!inside(fy, uniforms.height) || !inside(fx, uniforms.width)) { return 0.0; }
    return X[pixelIndex(b, fy, fx, c)];
  }

  // The four corner values (v00, v01, v10, v11) of channel c, 0 outside the map (no cut-off).
  fn corners(b : i32, pos : vec2<f32>, c : i32) -> vec4<f32> {
    let f = floor(pos);
    return vec4<f32>(corner(b, f.x, f.y, c), corner(b, f.x, f.y + 1.0, c),
        corner(b, f.x + 1.0, f.y, c), corner(b, f.x + 1.0, f.y + 1.0, c));
  }` : '';
  const dcol = has('Dcol') ? `
  // Column gradient of chunk row r, kernel point ij, channel c: Dcol [groups, rows, Kg].
  fn columnGrad(r : i32, ij : i32, c : i32) -> f32 {
    let cg = groupChannels();
    let g = c / cg;
    return Dcol[(g * uniforms.rows + r) * kk() * cg + ij * cg + (c - g * cg)];
  }` : '';
  return `
  fn kk() -> i32 { return uniforms.kernelH * uniforms.kernelW; }
  fn groupChannels() -> i32 { return uniforms.channels / uniforms.groups; }
  fn offsetGroupChannels() -> i32 { return uniforms.channels / uniforms.offsetGroups; }

  fn isFiniteF32(v : f32) -> bool {
    return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
  }

  // Whether pixel row (or column) f (a floor, any float) lies in [0, size).
  fn inside(f : f32, size : i32) -> bool {
    return f >= 0.0 && f < f32(size);
  }

  // Flat index of channel c of pixel (fy, fx) of image b; the caller checks inside().
  fn pixelIndex(b : i32, fy : f32, fx : f32, c : i32) -> i32 {
    return ((b * uniforms.height + i32(fy)) * uniforms.width + i32(fx)) * uniforms.channels + c;
  }

  // Whether the forward pass samples (y, x) at all (torchvision's cut-off; false for NaN).
  fn inRange(pos : vec2<f32>) -> bool {
    return pos.x > -1.0 && pos.x < f32(uniforms.height) && pos.y > -1.0 && pos.y < f32(uniforms.width);
  }

  // Bilinear weights (w00, w01, w10, w11) of an in-range sample.
  fn bilinearWeights(pos : vec2<f32>) -> vec4<f32> {
    let l = pos - floor(pos);
    let h = vec2<f32>(1.0) - l;
    return vec4<f32>(h.x * h.y, h.x * l.y, l.x * h.y, l.x * l.y);
  }
  ${offset}
  ${mask}
  ${x}
  ${dcol}
`;
}

/** The sort segments of a chunk (see deform_conv2d_gpu.ts). */
const CHUNK_SEGMENTS = `
  fn segmentSamples() -> i32 {
    return min(uniforms.rows, uniforms.outHeight * uniforms.outWidth) * kk();
  }

  fn chunkSample(g : i32, k : i32) -> i32 {
    return (g / uniforms.offsetGroups) * segmentSamples() + k;
  }

  fn imageCells() -> i32 {
    return (uniforms.height + 1) * (uniforms.width + 1);
  }
`;

const SAMPLE_CELL = `
  fn sampleCell(g : i32, k : i32) -> i32 {
    let t = chunkSample(g, k);
    let pos = samplePosition(uniforms.p0 + t / kk(), g % uniforms.offsetGroups, t % kk());
    if (!inRange(pos)) { return imageCells(); }
    let f = floor(pos);
    return (i32(f.x) + 1) * (uniforms.width + 1) + i32(f.y) + 1;
  }
`;

abstract class DeformProgram implements WebGPUProgram {
  abstract variableNames: string[];
  abstract shaderKey: string;
  uniforms = DEFORM_UNIFORMS;
  outputShape: number[];
  dispatchLayout: {x: number[]};
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;

  /**
   * `shape`: the elements the program writes (uniforms.size; the output may be
   * a larger tensor); one invocation per element, or `invocations`.
   */
  constructor(shape: number[], invocations = util.sizeFromShape(shape)) {
    this.outputShape = shape;
    this.dispatchLayout = webgpu_util.flatDispatchLayout(shape);
    this.dispatch = webgpu_util.computeDispatch({x: [0]}, [invocations], this.workgroupSize);
  }

  abstract getUserCode(): string;
}

/**
 * Columns [groups, rows, Kg] of the chunk: mask * bilinear sample, an
 * invocation per (weight group, row, kernel point) over the group's channels,
 * the sample taken once per offset group.
 */
export class DeformColumnsProgram extends DeformProgram {
  variableNames = ['X', 'Offset', 'Mask'];
  shaderKey = 'tfjsVisionOps_deformColumns';

  constructor(g: DeformGeometry, rows: number) {
    const kk = g.kernelHeight * g.kernelWidth;
    super([g.groups, rows, g.channels / g.groups * kk], g.groups * rows * kk);
  }

  getUserCode() {
    return `
      ${geometry(this.variableNames)}
      fn main(index : i32) {
        if (index >= uniforms.groups * uniforms.rows * kk()) { return; }
        let cg = groupChannels();
        let g = index / (uniforms.rows * kk());
        let r = (index / kk()) % uniforms.rows;
        let ij = index % kk();
        let p = uniforms.p0 + r;
        let b = p / (uniforms.outWidth * uniforms.outHeight);
        let row = (g * uniforms.rows + r) * kk() * cg + ij * cg - g * cg;
        var c = g * cg;
        let end = c + cg;
        loop {
          if (c >= end) { break; }
          let og = c / offsetGroupChannels();
          let segEnd = min(end, (og + 1) * offsetGroupChannels());
          let pos = samplePosition(p, og, ij);
          let m = maskValue(p, og, ij);
          if (inRange(pos)) {
            let w = bilinearWeights(pos);
            for (; c < segEnd; c++) {
              let x = corners(b, pos, c);
              result[row + c] = m * (w.x * x.x + w.y * x.y + w.z * x.z + w.w * x.w);
            }
          } else {
            for (; c < segEnd; c++) {
              result[row + c] = m * 0.0;
            }
          }
        }
      }
    `;
  }
}

/** dy rows [p0, p0 + rows) as [groups, rows, Cout / groups]. */
export class DeformRowsInProgram extends DeformProgram {
  variableNames = ['Dy'];
  shaderKey = 'tfjsVisionOps_deformRowsIn';

  constructor(g: DeformGeometry, rows: number) {
    super([g.groups, rows, g.outChannels / g.groups]);
  }

  getUserCode() {
    return `
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let cog = uniforms.outChannels / uniforms.groups;
        let g = index / (uniforms.rows * cog);
        let r = (index / cog) % uniforms.rows;
        let co = index % cog;
        setOutputAtIndex(index, Dy[(uniforms.p0 + r) * uniforms.outChannels + g * cog + co]);
      }
    `;
  }
}

/** Writes a [groups, rows, Cout / groups] product into rows [p0, p0 + rows) of the [B OH OW, Cout] output. */
export class DeformRowsOutProgram extends DeformProgram {
  variableNames = ['Product'];
  shaderKey = 'tfjsVisionOps_deformRowsOut';

  constructor(g: DeformGeometry, rows: number) {
    super([g.groups, rows, g.outChannels / g.groups]);
  }

  getUserCode() {
    return `
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let cog = uniforms.outChannels / uniforms.groups;
        let g = index / (uniforms.rows * cog);
        let r = (index / cog) % uniforms.rows;
        let co = index % cog;
        setOutputAtIndex((uniforms.p0 + r) * uniforms.outChannels + g * cog + co, Product[index]);
      }
    `;
  }
}

/**
 * Corner sums [rows, OG KK, 4] of the chunk's samples (see
 * deform_conv2d_gpu.ts), an invocation per sample for all four corners.
 */
export class DeformCornerSumsProgram extends DeformProgram {
  variableNames = ['X', 'Offset', 'Dcol'];
  shaderKey = 'tfjsVisionOps_deformCornerSums';

  constructor(g: DeformGeometry, rows: number) {
    const samples = rows * g.offsetGroups * g.kernelHeight * g.kernelWidth;
    super([rows, g.offsetGroups * g.kernelHeight * g.kernelWidth, 4], samples);
  }

  getUserCode() {
    return `
      ${geometry(this.variableNames)}
      fn cornerSums(r : i32, og : i32, ij : i32) -> vec4<f32> {
        let p = uniforms.p0 + r;
        let pos = samplePosition(p, og, ij);
        var sum = vec4<f32>(0.0);
        if (!isFiniteF32(pos.x) || !isFiniteF32(pos.y)) { return sum; }
        let b = p / (uniforms.outHeight * uniforms.outWidth);
        let cpog = offsetGroupChannels();
        for (var c = og * cpog; c < (og + 1) * cpog; c++) {
          sum += columnGrad(r, ij, c) * corners(b, pos, c);
        }
        return sum;
      }

      fn main(index : i32) {
        if (index >= uniforms.rows * uniforms.offsetGroups * kk()) { return; }
        let s = index % (uniforms.offsetGroups * kk());
        let sum = cornerSums(index / (uniforms.offsetGroups * kk()), s / kk(), s % kk());
        for (var q = 0; q < 4; q++) {
          result[4 * index + q] = sum[q];
        }
      }
    `;
  }
}

const SAMPLE_GRAD = `
  fn sampleGrad(p : i32, og : i32, ij : i32, part : i32, s : vec4<f32>) -> f32 {
    let pos = samplePosition(p, og, ij);
    if (!isFiniteF32(pos.x) || !isFiniteF32(pos.y)) { return 0.0; }
    if (part == 2) { return select(0.0, dot(bilinearWeights(pos), s), inRange(pos)); }
    let l = pos - floor(pos);
    let v = select(l.x * (s.w - s.z) + (1.0 - l.x) * (s.y - s.x), l.y * (s.w - s.y) + (1.0 - l.y) * (s.z - s.x),
        part == 0);
    return maskValue(p, og, ij) * v;
  }
`;

/**
 * The chunk's offset gradient ('offset') or mask gradient ('mask') from
 * Offset, Mask and Sums, written at its place in the full dOffset / dMask.
 */
export class DeformSampleGradProgram extends DeformProgram {
  variableNames = ['Offset', 'Mask', 'Sums'];
  shaderKey: string;

  constructor(g: DeformGeometry, rows: number, readonly what: 'offset'|'mask') {
    super([rows, g.offsetGroups * g.kernelHeight * g.kernelWidth * (what === 'offset' ? 2 : 1)]);
    this.shaderKey = `tfjsVisionOps_deformSampleGrad_${what}`;
  }

  getUserCode() {
    const offset = this.what === 'offset';
    return `
      ${geometry(this.variableNames)}
      ${SAMPLE_GRAD}
      fn cornerSumsAt(i : i32) -> vec4<f32> {
        return vec4<f32>(Sums[4 * i], Sums[4 * i + 1], Sums[4 * i + 2], Sums[4 * i + 3]);
      }

      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let s = index / ${offset ? 2 : 1};
        let first = uniforms.p0 * uniforms.offsetGroups * kk() * ${offset ? 2 : 1};
        let ogij = s % (uniforms.offsetGroups * kk());
        setOutputAtIndex(first + index, sampleGrad(uniforms.p0 + s / (uniforms.offsetGroups * kk()), ogij / kk(),
            ogij % kk(), ${offset ? 'index % 2' : '2'}, cornerSumsAt(s)));
      }
    `;
  }
}

/** Cells [images OG n] (int32) of the chunk's samples, from Offset. */
export class DeformCellsProgram extends DeformProgram {
  variableNames = ['Offset'];
  shaderKey = 'tfjsVisionOps_deformCells';

  constructor(samples: number) {
    super([samples]);
  }

  getUserCode() {
    return `
      ${geometry(this.variableNames)}
      ${CHUNK_SEGMENTS}
      ${SAMPLE_CELL}
      ${SAMPLE_CELLS_MAIN}
    `;
  }
}

const SORTED_FIELD = `
  fn sortedField(g : i32, at : i32, part : i32) -> f32 {
    let t = chunkSample(g, sortedSample(g, at));
    let p = uniforms.p0 + t / kk();
    if (part < 4) {
      let w = bilinearWeights(samplePosition(p, g % uniforms.offsetGroups, t % kk()));
      return w[part];
    }
    if (part == 4) { return maskValue(p, g % uniforms.offsetGroups, t % kk()); }
    if (part == 5) { return f32(t); }
    return f32(sortedCell(g, at));
  }
`;

/** SortedSamples [images OG n SORTED_FIELDS] from Offset, Mask and Pairs. */
export class DeformSortedSamplesProgram extends DeformProgram {
  variableNames = ['Offset', 'Mask', 'Pairs'];
  shaderKey = 'tfjsVisionOps_deformSortedSamples';

  constructor(samples: number) {
    super([samples * SORTED_FIELDS]);
  }

  getUserCode() {
    return `
      ${geometry(this.variableNames)}
      ${CHUNK_SEGMENTS}
      ${SORTED_SAMPLE}
      ${SORTED_CELL}
      ${SORTED_FIELD}
      ${SORTED_SAMPLES_MAIN}
    `;
  }
}

const INPUT_GRAD = `
  fn sortedRowValue(t : i32, c : i32) -> f32 {
    return columnGrad(t / kk(), t % kk(), c);
  }

  ${CELL_RUNS_SUM}

  fn inputGrad(b : i32, y : i32, x : i32, c : i32) -> f32 {
    let g = b * uniforms.offsetGroups + c / offsetGroupChannels();
    let row = g * (imageCells() + 1) + y * (uniforms.width + 1) + x;
    let below = row + uniforms.width + 1;
    let above = vec3<i32>(cellStart(row), cellStart(row + 1), cellStart(row + 2));
    let under = vec3<i32>(cellStart(below), cellStart(below + 1), cellStart(below + 2));
    if (above.x == under.z) { return 0.0; }
    return cellRunsSum(g, above, under, c);
  }
`;

/** Adds the chunk's part to dx [B, H, W, C] at its images, from SortedSamples, Starts and Dcol. */
export class DeformInputGradProgram extends DeformProgram {
  variableNames = ['SortedSamples', 'Starts', 'Dcol'];
  shaderKey = 'tfjsVisionOps_deformInputGrad';

  constructor(g: DeformGeometry, images: number) {
    super([images, g.height, g.width, g.channels]);
  }

  getUserCode() {
    return `
      ${geometry(this.variableNames)}
      ${CHUNK_SEGMENTS}
      ${SORTED_TABLE}
      fn cellStart(i : i32) -> i32 {
        return i32(Starts[i]);
      }
      ${INPUT_GRAD}
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let c = index % uniforms.channels;
        let x = (index / uniforms.channels) % uniforms.width;
        let y = (index / (uniforms.channels * uniforms.width)) % uniforms.height;
        let b = index / (uniforms.channels * uniforms.width * uniforms.height);
        let at = uniforms.p0 / (uniforms.outHeight * uniforms.outWidth) * uniforms.height * uniforms.width *
            uniforms.channels + index;
        result[at] = result[at] + inputGrad(b, y, x, c);
      }
    `;
  }
}

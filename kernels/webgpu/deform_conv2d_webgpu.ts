/**
 * WGSL programs of deform_conv2d for the webgpu backend, channelsLast, the
 * math of kernels/reference/deform_conv2d.ts. The kernels (DeformConv2d.ts,
 * DeformConv2dGrad.ts) run them per chunk of output positions [p0, p0 + rows)
 * around the backend's own BatchMatMul:
 *  - columns: [groups, rows, Kg], Kg = Cg KH KW in HWIO row order (ij, c);
 *  - rows in / out: the chunk of dy read as [groups, rows, Cout / groups],
 *    and a matmul result written into its rows of the output;
 *  - offset and mask gradients: one invocation per (position, offset group,
 *    kernel point), a loop over its channels of the column gradient;
 *  - input gradient: one invocation per (position, kernel point, channel),
 *    adding into dx with a compare-exchange loop on atomic<i32> (WGSL has no
 *    float atomics).
 * Every program reads flat arrays and indexes them itself; shapes and
 * attributes are uniforms (one pipeline per program). A program declares only
 * the inputs its entry point reads (pipelines use layout 'auto', which drops
 * unused bindings), so the shared snippet is assembled per input list.
 */
import {webgpu_util} from '@tensorflow/tfjs-backend-webgpu';
import type {WebGPUProgram} from '@tensorflow/tfjs-backend-webgpu';
import {DeformConv2d} from '../../src/kernel_names.ts';
import {DEFORM_FIELDS, deformValues} from '../gpu/uniforms.ts';
import {DeformGeometry} from '../reference/deform_conv2d.ts';
import {ProgramUniforms, wgslUniforms, wgslValues} from './uniforms.ts';

export const DEFORM_UNIFORMS = wgslUniforms(DEFORM_FIELDS);

export function deformUniforms(g: DeformGeometry, p0: number, rows: number): ProgramUniforms {
  return wgslValues(DeformConv2d, DEFORM_FIELDS, deformValues(g, p0, rows));
}

/** WGSL helpers for a program reading `inputs` (always Offset; X and Mask when listed). */
function geometry(inputs: string[]) {
  const mask = inputs.includes('Mask') ? `
  fn maskValue(p : i32, og : i32, ij : i32) -> f32 {
    if (uniforms.useMask == 0) { return 1.0; }
    return Mask[(p * uniforms.offsetGroups + og) * kk() + ij];
  }` : '';
  const x = inputs.includes('X') ? `
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
  return `
  fn kk() -> i32 { return uniforms.kernelH * uniforms.kernelW; }
  fn groupChannels() -> i32 { return uniforms.channels / uniforms.groups; }
  fn offsetGroupChannels() -> i32 { return uniforms.channels / uniforms.offsetGroups; }

  // (y, x) of kernel point ij of offset group og at output position p (float32, as torchvision).
  fn samplePosition(p : i32, og : i32, ij : i32) -> vec2<f32> {
    let ox = p % uniforms.outWidth;
    let oy = (p / uniforms.outWidth) % uniforms.outHeight;
    let i = ij / uniforms.kernelW;
    let j = ij % uniforms.kernelW;
    let o = ((p * uniforms.offsetGroups + og) * kk() + ij) * 2;
    let y = f32(oy * uniforms.strideH - uniforms.padH + i * uniforms.dilationH) + Offset[o];
    let x = f32(ox * uniforms.strideW - uniforms.padW + j * uniforms.dilationW) + Offset[o + 1];
    return vec2<f32>(y, x);
  }

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

  // Index in a [groups, rows, Kg] column buffer of chunk row r, kernel point ij, channel c.
  fn columnIndex(r : i32, ij : i32, c : i32) -> i32 {
    let cg = groupChannels();
    let g = c / cg;
    return (g * uniforms.rows + r) * kk() * cg + ij * cg + (c - g * cg);
  }
  ${mask}
  ${x}
`;
}

abstract class DeformProgram implements WebGPUProgram {
  abstract variableNames: string[];
  abstract shaderKey: string;
  uniforms = DEFORM_UNIFORMS;
  outputShape: number[];
  dispatchLayout: {x: number[]};
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;

  /** `shape` sets the invocations (one per element); the output may be a larger tensor. */
  constructor(shape: number[]) {
    this.outputShape = shape;
    this.dispatchLayout = webgpu_util.flatDispatchLayout(shape);
    this.dispatch = webgpu_util.computeDispatch(this.dispatchLayout, shape, this.workgroupSize);
  }

  abstract getUserCode(): string;
}

/** Columns [groups, rows, Kg] of the chunk: mask * bilinear sample. */
export class DeformColumnsProgram extends DeformProgram {
  variableNames = ['X', 'Offset', 'Mask'];
  shaderKey = 'tfjsVisionOps_deformColumns';

  constructor(g: DeformGeometry, rows: number) {
    super([g.groups, rows, g.channels / g.groups * g.kernelHeight * g.kernelWidth]);
  }

  getUserCode() {
    return `
      ${geometry(this.variableNames)}
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let cg = groupChannels();
        let kg = kk() * cg;
        let g = index / (uniforms.rows * kg);
        let r = (index / kg) % uniforms.rows;
        let k = index % kg;
        let ij = k / cg;
        let c = g * cg + k % cg;
        let og = c / offsetGroupChannels();
        let p = uniforms.p0 + r;
        let pos = samplePosition(p, og, ij);
        var v = 0.0;
        if (inRange(pos)) {
          let w = bilinearWeights(pos);
          let b = p / (uniforms.outHeight * uniforms.outWidth);
          let x = corners(b, pos, c);
          v = w.x * x.x + w.y * x.y + w.z * x.z + w.w * x.w;
        }
        setOutputAtIndex(index, maskValue(p, og, ij) * v);
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
 * Offset gradient (component 'y' or 'x') or mask gradient ('mask') of the
 * chunk's samples, written at their place in the full dOffset / dMask.
 * Channel sums of dcol times the corner values; the offset gradient takes
 * torchvision's floor corners without the -1 cut-off.
 */
export class DeformSampleGradProgram extends DeformProgram {
  variableNames: string[];
  shaderKey: string;

  /** Inputs X, Offset, Mask (offset gradient only), Dcol. */
  constructor(g: DeformGeometry, rows: number, readonly what: 'offset'|'mask') {
    super([rows, g.offsetGroups, g.kernelHeight * g.kernelWidth, what === 'offset' ? 2 : 1]);
    this.shaderKey = `tfjsVisionOps_deformSampleGrad_${what}`;
    this.variableNames = what === 'offset' ? ['X', 'Offset', 'Mask', 'Dcol'] : ['X', 'Offset', 'Dcol'];
  }

  getUserCode() {
    const offset = this.what === 'offset';
    return `
      ${geometry(this.variableNames)}
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let parts = ${offset ? 2 : 1};
        let sample = index / parts;
        let r = sample / (uniforms.offsetGroups * kk());
        let og = (sample / kk()) % uniforms.offsetGroups;
        let ij = sample % kk();
        let p = uniforms.p0 + r;
        let pos = samplePosition(p, og, ij);
        let first = (uniforms.p0 * uniforms.offsetGroups * kk()) * parts;
        if (!isFiniteF32(pos.x) || !isFiniteF32(pos.y) || ${offset ? 'false' : '!inRange(pos)'}) {
          setOutputAtIndex(first + index, 0.0);
          return;
        }
        let b = p / (uniforms.outHeight * uniforms.outWidth);
        let cog = offsetGroupChannels();
        var s = vec4<f32>(0.0);
        for (var c = og * cog; c < (og + 1) * cog; c++) {
          s += Dcol[columnIndex(r, ij, c)] * corners(b, pos, c);
        }
        ${offset ? `
        let l = pos - floor(pos);
        var v : f32;
        if (index % 2 == 0) {
          v = l.y * (s.w - s.y) + (1.0 - l.y) * (s.z - s.x);
        } else {
          v = l.x * (s.w - s.z) + (1.0 - l.x) * (s.y - s.x);
        }
        setOutputAtIndex(first + index, maskValue(p, og, ij) * v);` : `
        setOutputAtIndex(first + index, dot(bilinearWeights(pos), s));`}
      }
    `;
  }
}

/** dx += mask * bilinear weight * dcol at the four corners of every in-range sample (atomic adds). */
export class DeformInputGradProgram extends DeformProgram {
  variableNames = ['Offset', 'Mask', 'Dcol'];
  shaderKey = 'tfjsVisionOps_deformInputGrad';
  atomic = true;

  constructor(g: DeformGeometry, rows: number) {
    super([rows, g.kernelHeight * g.kernelWidth, g.channels]);
  }

  getUserCode() {
    return `
      ${geometry(this.variableNames)}
      fn addAt(b : i32, fy : f32, fx : f32, c : i32, v : f32) {
        if (!inside(fy, uniforms.height) || !inside(fx, uniforms.width)) { return; }
        let i = pixelIndex(b, fy, fx, c);
        var old = atomicLoad(&result[i]);
        loop {
          let next = bitcast<i32>(bitcast<f32>(old) + v);
          let swapped = atomicCompareExchangeWeak(&result[i], old, next);
          if (swapped.exchanged) { break; }
          old = swapped.old_value;
        }
      }

      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let r = index / (kk() * uniforms.channels);
        let ij = (index / uniforms.channels) % kk();
        let c = index % uniforms.channels;
        let og = c / offsetGroupChannels();
        let p = uniforms.p0 + r;
        let pos = samplePosition(p, og, ij);
        if (!inRange(pos)) { return; }
        let g = maskValue(p, og, ij) * Dcol[columnIndex(r, ij, c)];
        let w = bilinearWeights(pos) * g;
        let f = floor(pos);
        let b = p / (uniforms.outHeight * uniforms.outWidth);
        addAt(b, f.x, f.y, c, w.x);
        addAt(b, f.x, f.y + 1.0, c, w.y);
        addAt(b, f.x + 1.0, f.y, c, w.z);
        addAt(b, f.x + 1.0, f.y + 1.0, c, w.w);
      }
    `;
  }
}

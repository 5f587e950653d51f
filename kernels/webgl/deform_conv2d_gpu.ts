/**
 * GLSL programs of deform_conv2d for the webgl backend (WebGL2), channelsLast,
 * the math of kernels/reference/deform_conv2d.ts. A webgl program writes a
 * whole output texture, one value per invocation: no scatter, no atomics, no
 * writes into part of a texture. Two ways to run (DeformConv2d.ts chooses):
 *  - one shot, when the columns of all positions fit in 16 column budgets:
 *    columns [groups, B OH OW, Kg] and the backend's BatchMatMul forward;
 *    backward the column gradient dcol = dy . W^T and dW = col^T . dy the
 *    same way, dcol read by the gathers below;
 *  - no temporaries, for larger inputs: forward, each output value sums its
 *    weight group's Cin / groups * KH * KW bilinear samples; backward, the
 *    gathers compute each column gradient inline (dy . W over the group), and
 *    dW goes by chunks of positions (columns, dy rows, BatchMatMul, added up).
 * The gathers: offset and mask gradients, one value per (position, offset
 * group, kernel point[, axis]); dx, each value visiting the output positions
 * whose samples can reach its pixel. A sample of kernel row i lands within 1
 * of pixel y only if |oy sh - ph + i dh - y| < 1 + R, R the largest |offset|
 * of any sample the forward pass takes (in range), computed on the GPU first
 * (DeformReachProgram, then the backend's Max): the loops span that window, so
 * the work per dx value grows with R^2 (up to all positions when R is huge):
 * typical offsets of a few pixels are cheap, wild ones slow but exact.
 * Shapes and attributes are uniforms; the mask is a shader variant (absent:
 * 1).
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import {DeformConv2d} from '../../src/kernel_names.ts';
import {DEFORM_FIELDS, deformValues} from '../gpu/uniforms.ts';
import {DeformGeometry} from '../reference/deform_conv2d.ts';
import {glslUniforms, glslValues} from './uniforms.ts';

const DEFORM_UNIFORMS = glslUniforms(DEFORM_FIELDS);

export function deformUniforms(g: DeformGeometry, p0 = 0, rows = 0): number[][] {
  return glslValues(DeformConv2d, DEFORM_FIELDS, deformValues(g, p0, rows));
}

/** GLSL helpers for a program reading `inputs` (always Offset; X, Mask, Dy and Weight when listed). */
function geometry(inputs: string[]) {
  const has = (name: string) => inputs.includes(name);
  const x = has('X') ? `
  // Value of channel c at pixel (fy, fx) (floors as floats, any finite value); 0 outside the map.
  float corner(int b, float fy, float fx, int c) {
    if (!(fy >= 0.0 && fy < float(height) && fx >= 0.0 && fx < float(width))) return 0.0;
    return getX(b, int(fy), int(fx), c);
  }

  // (v00, v01, v10, v11) of channel c around pos, floor corners, no cut-off.
  vec4 corners(int b, vec2 pos, int c) {
    vec2 f = floor(pos);
    return vec4(corner(b, f.x, f.y, c), corner(b, f.x, f.y + 1.0, c),
        corner(b, f.x + 1.0, f.y, c), corner(b, f.x + 1.0, f.y + 1.0, c));
  }` : '';
  // Column gradient of channel c, kernel point (i, j) at (b, oy, ox): read from Dcol [groups, B OH OW, Kg]
  // when the kernel computed it, else dy . W over c's weight group, inline.
  const columnGrad = has('Dcol') ? `
  float columnGrad(int b, int oy, int ox, int i, int j, int c) {
    int cg = groupChannels();
    int g = c / cg;
    return getDcol(g, (b * outHeight + oy) * outWidth + ox, (i * kernelW + j) * cg + c - g * cg);
  }` : has('Dy') && has('Weight') ? `
  float columnGrad(int b, int oy, int ox, int i, int j, int c) {
    int cg = groupChannels();
    int cog = outChannels / groups;
    int g = c / cg;
    float sum = 0.0;
    for (int co = g * cog; co < (g + 1) * cog; co++) {
      sum += getDy(b, oy, ox, co) * getWeight(i, j, c - g * cg, co);
    }
    return sum;
  }` : '';
  return `
  int kk() { return kernelH * kernelW; }
  int groupChannels() { return channels / groups; }
  int offsetGroupChannels() { return channels / offsetGroups; }

  // (y, x) of kernel point (i, j) of offset group og at output position (b, oy, ox), float32 as torchvision.
  vec2 samplePosition(int b, int oy, int ox, int og, int i, int j) {
    int ch = (og * kk() + i * kernelW + j) * 2;
    float y = float(oy * strideH - padH + i * dilationH) + getOffset(b, oy, ox, ch);
    float x = float(ox * strideW - padW + j * dilationW) + getOffset(b, oy, ox, ch + 1);
    return vec2(y, x);
  }

  float maskValue(int b, int oy, int ox, int og, int ij) {
    ${has('Mask') ? 'return getMask(b, oy, ox, og * kk() + ij);' : 'return 1.0;'}
  }

  bool isFiniteFloat(float v) {
    return (floatBitsToUint(v) & 0x7f800000u) != 0x7f800000u;
  }

  // Whether the forward pass samples pos at all (torchvision's cut-off; false for NaN).
  bool inRange(vec2 pos) {
    return pos.x > -1.0 && pos.x < float(height) && pos.y > -1.0 && pos.y < float(width);
  }

  vec4 bilinearWeights(vec2 pos) {
    vec2 l = pos - floor(pos);
    vec2 h = vec2(1.0) - l;
    return vec4(h.x * h.y, h.x * l.y, l.x * h.y, l.x * l.y);
  }

  ${x}
  ${columnGrad}
`;
}

abstract class DeformProgram implements GPGPUProgram {
  abstract variableNames: string[];
  abstract userCode: string;
  outputShape: number[];
  enableShapeUniforms = true;
  customUniforms = DEFORM_UNIFORMS;

  constructor(outputShape: number[]) {
    this.outputShape = outputShape;
  }
}

/** out[B, OH, OW, Cout] from X, Offset, [Mask,] Weight (HWIO). */
export class DeformForwardProgram extends DeformProgram {
  variableNames: string[];
  userCode: string;

  constructor(g: DeformGeometry) {
    super([g.batch, g.outHeight, g.outWidth, g.outChannels]);
    this.variableNames = g.useMask ? ['X', 'Offset', 'Mask', 'Weight'] : ['X', 'Offset', 'Weight'];
    this.userCode = `
      ${geometry(this.variableNames)}
      void main() {
        ivec4 o = getOutputCoords();
        int b = o[0], oy = o[1], ox = o[2], co = o[3];
        int cg = groupChannels(), cpog = offsetGroupChannels();
        int g = co / (outChannels / groups);
        float sum = 0.0;
        for (int i = 0; i < kernelH; i++) {
          for (int j = 0; j < kernelW; j++) {
            int c = g * cg;
            int end = c + cg;
            while (c < end) {  // one offset group's channels at a time
              int og = c / cpog;
              int segEnd = min(end, (og + 1) * cpog);
              vec2 pos = samplePosition(b, oy, ox, og, i, j);
              if (inRange(pos)) {
                float m = maskValue(b, oy, ox, og, i * kernelW + j);
                vec4 w = bilinearWeights(pos);
                for (; c < segEnd; c++) {
                  vec4 v = corners(b, pos, c);
                  sum += getWeight(i, j, c - g * cg, co) * (m * (w.x * v.x + w.y * v.y + w.z * v.z + w.w * v.w));
                }
              }
              c = segEnd;
            }
          }
        }
        setOutput(sum);
      }
    `;
  }
}

/**
 * dOffset [B, OH, OW, 2 OG KK] ('offset') or dMask [B, OH, OW, OG KK]
 * ('mask') from X, Offset, [Mask,] and the column gradient: Dcol, or Weight
 * and Dy (`gradInputs`).
 */
export class DeformSampleGradProgram extends DeformProgram {
  variableNames: string[];
  userCode: string;

  constructor(g: DeformGeometry, what: 'offset'|'mask', gradInputs: string[]) {
    const kk = g.kernelHeight * g.kernelWidth;
    super([g.batch, g.outHeight, g.outWidth, g.offsetGroups * kk * (what === 'offset' ? 2 : 1)]);
    this.variableNames = [...(g.useMask ? ['X', 'Offset', 'Mask'] : ['X', 'Offset']), ...gradInputs];
    const offset = what === 'offset';
    this.userCode = `
      ${geometry(this.variableNames)}
      void main() {
        ivec4 o = getOutputCoords();
        int b = o[0], oy = o[1], ox = o[2];
        int s = o[3] / ${offset ? 2 : 1};
        int og = s / kk(), ij = s - og * kk();
        int i = ij / kernelW, j = ij - i * kernelW;
        vec2 pos = samplePosition(b, oy, ox, og, i, j);
        if (!isFiniteFloat(pos.x) || !isFiniteFloat(pos.y) || ${offset ? 'false' : '!inRange(pos)'}) {
          setOutput(0.0);
          return;
        }
        int cpog = offsetGroupChannels();
        vec4 sums = vec4(0.0);
        for (int c = og * cpog; c < (og + 1) * cpog; c++) {
          sums += columnGrad(b, oy, ox, i, j, c) * corners(b, pos, c);
        }
        ${offset ? `
        vec2 l = pos - floor(pos);
        float v = o[3] - s * 2 == 0 ?
            l.y * (sums.w - sums.y) + (1.0 - l.y) * (sums.z - sums.x) :
            l.x * (sums.w - sums.z) + (1.0 - l.x) * (sums.y - sums.x);
        setOutput(maskValue(b, oy, ox, og, ij) * v);` : `
        setOutput(dot(bilinearWeights(pos), sums));`}
      }
    `;
  }
}

/** Per sample [B, OH, OW, OG KK]: max(|dy|, |dx|) of its offset when the forward pass takes it, else 0. */
export class DeformReachProgram extends DeformProgram {
  variableNames = ['Offset'];
  userCode: string;

  constructor(g: DeformGeometry) {
    super([g.batch, g.outHeight, g.outWidth, g.offsetGroups * g.kernelHeight * g.kernelWidth]);
    this.userCode = `
      int kk() { return kernelH * kernelW; }
      void main() {
        ivec4 o = getOutputCoords();
        int og = o[3] / kk(), ij = o[3] - og * kk();
        int i = ij / kernelW, j = ij - i * kernelW;
        float dy = getOffset(o[0], o[1], o[2], o[3] * 2), dx = getOffset(o[0], o[1], o[2], o[3] * 2 + 1);
        float y = float(o[1] * strideH - padH + i * dilationH) + dy;
        float x = float(o[2] * strideW - padW + j * dilationW) + dx;
        bool taken = y > -1.0 && y < float(height) && x > -1.0 && x < float(width);
        setOutput(taken ? max(abs(dy), abs(dx)) : 0.0);
      }
    `;
  }
}

/** dx [B, H, W, C] from Offset, [Mask,] the column gradient (`gradInputs`) and Reach (the R of the file comment). */
export class DeformInputGradProgram extends DeformProgram {
  variableNames: string[];
  userCode: string;

  constructor(g: DeformGeometry, gradInputs: string[]) {
    super([g.batch, g.height, g.width, g.channels]);
    this.variableNames = [...(g.useMask ? ['Offset', 'Mask'] : ['Offset']), ...gradInputs, 'Reach'];
    this.userCode = `
      ${geometry(this.variableNames)}

      // Output rows (or columns) [lo, hi] whose kernel offset k can bring a sample within 1 + R of pixel q.
      ivec2 window(int q, int k, int pad, int dilation, int stride, int size, float reach) {
        float base = float(q + pad - k * dilation);
        float lo = floor((base - 1.0 - reach) / float(stride));
        float hi = ceil((base + 1.0 + reach) / float(stride));
        return ivec2(int(clamp(lo, 0.0, float(size))), int(clamp(hi, -1.0, float(size - 1))));
      }

      void main() {
        ivec4 o = getOutputCoords();
        int b = o[0], y = o[1], x = o[2], c = o[3];
        int og = c / offsetGroupChannels();
        float reach = getReach();
        float fy = float(y), fx = float(x);
        float sum = 0.0;
        for (int i = 0; i < kernelH; i++) {
          ivec2 rowsSpan = window(y, i, padH, dilationH, strideH, outHeight, reach);
          for (int j = 0; j < kernelW; j++) {
            ivec2 colsSpan = window(x, j, padW, dilationW, strideW, outWidth, reach);
            for (int oy = rowsSpan.x; oy <= rowsSpan.y; oy++) {
              for (int ox = colsSpan.x; ox <= colsSpan.y; ox++) {
                vec2 pos = samplePosition(b, oy, ox, og, i, j);
                if (!inRange(pos)) continue;
                float ay = abs(pos.x - fy), ax = abs(pos.y - fx);
                if (ay < 1.0 && ax < 1.0) {
                  sum += maskValue(b, oy, ox, og, i * kernelW + j) * (1.0 - ay) * (1.0 - ax) *
                      columnGrad(b, oy, ox, i, j, c);
                }
              }
            }
          }
        }
        setOutput(sum);
      }
    `;
  }
}

/** Columns [groups, rows, Kg] of positions [p0, p0 + rows) (HWIO row order). */
export class DeformColumnsProgram extends DeformProgram {
  variableNames: string[];
  userCode: string;

  constructor(g: DeformGeometry, rows: number) {
    const kg = g.channels / g.groups * g.kernelHeight * g.kernelWidth;
    super([g.groups, rows, kg]);
    this.variableNames = g.useMask ? ['X', 'Offset', 'Mask'] : ['X', 'Offset'];
    this.userCode = `
      ${geometry(this.variableNames)}
      void main() {
        ivec3 o = getOutputCoords();
        int cg = groupChannels();
        int ij = o[2] / cg;
        int c = o[0] * cg + o[2] - ij * cg;
        int p = p0 + o[1];
        int ox = p - (p / outWidth) * outWidth;
        int oy = (p / outWidth) - (p / (outWidth * outHeight)) * outHeight;
        int b = p / (outWidth * outHeight);
        int og = c / offsetGroupChannels();
        int i = ij / kernelW, j = ij - i * kernelW;
        vec2 pos = samplePosition(b, oy, ox, og, i, j);
        float v = 0.0;
        if (inRange(pos)) {
          vec4 w = bilinearWeights(pos);
          vec4 x = corners(b, pos, c);
          v = w.x * x.x + w.y * x.y + w.z * x.z + w.w * x.w;
        }
        setOutput(maskValue(b, oy, ox, og, ij) * v);
      }
    `;
  }
}

/** dy rows [p0, p0 + rows) as [groups, rows, Cout / groups] (Dy viewed as [B OH OW, Cout]). */
export class DeformRowsInProgram extends DeformProgram {
  variableNames = ['Dy'];
  userCode = `
    void main() {
      ivec3 o = getOutputCoords();
      int cog = outChannels / groups;
      setOutput(getDy(p0 + o[1], o[0] * cog + o[2]));
    }
  `;

  constructor(g: DeformGeometry, rows: number) {
    super([g.groups, rows, g.outChannels / g.groups]);
  }
}

/**
 * GLSL programs of deform_conv2d for the webgl backend (WebGL2), channelsLast,
 * the math of kernels/reference/deform_conv2d.ts. A webgl program writes a
 * whole output texture, one value per invocation: no scatter, no atomics, no
 * writes into part of a texture.
 *  - Forward (DeformConv2d.ts): columns [groups, B OH OW, Kg] and the
 *    backend's BatchMatMul when the columns of all positions fit 16 column
 *    budgets, else DeformForwardProgram: each output value sums its weight
 *    group's Cin / groups * KH * KW bilinear samples (no temporaries).
 *  - Backward (DeformConv2dGrad.ts), per chunk of output positions
 *    [p0, p0 + rows) (kernels/gpu/deform_conv2d.ts): the column gradient
 *    dcol = dy . W^T and dW += col^T . dy by BatchMatMul; the chunk's offset
 *    and mask gradients from each sample's corner sums (dcol times the corner
 *    value over its offset group's channels); dx by the segmented cell sort
 *    (cell_sort_gpu.ts): each (image, offset group) of the chunk is a segment
 *    of its samples (position, kernel point), sorted by the cell of their
 *    top-left corner, and each dx value sums mask * corner weight * dcol over
 *    the runs of the four cells whose samples have its pixel as a corner, in
 *    sorted order. Work: what the samples cover, whatever the offsets.
 * Shapes and attributes are uniforms; the mask is a shader variant (absent:
 * 1).
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import {DeformConv2d} from '../../src/kernel_names.ts';
import {SORTED_FIELDS} from '../gpu/cell_sort.ts';
import {DEFORM_FIELDS, deformValues} from '../gpu/uniforms.ts';
import {DeformGeometry} from '../reference/deform_conv2d.ts';
import {
  CELL_RUNS_SUM, SAMPLE_CELLS_MAIN, SORTED_CELL, SORTED_SAMPLES_MAIN, SORTED_TABLE, sortedSample,
} from './cell_sort_gpu.ts';
import {glslUniforms, glslValues} from './uniforms.ts';

const DEFORM_UNIFORMS = glslUniforms(DEFORM_FIELDS);

export function deformUniforms(g: DeformGeometry, p0 = 0, rows = 0): number[][] {
  return glslValues(DeformConv2d, DEFORM_FIELDS, deformValues(g, p0, rows));
}

/** GLSL helpers for a program reading `inputs` (Offset, X, Mask, Dcol when listed). */
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
  const dcol = has('Dcol') ? `
  // Column gradient of chunk row r, kernel point ij, channel c: Dcol [groups, rows, Kg].
  float columnGrad(int r, int ij, int c) {
    int cg = groupChannels();
    int g = c / cg;
    return getDcol(g, r, ij * cg + c - g * cg);
  }` : '';
  const offset = has('Offset') ? `
  // Offset channel ch of output position p.
  float offsetValue(int p, int ch) {
    int ox = p % outWidth;
    int oy = (p / outWidth) % outHeight;
    return getOffset(p / (outWidth * outHeight), oy, ox, ch);
  }

  // (y, x) of kernel point ij of offset group og at output position p (float32, as torchvision).
  vec2 samplePosition(int p, int og, int ij) {
    int ox = p % outWidth;
    int oy = (p / outWidth) % outHeight;
    int i = ij / kernelW;
    int j = ij % kernelW;
    int ch = (og * kk() + ij) * 2;
    float y = float(oy * strideH - padH + i * dilationH) + offsetValue(p, ch);
    float x = float(ox * strideW - padW + j * dilationW) + offsetValue(p, ch + 1);
    return vec2(y, x);
  }

  float maskValue(int p, int og, int ij) {
    ${has('Mask') ? `int ox = p % outWidth;
    int oy = (p / outWidth) % outHeight;
    return getMask(p / (outWidth * outHeight), oy, ox, og * kk() + ij);` : 'return 1.0;'}
  }` : '';
  return `
  int kk() { return kernelH * kernelW; }
  int groupChannels() { return channels / groups; }
  int offsetGroupChannels() { return channels / offsetGroups; }

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
  ${offset}
  ${x}
  ${dcol}
`;
}

/**
 * The sort segments of a chunk: (image, offset group) g = image *
 * offsetGroups + og, each of the samples k = position * KK + kernel point of
 * min(rows, OH OW) positions.
 */
const CHUNK_SEGMENTS = `
  int segmentSamples() {
    return min(rows, outHeight * outWidth) * kk();
  }

  // Sample k of segment g as a chunk sample: row t / KK of the chunk, kernel point t % KK.
  int chunkSample(int g, int k) {
    return (g / offsetGroups) * segmentSamples() + k;
  }

  int imageCells() {
    return (height + 1) * (width + 1);
  }
`;

const SAMPLE_CELL = `
  // Cell of sample k of segment g: its top-left corner (y0, x0) in [-1, H) x [-1, W) as
  // (y0 + 1)(W + 1) + x0 + 1, or imageCells() (after every cell) when the forward pass does not take it.
  int sampleCell(int g, int k) {
    int t = chunkSample(g, k);
    vec2 pos = samplePosition(p0 + t / kk(), g % offsetGroups, t % kk());
    if (!inRange(pos)) return imageCells();
    vec2 f = floor(pos);
    return (int(f.x) + 1) * (width + 1) + int(f.y) + 1;
  }
`;

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
        int b = o[0], co = o[3];
        int p = (b * outHeight + o[1]) * outWidth + o[2];
        int cg = groupChannels(), cpog = offsetGroupChannels();
        int g = co / (outChannels / groups);
        float sum = 0.0;
        for (int ij = 0; ij < kk(); ij++) {
          int c = g * cg;
          int end = c + cg;
          while (c < end) {  // one offset group's channels at a time
            int og = c / cpog;
            int segEnd = min(end, (og + 1) * cpog);
            vec2 pos = samplePosition(p, og, ij);
            if (inRange(pos)) {
              float m = maskValue(p, og, ij);
              vec4 w = bilinearWeights(pos);
              for (; c < segEnd; c++) {
                vec4 v = corners(b, pos, c);
                sum += getWeight(ij / kernelW, ij % kernelW, c - g * cg, co) *
                    (m * (w.x * v.x + w.y * v.y + w.z * v.z + w.w * v.w));
              }
            }
            c = segEnd;
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
        int og = c / offsetGroupChannels();
        vec2 pos = samplePosition(p, og, ij);
        float v = 0.0;
        if (inRange(pos)) {
          vec4 w = bilinearWeights(pos);
          vec4 x = corners(p / (outWidth * outHeight), pos, c);
          v = w.x * x.x + w.y * x.y + w.z * x.z + w.w * x.w;
        }
        setOutput(maskValue(p, og, ij) * v);
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

/**
 * Corner sums [rows, OG KK, 4] of the chunk's samples from X, Offset, Dcol:
 * per sample and corner q (nw ne sw se), the sum over its offset group's
 * channels of dcol times the corner's value (floor corners, no cut-off), what
 * its offset and mask gradients take.
 */
export class DeformCornerSumsProgram extends DeformProgram {
  variableNames = ['X', 'Offset', 'Dcol'];
  userCode = `
    ${geometry(this.variableNames)}
    float cornerSum(int r, int og, int ij, int q) {
      int p = p0 + r;
      vec2 pos = samplePosition(p, og, ij);
      if (!isFiniteFloat(pos.x) || !isFiniteFloat(pos.y)) return 0.0;
      vec2 f = floor(pos) + vec2(float(q / 2), float(q % 2));
      int b = p / (outHeight * outWidth);
      int cpog = offsetGroupChannels();
      float sum = 0.0;
      for (int c = og * cpog; c < (og + 1) * cpog; c++) {
        sum += columnGrad(r, ij, c) * corner(b, f.x, f.y, c);
      }
      return sum;
    }

    void main() {
      ivec3 o = getOutputCoords();
      setOutput(cornerSum(o[0], o[1] / kk(), o[1] % kk(), o[2]));
    }
  `;

  constructor(g: DeformGeometry, rows: number) {
    super([rows, g.offsetGroups * g.kernelHeight * g.kernelWidth, 4]);
  }
}

const SAMPLE_GRAD = `
  // d out / d offset y (part 0), x (1) or d out / d mask (2) of sample (p, og, ij) from its corner sums s:
  // torchvision's floor corners for the offset, without the -1 cut-off; nothing for a non-finite position.
  float sampleGrad(int p, int og, int ij, int part, vec4 s) {
    vec2 pos = samplePosition(p, og, ij);
    if (!isFiniteFloat(pos.x) || !isFiniteFloat(pos.y)) return 0.0;
    if (part == 2) return inRange(pos) ? dot(bilinearWeights(pos), s) : 0.0;
    vec2 l = pos - floor(pos);
    float v = part == 0 ? l.y * (s.w - s.y) + (1.0 - l.y) * (s.z - s.x) :
        l.x * (s.w - s.z) + (1.0 - l.x) * (s.y - s.x);
    return maskValue(p, og, ij) * v;
  }
`;

/** The chunk's rows of dOffset [rows, 2 OG KK] ('offset') or dMask [rows, OG KK] ('mask') from Offset, [Mask,] Sums. */
export class DeformSampleGradProgram extends DeformProgram {
  variableNames: string[];
  userCode: string;

  constructor(g: DeformGeometry, rows: number, what: 'offset'|'mask') {
    const offset = what === 'offset';
    super([rows, g.offsetGroups * g.kernelHeight * g.kernelWidth * (offset ? 2 : 1)]);
    this.variableNames = g.useMask ? ['Offset', 'Mask', 'Sums'] : ['Offset', 'Sums'];
    this.userCode = `
      ${geometry(this.variableNames)}
      ${SAMPLE_GRAD}
      vec4 cornerSumsAt(int r, int s) {
        return vec4(getSums(r, s, 0), getSums(r, s, 1), getSums(r, s, 2), getSums(r, s, 3));
      }

      void main() {
        ivec2 o = getOutputCoords();
        int s = o[1] / ${offset ? 2 : 1};
        setOutput(sampleGrad(p0 + o[0], s / kk(), s % kk(), ${offset ? 'o[1] % 2' : '2'}, cornerSumsAt(o[0], s)));
      }
    `;
  }
}

/** Cells [images OG n] of the chunk's samples, from Offset (and Mask, unread). */
export class DeformCellsProgram extends DeformProgram {
  variableNames = ['Offset'];
  userCode = `
    ${geometry(this.variableNames)}
    ${CHUNK_SEGMENTS}
    ${SAMPLE_CELL}
    ${SAMPLE_CELLS_MAIN}
  `;

  constructor(samples: number) {
    super([samples]);
  }
}

const SORTED_FIELD = `
  // Field part (SORTED_FIELDS: corner weights, mask, chunk sample, cell) of the sample at sorted
  // position at of segment g.
  float sortedField(int g, int at, int part) {
    int t = chunkSample(g, sortedSample(g, at));
    int p = p0 + t / kk();
    if (part < 4) {
      vec4 w = bilinearWeights(samplePosition(p, g % offsetGroups, t % kk()));
      return w[part];
    }
    if (part == 4) return maskValue(p, g % offsetGroups, t % kk());
    if (part == 5) return float(t);
    return float(sortedCell(g, at));
  }
`;

/** SortedSamples [images OG n SORTED_FIELDS] from Offset, [Mask,] Order and Cells. */
export class DeformSortedSamplesProgram extends DeformProgram {
  variableNames: string[];
  userCode: string;

  constructor(g: DeformGeometry, samples: number) {
    super([samples * SORTED_FIELDS]);
    this.variableNames = g.useMask ? ['Offset', 'Mask', 'Order', 'Cells'] : ['Offset', 'Order', 'Cells'];
    this.userCode = `
      ${geometry(this.variableNames)}
      ${CHUNK_SEGMENTS}
      ${sortedSample(true)}
      ${SORTED_CELL}
      ${SORTED_FIELD}
      ${SORTED_SAMPLES_MAIN}
    `;
  }
}

const INPUT_GRAD = `
  // Column gradient of chunk sample t (row t / KK, kernel point t % KK), channel c.
  float sortedRowValue(int t, int c) {
    return columnGrad(t / kk(), t % kk(), c);
  }

  ${CELL_RUNS_SUM}

  // The chunk's part of dx at channel c of pixel (y, x) of its image b: the runs of cells (y, x) + 0, 1
  // and (y + 1, x) + 0, 1 of segment (b, offset group of c), bounded by Starts.
  float inputGrad(int b, int y, int x, int c) {
    int g = b * offsetGroups + c / offsetGroupChannels();
    int row = g * (imageCells() + 1) + y * (width + 1) + x;
    int below = row + width + 1;
    ivec3 above = ivec3(cellStart(row), cellStart(row + 1), cellStart(row + 2));
    ivec3 under = ivec3(cellStart(below), cellStart(below + 1), cellStart(below + 2));
    if (above.x == under.z) return 0.0;
    return cellRunsSum(g, above, under, c);
  }
`;

/**
 * dx of the chunk's images [images, H, W, C] from SortedSamples, Starts
 * (cell_sort_gpu.ts), Dcol and, when the chunk continues an image, Prev (that
 * image's dx so far).
 */
export class DeformInputGradProgram extends DeformProgram {
  variableNames: string[];
  userCode: string;

  constructor(g: DeformGeometry, images: number, continues: boolean) {
    super([images, g.height, g.width, g.channels]);
    this.variableNames = ['SortedSamples', 'Starts', 'Dcol', ...(continues ? ['Prev'] : [])];
    this.userCode = `
      ${geometry(this.variableNames)}
      ${CHUNK_SEGMENTS}
      ${SORTED_TABLE}
      int cellStart(int i) {
        return int(getStarts(i));
      }
      ${INPUT_GRAD}
      void main() {
        ivec4 o = getOutputCoords();
        float sum = inputGrad(o[0], o[1], o[2], o[3]);
        setOutput(${continues ? 'getPrev(0, o[1], o[2], o[3]) + sum' : 'sum'});
      }
    `;
  }
}

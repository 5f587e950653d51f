/**
 * Numbers that more than one kernel language uses, stated once: the
 * TypeScript kernels import them, the GLSL and WGSL programs interpolate them
 * (`floatLiteral`), and tools/build-wasm.mjs writes them into the wasm source
 * (kernels/wasm/generated/constants.ts, f64; the AssemblyScript casts).
 */
import {MAX_ADAPTIVE_GRID, MAX_ATTN_LEVEL_CELLS} from '../src/ops/limits.ts';

export {MAX_ADAPTIVE_GRID, MAX_ATTN_LEVEL_CELLS};

/** Largest finite float32: roi_pool's empty-bin maximum starts below -FLT_MAX. */
export const FLT_MAX = 3.4028234663852886e38;

/** roi_pool / ps_roi_pool clamp rounded box corners to +-2^24 (float32-exact integers; NaN-free bin math). */
export const MAX_ROUNDED_COORD = 2 ** 24;

/** cpu / wasm NMS grid: about 2 cells per box at level 0; a query margin of 1e-3 cell absorbs rounding. */
export const NMS_CELLS_PER_BOX = 2;
export const NMS_MARGIN = 1e-3;

/**
 * NMS candidate shrink: a box must reach T (1 - NMS_SHRINK_SLACK) into the
 * other, with T the threshold. The float32 IoU is within 1e-6 (relative) of
 * the exact one where its bound is proven: on the host, from a box area of
 * NMS_MIN_SHRINK_AREA and thresholds >= NMS_HOST_MIN_SHRINK_THRESHOLD; on the
 * GPU (whose division may be 2.5 ulp off) from sides >= NMS_MIN_SHRINK_AREA,
 * areas >= NMS_GPU_MIN_SHRINK_AREA and T >= NMS_GPU_MIN_SHRINK_THRESHOLD.
 * Below these, no shrink (every overlapping pair is tested).
 */
export const NMS_SHRINK_SLACK = 1e-4;
export const NMS_MIN_SHRINK_AREA = 1e-30;
export const NMS_HOST_MIN_SHRINK_THRESHOLD = 0.01;
export const NMS_GPU_MIN_SHRINK_AREA = 1e-20;
export const NMS_GPU_MIN_SHRINK_THRESHOLD = 1e-6;

/**
 * The wasm deform_conv2d kernels' header: these geometry fields as i32, in
 * this order, at the start of their scratch buffer of DEFORM_HEADER_WORDS words.
 */
export const DEFORM_HEADER = ['batch', 'height', 'width', 'channels', 'outHeight', 'outWidth', 'outChannels',
  'kernelHeight', 'kernelWidth', 'strideH', 'strideW', 'padH', 'padW', 'dilationH', 'dilationW', 'groups',
  'offsetGroups', 'useMask', 'chunk'] as const;
export const DEFORM_HEADER_WORDS = 32;

const upperSnake = (name: string) => name.replace(/[A-Z]/g, c => `_${c}`).toUpperCase();

/** The i32 constants written into the wasm source: DEFORM_<FIELD> is that field's header word. */
export const WASM_I32_CONSTANTS = {
  DEFORM_HEADER_WORDS, ...Object.fromEntries(DEFORM_HEADER.map((name, i) => [`DEFORM_${upperSnake(name)}`, i])),
};

/** The f64 constants written into the wasm source. */
export const WASM_CONSTANTS = {
  MAX_ADAPTIVE_GRID, FLT_MAX, MAX_ROUNDED_COORD, NMS_CELLS_PER_BOX, NMS_MARGIN, NMS_SHRINK_SLACK,
  NMS_MIN_SHRINK_AREA, NMS_HOST_MIN_SHRINK_THRESHOLD, MAX_ATTN_LEVEL_CELLS,
};

/** A GLSL / WGSL float literal of v (both read `65536.0` and `1e-30` alike). */
export function floatLiteral(v: number): string {
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

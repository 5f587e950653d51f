/**
 * Upper bounds on sizes and counts, enforced once in each op's validation
 * (before any kernel runs, so the Error is the same on every backend) and, as
 * defence in depth, where the wasm kernels allocate and pack their int32
 * arguments (kernels/wasm/module.ts). Each bound keeps every index and size
 * computation of every kernel (int32 in wasm, GLSL and WGSL; float32 sample
 * coordinates) exact and every tensor within what a 32-bit wasm heap holds.
 * The table is repeated in docs/SEMANTICS.md ("Limits").
 */
import {fail} from './validate.ts';

/** Bytes of one tensor: 2^31 - 1 keeps sizes and byte offsets in int32 (wasm32 malloc, GPU buffer/texture indices). */
export const MAX_TENSOR_BYTES = 2 ** 31 - 1;

/** Elements of one op output or internal buffer (float32 / int32: 4 bytes each): floor((2^31 - 1) / 4) = 2^29 - 1. */
export const MAX_TENSOR_ELEMENTS = Math.floor(MAX_TENSOR_BYTES / 4);

/** outputSize per side of the RoI ops: 2^16 keeps bin indices float32-exact and PH * PW exact before the element limit. */
export const MAX_OUTPUT_SIZE = 2 ** 16;

/**
 * Samples per bin and axis of roiAlign / psRoiAlign, the adaptive grid's cap
 * (ceil(roi size / output size), which huge boxes make huge) and the bound on
 * samplingRatio: 2^16 keeps sample indices (i + 0.5) and the count grid_h *
 * grid_w exact in float32 (from about 2^24 the float32 sums go wrong) and a
 * bin's work bounded. The wasm, webgl and webgpu kernels repeat the literal.
 */
export const MAX_ADAPTIVE_GRID = 2 ** 16;
export const MAX_SAMPLING_RATIO = MAX_ADAPTIVE_GRID;

/**
 * deformConv2d stride, padding, dilation and kernel size per side: with
 * these <= 2^16 and maps < 2^29 elements, every sample coordinate
 * oy s - p + i d and every value of the wasm kernels' int32 header stays
 * well inside int32, and the parameters themselves are float32-exact.
 */
export const MAX_CONV_PARAM = 2 ** 16;

/**
 * msDeformAttn: levels x points per query and head (the loop of one output
 * value on a GPU: a bounded shader), and levels.
 */
export const MAX_ATTN_SAMPLES = 2 ** 12;

/**
 * msDeformAttn: sample cells of a level, (H + 1)(W + 1) (corner cells -1..H-1
 * by -1..W-1): 2^24 keeps a cell index float32-exact, as the GPU gradient's
 * sort keys need.
 */
export const MAX_ATTN_LEVEL_CELLS = 2 ** 24;

/**
 * msDeformAttn: query rows B Q M and samples per level and head Q P, which
 * the GPU value gradient carries as float32 indices (exact to 2^24).
 */
export const MAX_ATTN_INDEX = 2 ** 24;

function formatCount(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : n.toExponential(3).replace(/\.?0+e/, 'e');
}

/** Throws "op: argument 'arg' must be at most `max` <what>, got v" unless every value is <= max. */
export function checkAtMost(op: string, arg: string, values: readonly number[], max: number, what: string) {
  for (const v of values) {
    if (v > max) fail(op, arg, `must be at most ${max}${what}, got ${formatCount(v)}`);
  }
}

/**
 * Throws an Error naming the op, the argument that sets the size, the
 * dimensions, and MAX_TENSOR_ELEMENTS, when `dims` (of an output or an
 * internal buffer, described by `what`) hold more elements than that.
 */
export function checkElementCount(op: string, arg: string, what: string, dims: readonly number[]) {
  const n = dims.reduce((a, b) => a * b, 1);
  if (n > MAX_TENSOR_ELEMENTS) {
    fail(op, arg, `gives ${what} of ${dims.join('×')} = ${formatCount(n)} elements, over the limit of ` +
        `${MAX_TENSOR_ELEMENTS} elements (2^31 - 1 bytes of float32 per tensor)`);
  }
}

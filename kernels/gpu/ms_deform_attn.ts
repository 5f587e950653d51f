/** What the webgl and webgpu msDeformAttn value gradients share, language-neutral. */
import {msDeformAttnKernel} from '../../src/kernel_names.ts';
import {MAX_ATTN_INDEX} from '../../src/ops/limits.ts';
import type {MsDeformAttnGeometry} from '../reference/ms_deform_attn.ts';
import {MS_DEFORM_SHAPE, uniformFields} from './uniforms.ts';

/** msDeformAttn's shape fields (MS_DEFORM_SAMPLE reads them). */
export const VALUE_GRAD_FIELDS = uniformFields(MS_DEFORM_SHAPE, msDeformAttnKernel.attrs);

/** Samples of one (b, m, l) segment of the sort: Q P. */
export function segmentSamples(g: MsDeformAttnGeometry) {
  return g.queries * g.points;
}

/**
 * Sample positions and dy rows travel as float32 (textures, sorted tables):
 * exact up to MAX_ATTN_INDEX. The op checks this first; kernels called
 * directly get the same bound.
 */
export function checkExactIndices(kernel: string, g: MsDeformAttnGeometry) {
  const counts = {'queries x points': segmentSamples(g), 'batch x queries x heads': g.batch * g.queries * g.heads};
  for (const [what, count] of Object.entries(counts)) {
    if (count > MAX_ATTN_INDEX) {
      throw new Error(`${kernel}: ${what} must be at most ${MAX_ATTN_INDEX} (float32-exact indices), got ${count}`);
    }
  }
}

/**
 * Uniform blocks of the GPU programs, declared once for GLSL and WGSL
 * (kernels/webgl/uniforms.ts, kernels/webgpu/uniforms.ts write them) and
 * valued by name, so no list of values depends on an order kept by hand. A
 * kernel's block is its program's shape fields, then the scalar attributes of
 * its declaration (src/kernel_names.ts), then program-only fields.
 */
import {
  AttrDecl, msDeformAttnKernel, psRoiAlignKernel, psRoiPoolKernel, roiAlignKernel, roiPoolKernel, scalarAttrs, sigmoidFocalLossKernel,
} from '../../src/kernel_names.ts';
import type {DeformGeometry} from '../reference/deform_conv2d.ts';
import type {MsDeformAttnGeometry} from '../reference/ms_deform_attn.ts';

export type UniformType = 'int' | 'float';
export type UniformFields = Readonly<Record<string, UniformType>>;
/** Values by name; entries that are no uniform of the block (e.g. a grad kernel's xShape) are ignored. */
export type UniformValues = Readonly<Record<string, unknown>>;

export function uniformFields(shape: readonly string[], attrs: AttrDecl = {}, extra: UniformFields = {}):
    UniformFields {
  const fields: Record<string, UniformType> = {};
  for (const name of shape) fields[name] = 'int';
  for (const [name, kind] of scalarAttrs(attrs)) fields[name] = kind === 'float' ? 'float' : 'int';
  return {...fields, ...extra};
}

/** The values of `fields` in their order (bool as 0/1); a missing one is an Error naming the uniform. */
export function uniformValues(program: string, fields: UniformFields, values: UniformValues):
    Array<[UniformType, number]> {
  return Object.entries(fields).map(([name, type]) => {
    const value = values[name];
    if (typeof value === 'boolean') return [type, Number(value)];
    if (typeof value !== 'number') throw new Error(`${program}: no value for uniform '${name}'`);
    return [type, value];
  });
}

/** The map and box count of the RoI programs, from x's (or dx's) shape [N, H, W, C]. */
export function roiShape(xShape: readonly number[], numBoxes: number) {
  return {batch: xShape[0], height: xShape[1], width: xShape[2], numBoxes};
}
const ROI_SHAPE = Object.keys(roiShape([], 0));

export const ROI_ALIGN_FIELDS = uniformFields(ROI_SHAPE, roiAlignKernel.attrs);
/** columns: roi_align's weight table of the columns (1) or of the rows (0). */
export const ROI_ALIGN_WEIGHTS_FIELDS = uniformFields(ROI_SHAPE, roiAlignKernel.attrs, {columns: 'int'});
/** ps_roi_align shares roi_align's geometry, always aligned. */
export const PS_ROI_ALIGN_FIELDS = uniformFields(ROI_SHAPE, psRoiAlignKernel.attrs, {aligned: 'int'});
/** argmaxOut: the forward program writes each bin's argmax instead of its max (for the gradient). */
export const ROI_POOL_FIELDS = uniformFields(ROI_SHAPE, roiPoolKernel.attrs, {argmaxOut: 'int'});
export const PS_ROI_POOL_FIELDS = uniformFields(ROI_SHAPE, psRoiPoolKernel.attrs);
/**
 * The tiles of the RoI backward gathers (kernels/gpu/roi_kernels.ts): tileSize x tileSize pixels,
 * tilesY x tilesX per image; numBoxes: the RoIs of the chunk the tile lists cover.
 */
export const ROI_TILE_FIELDS = uniformFields(['numBoxes', 'tileSize', 'tilesY', 'tilesX']);
/** stride: the pass of the tile lists' prefix sum, which adds the entries stride, 2 stride, ... before. */
export const ROI_PREFIX_FIELDS = uniformFields(['stride']);
/** The backward gathers: the tiles, and dx's channels (a gather's block holds two). */
export const ROI_GATHER_FIELDS = {...ROI_TILE_FIELDS, ...uniformFields(['channels'])};
export const FOCAL_FIELDS = uniformFields([], sigmoidFocalLossKernel.attrs);
/** gradOfTargets: one shader, run once per output. */
export const FOCAL_GRAD_FIELDS = uniformFields([], sigmoidFocalLossKernel.grad.attrs, {gradOfTargets: 'int'});

/** deform_conv2d's geometry; p0, rows: the chunk of output positions of the column programs. */
export const DEFORM_FIELDS = uniformFields(['height', 'width', 'channels', 'outHeight', 'outWidth', 'outChannels',
  'kernelH', 'kernelW', 'strideH', 'strideW', 'padH', 'padW', 'dilationH', 'dilationW', 'groups', 'offsetGroups',
  'useMask', 'p0', 'rows']);

export function deformValues(g: DeformGeometry, p0 = 0, rows = 0): UniformValues {
  return {...g, kernelH: g.kernelHeight, kernelW: g.kernelWidth, p0, rows};
}

/** msDeformAttn's shape fields: every field of MsDeformAttnGeometry (the type checker keeps the list complete). */
const MS_DEFORM_GEOMETRY: Record<keyof MsDeformAttnGeometry, true> = {batch: true, spatialSize: true, heads: true,
  channels: true, queries: true, levels: true, points: true};
export const MS_DEFORM_SHAPE = Object.keys(MS_DEFORM_GEOMETRY);
export const MS_DEFORM_FIELDS = uniformFields(MS_DEFORM_SHAPE, msDeformAttnKernel.attrs);

export function msDeformValues(g: MsDeformAttnGeometry): UniformValues {
  return {...g};
}

/**
 * The segmented cell sort (kernels/webgl/cell_sort_gpu.ts, kernels/webgpu/cell_sort_webgpu.ts): segments of
 * segmentSize samples; cells: the cells of a segment (its cell-starts table); run: the run length of a merge pass.
 */
export const CELL_SORT_FIELDS = uniformFields(['segments', 'segmentSize', 'cells'], {}, {run: 'int'});

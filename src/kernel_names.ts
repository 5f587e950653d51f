/**
 * The one statement of every kernel this package registers: its name, inputs,
 * typed attributes and, when differentiable, its `*Grad` kernel. The Attrs and
 * Inputs types, the GPU uniform blocks (kernels/gpu/uniforms.ts), the wasm
 * argument packing (kernels/wasm/args.ts), the per-backend tables
 * (kernels/register_all.ts) and the gradient configs (gradients/grad_config.ts)
 * are derived from these declarations: adding an attribute is one edit here
 * plus the math that uses it.
 */
import {TensorInfo} from '@tensorflow/tfjs-core';

/** Attribute kinds; the scalar ones (int, float, bool) become GPU uniforms and wasm arguments. */
export interface AttrKinds {
  int: number;
  float: number;
  bool: boolean;
  pair: [number, number];
  /** A tensor shape; a grad kernel's `<input>Shape` attribute is that forward input's shape. */
  shape: number[];
}
export type AttrKind = keyof AttrKinds;
export type AttrDecl = Readonly<Record<string, AttrKind>>;
export type ScalarAttrKind = 'int' | 'float' | 'bool';

/** The scalar attributes of a declaration, in declared order (the GPU uniforms and wasm arguments). */
export function scalarAttrs(attrs: AttrDecl): Array<[string, ScalarAttrKind]> {
  return Object.entries(attrs).filter((entry): entry is [string, ScalarAttrKind] =>
    entry[1] === 'int' || entry[1] === 'float' || entry[1] === 'bool');
}

export interface KernelDecl<N extends string = string, I extends string = string, A extends AttrDecl = AttrDecl> {
  readonly name: N;
  /** Input names in order; `name?` is optional. */
  readonly inputs: readonly I[];
  readonly attrs: A;
}

/** A gradient kernel: inputs are dy and forward inputs; it returns the gradients of `outputs`, in order. */
export interface GradDecl<N extends string = string, I extends string = string, A extends AttrDecl = AttrDecl>
  extends KernelDecl<N, I, A> {
  readonly outputs: readonly string[];
}

export type DifferentiableDecl = KernelDecl & {readonly grad: GradDecl};

/** The inputs of kernel D by name (`name?` inputs optional). */
export type InputsOf<D> = D extends KernelDecl<string, infer I, AttrDecl> ?
  {[K in I as K extends `${string}?` ? never : K]: TensorInfo} &
  {[K in I as K extends `${infer B}?` ? B : never]?: TensorInfo} : never;
export type AttrsOf<D> = D extends KernelDecl<string, string, infer A> ?
  {-readonly [K in keyof A]: AttrKinds[A[K]]} : never;

function declare<const N extends string, const I extends string, const A extends AttrDecl>(
    name: N, inputs: readonly I[], attrs: A): KernelDecl<N, I, A> {
  return {name, inputs, attrs};
}

/** A kernel and its gradient kernel, whose attributes are the forward ones plus `gradAttrs`. */
function differentiable<const N extends string, const I extends string, const A extends AttrDecl,
    const GN extends string, const GI extends string, const GA extends AttrDecl>(
    forward: KernelDecl<N, I, A>,
    grad: {name: GN, inputs: readonly GI[], attrs: GA, outputs: readonly I[]}) {
  const gradDecl: GradDecl<GN, GI, A & GA> = {...grad, attrs: {...forward.attrs, ...grad.attrs}};
  return {...forward, grad: gradDecl};
}

/**
 * Elementwise sigmoid focal loss of logits `inputs` and same-shaped `targets`;
 * `alpha` in [0, 1] weighs positives, -1 disables weighting. The gradient
 * kernel outputs [dInputs, dTargets] from dy of the inputs' size, or from a dy
 * of one element (any shape of size 1), which is broadcast: one value for
 * every element (the gradient of a sum or a mean).
 */
export const sigmoidFocalLossKernel = differentiable(
    declare('SigmoidFocalLoss', ['inputs', 'targets'], {alpha: 'float', gamma: 'float'}),
    {name: 'SigmoidFocalLossGrad', inputs: ['dy', 'inputs', 'targets'], attrs: {}, outputs: ['inputs', 'targets']});

/**
 * RoI Align of torchvision on a channelsLast map: x [N, H, W, C], boxes [K, 5]
 * (batch index, x1, y1, x2, y2) -> [K, pooledHeight, pooledWidth, C].
 * samplingRatio <= 0: adaptive, ceil(roi size / pooled size). The gradient is
 * dx [N, H, W, C] from dy (boxes get zeros, as in torchvision).
 */
export const roiAlignKernel = differentiable(
    declare('RoiAlign', ['x', 'boxes'],
        {pooledHeight: 'int', pooledWidth: 'int', spatialScale: 'float', samplingRatio: 'int', aligned: 'bool'}),
    {name: 'RoiAlignGrad', inputs: ['dy', 'boxes'], attrs: {xShape: 'shape'}, outputs: ['x']});

/**
 * RoI max pooling of torchvision on a channelsLast map: x [N, H, W, C], boxes
 * [K, 5] -> [K, pooledHeight, pooledWidth, C]. The gradient sends each bin's
 * dy to its argmax, recomputed from x.
 */
export const roiPoolKernel = differentiable(
    declare('RoiPool', ['x', 'boxes'], {pooledHeight: 'int', pooledWidth: 'int', spatialScale: 'float'}),
    {name: 'RoiPoolGrad', inputs: ['dy', 'x', 'boxes'], attrs: {}, outputs: ['x']});

/**
 * Position-sensitive RoI Align of torchvision (R-FCN) on a channelsLast map:
 * x [N, H, W, C] with C = Cout * pooledHeight * pooledWidth, boxes [K, 5] ->
 * [K, pooledHeight, pooledWidth, Cout]; bin (ph, pw) of output channel c
 * samples input channel (c * pooledHeight + ph) * pooledWidth + pw.
 */
export const psRoiAlignKernel = differentiable(
    declare('PsRoiAlign', ['x', 'boxes'],
        {pooledHeight: 'int', pooledWidth: 'int', spatialScale: 'float', samplingRatio: 'int'}),
    {name: 'PsRoiAlignGrad', inputs: ['dy', 'boxes'], attrs: {xShape: 'shape'}, outputs: ['x']});

/**
 * Position-sensitive RoI average pooling of torchvision, channel mapping as
 * PsRoiAlign; the gradient clips bins as torchvision's backward does.
 */
export const psRoiPoolKernel = differentiable(
    declare('PsRoiPool', ['x', 'boxes'], {pooledHeight: 'int', pooledWidth: 'int', spatialScale: 'float'}),
    {name: 'PsRoiPoolGrad', inputs: ['dy', 'boxes'], attrs: {xShape: 'shape'}, outputs: ['x']});

/**
 * Non-maximum suppression of torchvision: boxes [N, 4] xyxy float32, scores
 * [N] float32, optional idxs [N] int32 (categories: batched NMS) -> kept box
 * indices, int32 [K], in decreasing-score order. No gradient. GPU backends
 * also register an async form (kernels/register_all.ts) that awaits its readback.
 */
export const nmsKernel = declare('Nms', ['boxes', 'scores', 'idxs?'], {iouThreshold: 'float'});

/**
 * Deformable convolution (torchvision deform_conv2d) on channelsLast tensors:
 * x [B, H, W, Cin], offset [B, OH, OW, 2 * offsetGroups * KH * KW] (per
 * offset group and kernel point (dy, dx)), mask [B, OH, OW, offsetGroups * KH
 * * KW] (a dummy [1] when useMask is false), weight HWIO [KH, KW, Cin /
 * groups, Cout] -> [B, OH, OW, Cout], no bias. One gradient kernel gives
 * [dx, dOffset, dMask, dWeight] (dMask zeros when !useMask).
 */
export const deformConv2dKernel = differentiable(
    declare('DeformConv2d', ['x', 'offset', 'mask', 'weight'], {
      strides: 'pair', pad: 'pair', dilations: 'pair', groups: 'int', offsetGroups: 'int', useMask: 'bool',
    }),
    {name: 'DeformConv2dGrad', inputs: ['dy', 'x', 'offset', 'mask', 'weight'], attrs: {},
      outputs: ['x', 'offset', 'mask', 'weight']});

/**
 * Multi-scale deformable attention (Deformable DETR): value [B, S, M, C]
 * (S = sum of H W over the levels), spatialShapes int32 [L, 2] (H, W),
 * levelStartIndex int32 [L], samplingLocations [B, Q, M, L, P, 2] ((x, y) in
 * [0, 1]), attentionWeights [B, Q, M, L, P] -> [B, Q, M, C]: per query and
 * head, the attention-weighted sum of bilinear samples (F.grid_sample,
 * zero padding, align_corners=False) of each level. The level tables are
 * read by the kernels, never trusted: a corner outside its level or outside
 * value reads 0. One gradient kernel gives [dValue, dSamplingLocations,
 * dAttentionWeights] (the tables get zeros).
 */
export const msDeformAttnKernel = differentiable(
    declare('MsDeformAttn', ['value', 'spatialShapes', 'levelStartIndex', 'samplingLocations', 'attentionWeights'],
        {}),
    {name: 'MsDeformAttnGrad',
      inputs: ['dy', 'value', 'spatialShapes', 'levelStartIndex', 'samplingLocations', 'attentionWeights'], attrs: {},
      outputs: ['value', 'samplingLocations', 'attentionWeights']});

/** Every kernel declaration, gradient kernels included. */
export const KERNELS = [
  sigmoidFocalLossKernel, sigmoidFocalLossKernel.grad, roiAlignKernel, roiAlignKernel.grad,
  roiPoolKernel, roiPoolKernel.grad, psRoiAlignKernel, psRoiAlignKernel.grad, psRoiPoolKernel,
  psRoiPoolKernel.grad, nmsKernel, deformConv2dKernel, deformConv2dKernel.grad, msDeformAttnKernel,
  msDeformAttnKernel.grad,
] as const;

/** The differentiable kernels, whose gradient configs gradients/register.ts derives. */
export const DIFFERENTIABLE_KERNELS = [
  sigmoidFocalLossKernel, roiAlignKernel, roiPoolKernel, psRoiAlignKernel, psRoiPoolKernel, deformConv2dKernel,
  msDeformAttnKernel,
] as const;

export type KernelName = (typeof KERNELS)[number]['name'];
export const ALL_KERNELS: readonly KernelName[] = KERNELS.map(k => k.name);

export const SigmoidFocalLoss = sigmoidFocalLossKernel.name;
export type SigmoidFocalLossInputs = InputsOf<typeof sigmoidFocalLossKernel>;
export type SigmoidFocalLossAttrs = AttrsOf<typeof sigmoidFocalLossKernel>;
export const SigmoidFocalLossGrad = sigmoidFocalLossKernel.grad.name;
export type SigmoidFocalLossGradInputs = InputsOf<typeof sigmoidFocalLossKernel.grad>;
export type SigmoidFocalLossGradAttrs = AttrsOf<typeof sigmoidFocalLossKernel.grad>;

export const RoiAlign = roiAlignKernel.name;
export type RoiAlignInputs = InputsOf<typeof roiAlignKernel>;
export type RoiAlignAttrs = AttrsOf<typeof roiAlignKernel>;
export const RoiAlignGrad = roiAlignKernel.grad.name;
export type RoiAlignGradInputs = InputsOf<typeof roiAlignKernel.grad>;
export type RoiAlignGradAttrs = AttrsOf<typeof roiAlignKernel.grad>;

export const RoiPool = roiPoolKernel.name;
export type RoiPoolInputs = InputsOf<typeof roiPoolKernel>;
export type RoiPoolAttrs = AttrsOf<typeof roiPoolKernel>;
export const RoiPoolGrad = roiPoolKernel.grad.name;
export type RoiPoolGradInputs = InputsOf<typeof roiPoolKernel.grad>;
export type RoiPoolGradAttrs = AttrsOf<typeof roiPoolKernel.grad>;

export const PsRoiAlign = psRoiAlignKernel.name;
export type PsRoiAlignInputs = InputsOf<typeof psRoiAlignKernel>;
export type PsRoiAlignAttrs = AttrsOf<typeof psRoiAlignKernel>;
export const PsRoiAlignGrad = psRoiAlignKernel.grad.name;
export type PsRoiAlignGradInputs = InputsOf<typeof psRoiAlignKernel.grad>;
export type PsRoiAlignGradAttrs = AttrsOf<typeof psRoiAlignKernel.grad>;

export const PsRoiPool = psRoiPoolKernel.name;
export type PsRoiPoolInputs = InputsOf<typeof psRoiPoolKernel>;
export type PsRoiPoolAttrs = AttrsOf<typeof psRoiPoolKernel>;
export const PsRoiPoolGrad = psRoiPoolKernel.grad.name;
export type PsRoiPoolGradInputs = InputsOf<typeof psRoiPoolKernel.grad>;
export type PsRoiPoolGradAttrs = AttrsOf<typeof psRoiPoolKernel.grad>;

export const Nms = nmsKernel.name;
export type NmsInputs = InputsOf<typeof nmsKernel>;
export type NmsAttrs = AttrsOf<typeof nmsKernel>;

export const DeformConv2d = deformConv2dKernel.name;
export type DeformConv2dInputs = InputsOf<typeof deformConv2dKernel>;
export type DeformConv2dAttrs = AttrsOf<typeof deformConv2dKernel>;
export const DeformConv2dGrad = deformConv2dKernel.grad.name;
export type DeformConv2dGradInputs = InputsOf<typeof deformConv2dKernel.grad>;
export type DeformConv2dGradAttrs = AttrsOf<typeof deformConv2dKernel.grad>;

export const MsDeformAttn = msDeformAttnKernel.name;
export type MsDeformAttnInputs = InputsOf<typeof msDeformAttnKernel>;
export type MsDeformAttnAttrs = AttrsOf<typeof msDeformAttnKernel>;
export const MsDeformAttnGrad = msDeformAttnKernel.grad.name;
export type MsDeformAttnGradInputs = InputsOf<typeof msDeformAttnKernel.grad>;
export type MsDeformAttnGradAttrs = AttrsOf<typeof msDeformAttnKernel.grad>;

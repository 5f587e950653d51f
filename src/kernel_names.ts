/**
 * Kernel names and typed inputs/attrs of every kernel this package registers.
 * Each kernel has a native implementation per backend under `kernels/<backend>/`
 * and, when differentiable, a `*Grad` kernel used by `gradients/`.
 */
import {NamedAttrMap, TensorInfo} from '@tensorflow/tfjs-core';

export const SigmoidFocalLoss = 'SigmoidFocalLoss';
export type SigmoidFocalLossInputs = {inputs: TensorInfo, targets: TensorInfo};
export interface SigmoidFocalLossAttrs {
  /** Weight of positives in [0, 1]; -1 disables weighting. */
  alpha: number;
  gamma: number;
}

/** Outputs [dInputs, dTargets]. */
export const SigmoidFocalLossGrad = 'SigmoidFocalLossGrad';
export type SigmoidFocalLossGradInputs =
    {dy: TensorInfo, inputs: TensorInfo, targets: TensorInfo};
export type SigmoidFocalLossGradAttrs = SigmoidFocalLossAttrs;

/**
 * RoI Align of torchvision on a channelsLast map: x [N, H, W, C], boxes [K, 5]
 * (batch index, x1, y1, x2, y2) -> [K, pooledHeight, pooledWidth, C].
 */
export const RoiAlign = 'RoiAlign';
export type RoiAlignInputs = {x: TensorInfo, boxes: TensorInfo};
export interface RoiAlignAttrs {
  pooledHeight: number;
  pooledWidth: number;
  spatialScale: number;
  /** Samples per bin and axis; <= 0: adaptive, ceil(roi size / pooled size). */
  samplingRatio: number;
  aligned: boolean;
}

/** Gradient of RoiAlign for x: dy [K, pooledHeight, pooledWidth, C] -> [N, H, W, C] (xShape). */
export const RoiAlignGrad = 'RoiAlignGrad';
export type RoiAlignGradInputs = {dy: TensorInfo, boxes: TensorInfo};
export interface RoiAlignGradAttrs extends RoiAlignAttrs {
  xShape: number[];
}

/**
 * RoI max pooling of torchvision on a channelsLast map: x [N, H, W, C], boxes
 * [K, 5] -> [K, pooledHeight, pooledWidth, C].
 */
export const RoiPool = 'RoiPool';
export type RoiPoolInputs = {x: TensorInfo, boxes: TensorInfo};
export interface RoiPoolAttrs {
  pooledHeight: number;
  pooledWidth: number;
  spatialScale: number;
}

/** Gradient of RoiPool for x: each bin's dy goes to its argmax, recomputed from x -> [N, H, W, C]. */
export const RoiPoolGrad = 'RoiPoolGrad';
export type RoiPoolGradInputs = {dy: TensorInfo, x: TensorInfo, boxes: TensorInfo};
export type RoiPoolGradAttrs = RoiPoolAttrs;

/**
 * Position-sensitive RoI Align of torchvision (R-FCN) on a channelsLast map:
 * x [N, H, W, C] with C = Cout * pooledHeight * pooledWidth, boxes [K, 5] ->
 * [K, pooledHeight, pooledWidth, Cout]; bin (ph, pw) of output channel c
 * samples input channel (c * pooledHeight + ph) * pooledWidth + pw.
 */
export const PsRoiAlign = 'PsRoiAlign';
export type PsRoiAlignInputs = {x: TensorInfo, boxes: TensorInfo};
export interface PsRoiAlignAttrs {
  pooledHeight: number;
  pooledWidth: number;
  spatialScale: number;
  samplingRatio: number;
}

/** Gradient of PsRoiAlign for x -> [N, H, W, C] (xShape). */
export const PsRoiAlignGrad = 'PsRoiAlignGrad';
export type PsRoiAlignGradInputs = {dy: TensorInfo, boxes: TensorInfo};
export interface PsRoiAlignGradAttrs extends PsRoiAlignAttrs {
  xShape: number[];
}

/** Position-sensitive RoI average pooling of torchvision, channel mapping as PsRoiAlign. */
export const PsRoiPool = 'PsRoiPool';
export type PsRoiPoolInputs = {x: TensorInfo, boxes: TensorInfo};
export interface PsRoiPoolAttrs {
  pooledHeight: number;
  pooledWidth: number;
  spatialScale: number;
}

/** Gradient of PsRoiPool for x -> [N, H, W, C] (xShape), with torchvision's backward bin clipping. */
export const PsRoiPoolGrad = 'PsRoiPoolGrad';
export type PsRoiPoolGradInputs = {dy: TensorInfo, boxes: TensorInfo};
export interface PsRoiPoolGradAttrs extends PsRoiPoolAttrs {
  xShape: number[];
}

/**
 * Non-maximum suppression of torchvision: boxes [N, 4] xyxy float32, scores
 * [N] float32, optional idxs [N] int32 (categories: batched NMS) -> kept box
 * indices, int32 [K], in decreasing-score order. No gradient.
 */
export const Nms = 'Nms';
export type NmsInputs = {boxes: TensorInfo, scores: TensorInfo, idxs?: TensorInfo};
export interface NmsAttrs {
  iouThreshold: number;
}

/**
 * webgpu only, for the ops' async path: the whole of NMS on the GPU, output
 * int32 [N] in decreasing-score order: the box index where that box is kept,
 * -1 where it is suppressed. The op reads it back and keeps the entries >= 0.
 * Not in ALL_KERNELS (the other backends lack it).
 */
export const NmsSortedKeep = 'NmsSortedKeep';
export type NmsSortedKeepInputs = NmsInputs;
export type NmsSortedKeepAttrs = NmsAttrs;

/**
 * webgl only, for the ops' async path: the suppression pairs as a band over
 * the boxes sorted by x1, float32 [N, bandWords + 3] (kernels/nms_band.ts);
 * the op reads it back and runs the greedy scan, again with more words where
 * a row needed more. Not in ALL_KERNELS.
 */
export const NmsBand = 'NmsBand';
export interface NmsBandAttrs extends NmsAttrs {
  bandWords: number;
}

/**
 * Deformable convolution (torchvision deform_conv2d) on channelsLast tensors:
 * x [B, H, W, Cin], offset [B, OH, OW, 2 * offsetGroups * KH * KW] (per
 * offset group and kernel point (dy, dx)), mask [B, OH, OW, offsetGroups * KH
 * * KW] (a dummy [1] when useMask is false), weight HWIO [KH, KW, Cin /
 * groups, Cout] -> [B, OH, OW, Cout], no bias.
 */
export const DeformConv2d = 'DeformConv2d';
export type DeformConv2dInputs = {x: TensorInfo, offset: TensorInfo, mask: TensorInfo, weight: TensorInfo};
export interface DeformConv2dAttrs {
  strides: [number, number];
  pad: [number, number];
  dilations: [number, number];
  groups: number;
  offsetGroups: number;
  useMask: boolean;
}

/** Gradient of DeformConv2d: outputs [dx, dOffset, dMask, dWeight] (dMask zeros when !useMask). */
export const DeformConv2dGrad = 'DeformConv2dGrad';
export type DeformConv2dGradInputs = DeformConv2dInputs & {dy: TensorInfo};
export type DeformConv2dGradAttrs = DeformConv2dAttrs;

/** Every kernel of this package, for registration checks and docs. */
export const ALL_KERNELS = [
  SigmoidFocalLoss, SigmoidFocalLossGrad, RoiAlign, RoiAlignGrad, RoiPool, RoiPoolGrad,
  PsRoiAlign, PsRoiAlignGrad, PsRoiPool, PsRoiPoolGrad, Nms, DeformConv2d, DeformConv2dGrad,
] as const;

export type AttrsOf<T> = T & NamedAttrMap;

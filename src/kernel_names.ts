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

/** Every kernel of this package, for registration checks and docs. */
export const ALL_KERNELS = [SigmoidFocalLoss, SigmoidFocalLossGrad] as const;

export type AttrsOf<T> = T & NamedAttrMap;

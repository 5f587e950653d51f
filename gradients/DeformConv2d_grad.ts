import {engine, GradConfig, NamedAttrMap, Tensor} from '@tensorflow/tfjs-core';
import {DeformConv2d, DeformConv2dGrad} from '../src/kernel_names.ts';

/**
 * One DeformConv2dGrad kernel gives all four gradients (they share the column
 * gradient and the sampling pass). It runs eagerly here, in the engine's
 * backward scope, so the gradients nobody asks for are disposed with it.
 */
export const deformConv2dGradConfig: GradConfig = {
  kernelName: DeformConv2d,
  inputsToSave: ['x', 'offset', 'mask', 'weight'],
  gradFunc: (dy: Tensor|Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x, offset, mask, weight] = saved;
    const [dx, dOffset, dMask, dWeight] = engine().runKernel(
        DeformConv2dGrad, {dy: dy as Tensor, x, offset, mask, weight}, attrs) as Tensor[];
    return {x: () => dx, offset: () => dOffset, mask: () => dMask, weight: () => dWeight};
  },
};

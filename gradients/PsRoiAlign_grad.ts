import {engine, GradConfig, NamedAttrMap, Tensor, zerosLike} from '@tensorflow/tfjs-core';
import {PsRoiAlign, PsRoiAlignGrad} from '../src/kernel_names.ts';

/** x gets the PsRoiAlignGrad kernel's result; boxes get zeros, as in torchvision. */
export const psRoiAlignGradConfig: GradConfig = {
  kernelName: PsRoiAlign,
  inputsToSave: ['x', 'boxes'],
  gradFunc: (dy: Tensor|Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x, boxes] = saved;
    return {
      x: () => engine().runKernel(
          PsRoiAlignGrad, {dy: dy as Tensor, boxes}, {...attrs, xShape: x.shape}) as Tensor,
      boxes: () => zerosLike(boxes),
    };
  },
};

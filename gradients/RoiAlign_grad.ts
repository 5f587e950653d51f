import {engine, GradConfig, NamedAttrMap, Tensor, zerosLike} from '@tensorflow/tfjs-core';
import {RoiAlign, RoiAlignGrad} from '../src/kernel_names.ts';

/** x gets the RoiAlignGrad kernel's result; boxes get zeros, as in torchvision. */
export const roiAlignGradConfig: GradConfig = {
  kernelName: RoiAlign,
  inputsToSave: ['x', 'boxes'],
  gradFunc: (dy: Tensor|Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x, boxes] = saved;
    return {
      x: () => engine().runKernel(
          RoiAlignGrad, {dy: dy as Tensor, boxes}, {...attrs, xShape: x.shape}) as Tensor,
      boxes: () => zerosLike(boxes),
    };
  },
};

import {engine, GradConfig, NamedAttrMap, Tensor, zerosLike} from '@tensorflow/tfjs-core';
import {PsRoiPool, PsRoiPoolGrad} from '../src/kernel_names.ts';

/** x gets the PsRoiPoolGrad kernel's result; boxes get zeros, as in torchvision. */
export const psRoiPoolGradConfig: GradConfig = {
  kernelName: PsRoiPool,
  inputsToSave: ['x', 'boxes'],
  gradFunc: (dy: Tensor|Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x, boxes] = saved;
    return {
      x: () => engine().runKernel(
          PsRoiPoolGrad, {dy: dy as Tensor, boxes}, {...attrs, xShape: x.shape}) as Tensor,
      boxes: () => zerosLike(boxes),
    };
  },
};

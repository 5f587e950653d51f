import {engine, GradConfig, NamedAttrMap, Tensor, zerosLike} from '@tensorflow/tfjs-core';
import {RoiPool, RoiPoolGrad} from '../src/kernel_names.ts';

/** x gets the RoiPoolGrad kernel's result (argmax recomputed from x); boxes get zeros. */
export const roiPoolGradConfig: GradConfig = {
  kernelName: RoiPool,
  inputsToSave: ['x', 'boxes'],
  gradFunc: (dy: Tensor|Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x, boxes] = saved;
    return {
      x: () => engine().runKernel(RoiPoolGrad, {dy: dy as Tensor, x, boxes}, attrs) as Tensor,
      boxes: () => zerosLike(boxes),
    };
  },
};

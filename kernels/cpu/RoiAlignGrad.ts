import {KernelFunc, TensorInfo, TypedArray, util} from '@tensorflow/tfjs-core';
import {RoiAlignGradAttrs, RoiAlignGradInputs} from '../../src/kernel_names.ts';
import {newValues, output, readValues} from '../host_kernel.ts';
import {roiAlignGradValues} from '../reference/roi_align.ts';

/**
 * A backward RoI op on host arrays that reads dy and boxes: dx of params.xShape,
 * zero-filled, then added to by the reference function `values` (not called
 * when dx is empty or there are no boxes).
 */
export function runRoiGradHost<P extends {xShape: number[]}>(
    backend: unknown, dy: TensorInfo, boxes: TensorInfo, params: P,
    values: (dy: TypedArray, boxes: TypedArray, numBoxes: number, p: P, xShape: number[], dx: TypedArray) => void):
    TensorInfo {
  const dx = newValues(util.sizeFromShape(params.xShape));
  if (dx.length > 0 && boxes.shape[0] > 0) {
    values(readValues(backend, dy), readValues(backend, boxes), boxes.shape[0], params, params.xShape, dx);
  }
  return output(backend, params.xShape, 'float32', dx);
}

export const roiAlignGradHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, boxes} = inputs as RoiAlignGradInputs;
  return runRoiGradHost(backend, dy, boxes, attrs as unknown as RoiAlignGradAttrs, roiAlignGradValues);
};

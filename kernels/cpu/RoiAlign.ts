import {KernelFunc, TensorInfo, TypedArray, util} from '@tensorflow/tfjs-core';
import {RoiAlignAttrs, RoiAlignInputs} from '../../src/kernel_names.ts';
import {newValues, output, readValues} from '../host_kernel.ts';
import {roiAlignValues} from '../reference/roi_align.ts';

/**
 * A forward RoI op on host arrays: out [K, PH, PW, outChannels], zero-filled,
 * then filled by the reference function `values` (not called when out is empty).
 */
export function runRoiHost<P extends {pooledHeight: number, pooledWidth: number}>(
    backend: unknown, x: TensorInfo, boxes: TensorInfo, params: P, outChannels: number,
    values: (x: TypedArray, xShape: number[], boxes: TypedArray, numBoxes: number, p: P, out: TypedArray) => void):
    TensorInfo {
  const numBoxes = boxes.shape[0];
  const outShape = [numBoxes, params.pooledHeight, params.pooledWidth, outChannels];
  const out = newValues(util.sizeFromShape(outShape));
  if (out.length > 0) {
    values(readValues(backend, x), x.shape, readValues(backend, boxes), numBoxes, params, out);
  }
  return output(backend, outShape, 'float32', out);
}

export const roiAlignHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as RoiAlignInputs;
  return runRoiHost(backend, x, boxes, attrs as unknown as RoiAlignAttrs, x.shape[3], roiAlignValues);
};

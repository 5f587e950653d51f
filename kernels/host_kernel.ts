/**
 * Helpers for kernels that compute on host typed arrays: the cpu backend
 * (zero copy) and the named host path of tfjs-node.
 */
import {DataType, KernelBackend, TensorInfo, TypedArray, util} from '@tensorflow/tfjs-core';

export function readValues(backend: unknown, t: TensorInfo): TypedArray {
  return (backend as KernelBackend).readSync(t.dataId) as TypedArray;
}

export function newValues(size: number, dtype: DataType = 'float32'): TypedArray {
  return util.getTypedArrayFromDType(dtype as 'float32', size);
}

export function output(backend: unknown, shape: number[], dtype: DataType, values: TypedArray): TensorInfo {
  return {dataId: (backend as KernelBackend).write(values, shape, dtype), shape, dtype};
}

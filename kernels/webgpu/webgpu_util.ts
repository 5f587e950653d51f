/** Plumbing shared by this package's webgpu kernels. */
import {Fill, getKernel, KernelFunc, TensorInfo, util} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';

/** Zeros of `shape` by the backend's own Fill program (nothing crosses to the CPU). */
export function zerosWebGPU(backend: WebGPUBackend, shape: number[]): TensorInfo {
  if (util.sizeFromShape(shape) === 0) return backend.makeTensorInfo(shape, 'float32', new Float32Array(0));
  const fill = getKernel(Fill, 'webgpu')!.kernelFunc as KernelFunc;
  return fill({inputs: {}, backend, attrs: {shape, value: 0, dtype: 'float32'}}) as TensorInfo;
}

/** WGSL main(): `body` runs once per output value, with `index` and its `coords` in scope. */
export function mainPerValue(body: string): string {
  return `
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let coords = getCoordsFromIndex(index);
        ${body}
      }
    `;
}

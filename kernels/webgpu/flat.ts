/**
 * Shared plumbing of this package's elementwise webgpu kernels. WebGPU
 * buffers have no layout, so a program may run on flat views (same dataId,
 * shape [size]) of its inputs and output: one pipeline for every shape.
 */
import {DataType, TensorInfo, util} from '@tensorflow/tfjs-core';
import type {WebGPUBackend, WebGPUProgram} from '@tensorflow/tfjs-backend-webgpu';
import {ProgramUniforms} from './uniforms.ts';

export function assertSameSize(kernelName: string, x: TensorInfo, names: string[], others: TensorInfo[]) {
  const size = util.sizeFromShape(x.shape);
  others.forEach((o, i) => util.assert(
      util.sizeFromShape(o.shape) === size,
      () => `${kernelName}: ${names[i]} of shape [${o.shape}] does not match inputs of shape [${x.shape}]`));
}

function flat(t: TensorInfo): TensorInfo {
  return {dataId: t.dataId, shape: [util.sizeFromShape(t.shape)], dtype: t.dtype};
}

/**
 * Runs `program` (built for [size]) on flat views of `inputs` into a new
 * float32 tensor of `shape`. A size-0 `shape` gives an empty tensor and runs nothing.
 */
export function runFlat(
    backend: WebGPUBackend, program: WebGPUProgram | null, inputs: TensorInfo[], shape: number[],
    uniforms: ProgramUniforms): TensorInfo {
  const dtype: DataType = 'float32';
  if (program == null || util.sizeFromShape(shape) === 0) {
    return backend.makeTensorInfo(shape, dtype, new Float32Array(0));
  }
  const out = backend.makeTensorInfo(shape, dtype);
  backend.runWebGPUProgram(program, inputs.map(flat), dtype, uniforms, flat(out));
  return out;
}

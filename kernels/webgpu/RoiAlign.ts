import {Fill, getKernel, KernelFunc, TensorInfo, util} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {RoiAlignAttrs, RoiAlignInputs} from '../../src/kernel_names.ts';
import {ProgramUniforms} from './flat.ts';
import {RoiAlignProgram} from './roi_align_webgpu.ts';

/** Zeros of `shape` by the backend's own Fill program (nothing crosses to the CPU). */
export function zerosWebGPU(backend: WebGPUBackend, shape: number[]): TensorInfo {
  if (util.sizeFromShape(shape) === 0) return backend.makeTensorInfo(shape, 'float32', new Float32Array(0));
  const fill = getKernel(Fill, 'webgpu')!.kernelFunc as KernelFunc;
  return fill({inputs: {}, backend, attrs: {shape, value: 0, dtype: 'float32'}}) as TensorInfo;
}

/** Uniform values in the order of ROI_ALIGN_UNIFORMS. */
export function roiAlignUniforms(xShape: number[], numBoxes: number, p: RoiAlignAttrs): ProgramUniforms {
  const [batch, height, width] = xShape;
  const int = (v: number) => ({type: 'int32', data: [v]});
  return [int(batch), int(height), int(width), int(numBoxes), int(p.pooledHeight), int(p.pooledWidth),
    {type: 'float32', data: [p.spatialScale]}, int(p.samplingRatio), int(p.aligned ? 1 : 0)];
}

export const roiAlignWebGPU: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as RoiAlignInputs;
  const p = attrs as unknown as RoiAlignAttrs;
  const webgpu = backend as WebGPUBackend;
  const outShape = [boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3]];
  if (util.sizeFromShape(outShape) === 0 || util.sizeFromShape(x.shape) === 0) {
    return zerosWebGPU(webgpu, outShape);
  }
  return webgpu.runWebGPUProgram(
      new RoiAlignProgram(outShape), [x, boxes], 'float32', roiAlignUniforms(x.shape, boxes.shape[0], p));
};

import {KernelFunc, TensorInfo, util} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {RoiPoolAttrs, RoiPoolInputs} from '../../src/kernel_names.ts';
import {ProgramUniforms} from './flat.ts';
import {zerosWebGPU} from './RoiAlign.ts';
import {RoiPoolProgram} from './roi_pool_webgpu.ts';

/** Uniform values in the order of ROI_POOL_UNIFORMS. */
export function roiPoolUniforms(
    xShape: number[], numBoxes: number, p: RoiPoolAttrs, argmaxOut: boolean): ProgramUniforms {
  const [batch, height, width] = xShape;
  const int = (v: number) => ({type: 'int32', data: [v]});
  return [int(batch), int(height), int(width), int(numBoxes), int(p.pooledHeight), int(p.pooledWidth),
    {type: 'float32', data: [p.spatialScale]}, int(argmaxOut ? 1 : 0)];
}

/** The bins' maxima, or (argmaxOut) their argmax h * W + w as float32 (exact below 2^24). */
export function runRoiPoolWebGPU(
    webgpu: WebGPUBackend, x: TensorInfo, boxes: TensorInfo, p: RoiPoolAttrs, argmaxOut: boolean): TensorInfo {
  const outShape = [boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3]];
  if (util.sizeFromShape(outShape) === 0 || util.sizeFromShape(x.shape) === 0) return zerosWebGPU(webgpu, outShape);
  return webgpu.runWebGPUProgram(
      new RoiPoolProgram(outShape), [x, boxes], 'float32', roiPoolUniforms(x.shape, boxes.shape[0], p, argmaxOut));
}

export const roiPoolWebGPU: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as RoiPoolInputs;
  return runRoiPoolWebGPU(backend as WebGPUBackend, x, boxes, attrs as unknown as RoiPoolAttrs, false);
};

import {KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {RoiPool, RoiPoolAttrs, RoiPoolInputs} from '../../src/kernel_names.ts';
import {roiShape} from '../gpu/uniforms.ts';
import {runRoiProgram} from './roi_common_wgsl.ts';
import {RoiPoolProgram} from './roi_pool_webgpu.ts';

/** The bins' maxima, or (argmaxOut) their argmax h * W + w as float32 (exact below 2^24). */
export function runRoiPoolWebGPU(
    webgpu: WebGPUBackend, kernelName: string, x: TensorInfo, boxes: TensorInfo, p: RoiPoolAttrs,
    argmaxOut: boolean): TensorInfo {
  const program = new RoiPoolProgram([boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3]]);
  return runRoiProgram(webgpu, kernelName, program, [x, boxes], x,
      {...roiShape(x.shape, boxes.shape[0]), ...p, argmaxOut});
}

export const roiPoolWebGPU: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as RoiPoolInputs;
  return runRoiPoolWebGPU(backend as WebGPUBackend, RoiPool, x, boxes, attrs as unknown as RoiPoolAttrs, false);
};

import {KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {RoiPool, RoiPoolAttrs, RoiPoolInputs} from '../../src/kernel_names.ts';
import {roiShape} from '../gpu/uniforms.ts';
import {runRoiProgram} from './roi_common_glsl.ts';
import {RoiPoolProgram} from './roi_pool_gpu.ts';

/** The bins' maxima, or (argmaxOut) their argmax h * W + w as float32 (exact below 2^24). */
export function runRoiPoolWebGL(
    webgl: MathBackendWebGL, kernelName: string, x: TensorInfo, boxes: TensorInfo, p: RoiPoolAttrs,
    argmaxOut: boolean): TensorInfo {
  const program = new RoiPoolProgram([boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3]]);
  return runRoiProgram(webgl, kernelName, program, [x, boxes], x,
      {...roiShape(x.shape, boxes.shape[0]), ...p, argmaxOut});
}

export const roiPoolWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as RoiPoolInputs;
  return runRoiPoolWebGL(backend as MathBackendWebGL, RoiPool, x, boxes, attrs as unknown as RoiPoolAttrs, false);
};

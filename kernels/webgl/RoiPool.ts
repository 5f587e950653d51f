import {KernelFunc, TensorInfo, util} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {RoiPool, RoiPoolAttrs, RoiPoolInputs} from '../../src/kernel_names.ts';
import {assertWebGL2, zerosWebGL} from './RoiAlign.ts';
import {RoiPoolProgram} from './roi_pool_gpu.ts';

/** Uniform values in the order of ROI_POOL_UNIFORMS. */
export function roiPoolUniforms(xShape: number[], numBoxes: number, p: RoiPoolAttrs, argmaxOut: boolean) {
  const [batch, height, width] = xShape;
  return [[batch], [height], [width], [numBoxes], [p.pooledHeight], [p.pooledWidth], [p.spatialScale],
    [argmaxOut ? 1 : 0]];
}

/** The bins' maxima, or (argmaxOut) their argmax h * W + w as float32 (exact below 2^24). */
export function runRoiPoolWebGL(
    webgl: MathBackendWebGL, x: TensorInfo, boxes: TensorInfo, p: RoiPoolAttrs, argmaxOut: boolean): TensorInfo {
  const outShape = [boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3]];
  if (util.sizeFromShape(outShape) === 0 || util.sizeFromShape(x.shape) === 0) return zerosWebGL(webgl, outShape);
  return webgl.runWebGLProgram(
      new RoiPoolProgram(outShape), [x, boxes], 'float32', roiPoolUniforms(x.shape, boxes.shape[0], p, argmaxOut));
}

export const roiPoolWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as RoiPoolInputs;
  assertWebGL2(RoiPool);
  return runRoiPoolWebGL(backend as MathBackendWebGL, x, boxes, attrs as unknown as RoiPoolAttrs, false);
};

import {env, Fill, getKernel, KernelFunc, TensorInfo, util} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {RoiAlign, RoiAlignAttrs, RoiAlignInputs} from '../../src/kernel_names.ts';
import {RoiAlignProgram} from './roi_align_gpu.ts';

/** Zeros of `shape` by the backend's own Fill program (nothing crosses to the CPU). */
export function zerosWebGL(backend: MathBackendWebGL, shape: number[]): TensorInfo {
  if (util.sizeFromShape(shape) === 0) return backend.makeTensorInfo(shape, 'float32', new Float32Array(0));
  const fill = getKernel(Fill, 'webgl')!.kernelFunc as KernelFunc;
  return fill({inputs: {}, backend, attrs: {shape, value: 0, dtype: 'float32'}}) as TensorInfo;
}

/** The programs use WebGL2 GLSL (dynamic loops, floatBitsToUint). */
export function assertWebGL2(kernelName: string) {
  if (env().getNumber('WEBGL_VERSION') !== 2) throw new Error(`${kernelName} (webgl) needs WebGL2`);
}

/** Uniform values in the order of ROI_ALIGN_UNIFORMS. */
export function roiAlignUniforms(xShape: number[], numBoxes: number, p: RoiAlignAttrs): number[][] {
  const [batch, height, width] = xShape;
  return [[batch], [height], [width], [numBoxes], [p.pooledHeight], [p.pooledWidth],
    [p.spatialScale], [p.samplingRatio], [p.aligned ? 1 : 0]];
}

export const roiAlignWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as RoiAlignInputs;
  const p = attrs as unknown as RoiAlignAttrs;
  const webgl = backend as MathBackendWebGL;
  assertWebGL2(RoiAlign);
  const outShape = [boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3]];
  if (util.sizeFromShape(outShape) === 0 || util.sizeFromShape(x.shape) === 0) {
    return zerosWebGL(webgl, outShape);
  }
  return webgl.runWebGLProgram(
      new RoiAlignProgram(outShape), [x, boxes], 'float32', roiAlignUniforms(x.shape, boxes.shape[0], p));
};

/** Plumbing shared by this package's webgl kernels. */
import {env, Fill, getKernel, NamedAttrMap, TensorInfo, util} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';

/** Runs one of the webgl backend's own kernels on TensorInfos (the caller disposes the result). */
export function runBackendKernel(
    backend: MathBackendWebGL, name: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
  const kernel = getKernel(name, 'webgl');
  if (kernel == null) throw new Error(`kernel ${name} is not registered for backend 'webgl'`);
  return kernel.kernelFunc({inputs, backend, attrs}) as TensorInfo;
}

/** Zeros of `shape` by the backend's own Fill program (nothing crosses to the CPU). */
export function zerosWebGL(backend: MathBackendWebGL, shape: number[]): TensorInfo {
  if (util.sizeFromShape(shape) === 0) return backend.makeTensorInfo(shape, 'float32', new Float32Array(0));
  return runBackendKernel(backend, Fill, {}, {shape, value: 0, dtype: 'float32'});
}

/** The programs use WebGL2 GLSL (dynamic loops, floatBitsToUint). */
export function assertWebGL2(kernelName: string) {
  if (env().getNumber('WEBGL_VERSION') !== 2) throw new Error(`${kernelName} (webgl) needs WebGL2`);
}

export function disposeAll(backend: MathBackendWebGL, infos: TensorInfo[]) {
  for (const t of infos) backend.disposeIntermediateTensorInfo(t);
}

/**
 * Shared plumbing of this package's elementwise webgl kernels: empty outputs,
 * same-size checks, and views of rank > 4 tensors as 1-D (through the webgl
 * backend's own Reshape kernel, free for unpacked textures) so that their
 * programs keep shape uniforms and do not recompile per shape.
 */
import {Reshape, TensorInfo, util} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {runBackendKernel} from './webgl_util.ts';

/** Ranks whose shapes the webgl shader compiler can pass as uniforms. */
export const MAX_SHAPE_UNIFORM_RANK = 4;

/** A float32 tensor of `shape` with no elements (no program runs). */
export function emptyOutput(backend: MathBackendWebGL, shape: number[]): TensorInfo {
  return backend.makeTensorInfo(shape, 'float32', new Float32Array(0));
}

export function assertSameSize(kernelName: string, x: TensorInfo, names: string[], others: TensorInfo[]) {
  const size = util.sizeFromShape(x.shape);
  others.forEach((o, i) => util.assert(
      util.sizeFromShape(o.shape) === size,
      () => `${kernelName}: ${names[i]} of shape [${o.shape}] does not match inputs of shape [${x.shape}]`));
}

/** The shape a program over `shape` runs on: itself, or [size] beyond rank 4. */
export function programShape(shape: number[]): number[] {
  return shape.length <= MAX_SHAPE_UNIFORM_RANK ? shape : [util.sizeFromShape(shape)];
}

/** `t` viewed with `shape` (same size): `t` itself when the shapes agree. */
export function reshapeTo(backend: MathBackendWebGL, t: TensorInfo, shape: number[]): TensorInfo {
  if (util.arraysEqual(t.shape, shape)) return t;
  return runBackendKernel(backend, Reshape, {x: t}, {shape});
}

/** Disposes the views `reshapeTo` made (never the kernel's own inputs). */
export function disposeViews(backend: MathBackendWebGL, views: TensorInfo[], originals: TensorInfo[]) {
  views.forEach((v, i) => {
    if (v !== originals[i]) backend.disposeIntermediateTensorInfo(v);
  });
}

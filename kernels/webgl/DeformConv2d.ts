import {BatchMatMul, KernelFunc, Reshape, TensorInfo, Transpose, util} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {DeformConv2d, DeformConv2dAttrs, DeformConv2dInputs} from '../../src/kernel_names.ts';
import {columnBudget, columnLength, deformGeometry, DeformGeometry} from '../reference/deform_conv2d.ts';
import {DeformColumnsProgram, DeformForwardProgram, deformUniforms} from './deform_conv2d_gpu.ts';
import {assertWebGL2, disposeAll, runBackendKernel, zerosWebGL} from './webgl_util.ts';

/** Whether the columns of all positions fit the one-shot path (16 column budgets, 64 MiB by default). */
export function oneShot(g: DeformGeometry) {
  return g.batch * g.outHeight * g.outWidth * columnLength(g) <= 16 * columnBudget();
}

/** Columns [groups, B OH OW, Kg] of all positions. */
export function allColumns(backend: MathBackendWebGL, g: DeformGeometry, inputs: TensorInfo[]) {
  const positions = g.batch * g.outHeight * g.outWidth;
  return backend.runWebGLProgram(new DeformColumnsProgram(g, positions), inputs, 'float32', deformUniforms(g, 0, positions));
}

/** HWIO weight as [groups, Kg, Cout / groups]. */
export function groupedWeight(backend: MathBackendWebGL, weight: TensorInfo, g: DeformGeometry): TensorInfo {
  const kg = columnLength(g) / g.groups, cog = g.outChannels / g.groups;
  if (g.groups === 1) return runBackendKernel(backend, Reshape, {x: weight}, {shape: [1, kg, cog]});
  const split = runBackendKernel(backend, Reshape, {x: weight}, {shape: [kg, g.groups, cog]});
  const grouped = runBackendKernel(backend, Transpose, {x: split}, {perm: [1, 0, 2]});
  backend.disposeIntermediateTensorInfo(split);
  return grouped;
}

/** [groups, rows, n] -> [rows, groups n] reshaped to `shape` (a view when groups is 1). */
export function ungroup(backend: MathBackendWebGL, t: TensorInfo, shape: number[]): TensorInfo {
  if (t.shape[0] === 1) return runBackendKernel(backend, Reshape, {x: t}, {shape});
  const rows = runBackendKernel(backend, Transpose, {x: t}, {perm: [1, 0, 2]});
  const out = runBackendKernel(backend, Reshape, {x: rows}, {shape});
  backend.disposeIntermediateTensorInfo(rows);
  return out;
}

/** Columns and the backend's BatchMatMul when they fit one shot, else one gather program (no temporaries). */
export const deformConv2dWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const webgl = backend as MathBackendWebGL;
  const {x, offset, mask, weight} = inputs as DeformConv2dInputs;
  assertWebGL2(DeformConv2d);
  const g = deformGeometry(x.shape, weight.shape, attrs as unknown as DeformConv2dAttrs);
  const outShape = [g.batch, g.outHeight, g.outWidth, g.outChannels];
  if (util.sizeFromShape(outShape) === 0) return zerosWebGL(webgl, outShape);
  const maps = g.useMask ? [x, offset, mask] : [x, offset];
  if (!oneShot(g)) {
    return webgl.runWebGLProgram(new DeformForwardProgram(g), [...maps, weight], 'float32', deformUniforms(g));
  }
  const col = allColumns(webgl, g, maps);
  const weights = groupedWeight(webgl, weight, g);
  const product = runBackendKernel(webgl, BatchMatMul, {a: col, b: weights});
  const out = ungroup(webgl, product, outShape);
  disposeAll(webgl, [col, weights, product]);
  return out;
};

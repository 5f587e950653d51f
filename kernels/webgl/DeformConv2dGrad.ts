import {Add, BatchMatMul, KernelFunc, Max, Reshape, TensorInfo} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {DeformConv2dGrad, DeformConv2dGradAttrs, DeformConv2dGradInputs} from '../../src/kernel_names.ts';
import {chunkPositions, columnLength, deformGeometry, DeformGeometry} from '../reference/deform_conv2d.ts';
import {allColumns, groupedWeight, oneShot, ungroup} from './DeformConv2d.ts';
import {DeformColumnsProgram, DeformInputGradProgram, DeformReachProgram, DeformRowsInProgram, DeformSampleGradProgram, deformUniforms} from './deform_conv2d_gpu.ts';
import {assertWebGL2, disposeAll, runBackendKernel, zerosWebGL} from './webgl_util.ts';

/** dy rows [p0, p0 + rows) as [groups, rows, Cout / groups] (a view of dy when groups is 1 and all rows). */
function dyRows(webgl: MathBackendWebGL, dy2d: TensorInfo, g: DeformGeometry, p0: number, rows: number) {
  if (g.groups === 1 && rows === dy2d.shape[0]) {
    return runBackendKernel(webgl, Reshape, {x: dy2d}, {shape: [1, rows, g.outChannels]});
  }
  return webgl.runWebGLProgram(new DeformRowsInProgram(g, rows), [dy2d], 'float32', deformUniforms(g, p0, rows));
}

/** [groups, Kg, Cout / groups] summed over chunks of columns^T . dy rows. */
function chunkedWeightGrad(webgl: MathBackendWebGL, dy2d: TensorInfo, maps: TensorInfo[], g: DeformGeometry) {
  const positions = dy2d.shape[0];
  const chunk = chunkPositions(positions, columnLength(g));
  let sum: TensorInfo|null = null;
  for (let p0 = 0; p0 < positions; p0 += chunk) {
    const rows = Math.min(chunk, positions - p0);
    const col = webgl.runWebGLProgram(new DeformColumnsProgram(g, rows), maps, 'float32', deformUniforms(g, p0, rows));
    const dyPart = dyRows(webgl, dy2d, g, p0, rows);
    const part = runBackendKernel(webgl, BatchMatMul, {a: col, b: dyPart}, {transposeA: true, transposeB: false});
    disposeAll(webgl, [col, dyPart]);
    if (sum == null) {
      sum = part;
    } else {
      const next = runBackendKernel(webgl, Add, {a: sum, b: part});
      disposeAll(webgl, [sum, part]);
      sum = next;
    }
  }
  return sum!;
}

/** R of deform_conv2d_gpu.ts: the largest |offset| of any sample the forward pass takes, as a scalar. */
function reach(webgl: MathBackendWebGL, offset: TensorInfo, g: DeformGeometry) {
  const perSample = webgl.runWebGLProgram(new DeformReachProgram(g), [offset], 'float32', deformUniforms(g));
  const flat = runBackendKernel(webgl, Reshape, {x: perSample}, {shape: [perSample.shape.reduce((a, b) => a * b, 1)]});
  const max = runBackendKernel(webgl, Max, {x: flat}, {reductionIndices: [0], keepDims: false});
  disposeAll(webgl, [perSample, flat]);
  return max;
}

/**
 * Gathers (deform_conv2d_gpu.ts) for the offset, mask and input gradients;
 * the column gradient and dW by BatchMatMul in one shot when the columns fit,
 * else computed inline and by chunks.
 */
export const deformConv2dGradWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const webgl = backend as MathBackendWebGL;
  const {dy, x, offset, mask, weight} = inputs as DeformConv2dGradInputs;
  assertWebGL2(DeformConv2dGrad);
  const g = deformGeometry(x.shape, weight.shape, attrs as unknown as DeformConv2dGradAttrs);
  const positions = g.batch * g.outHeight * g.outWidth;
  if (positions === 0) return [x, offset, mask, weight].map(t => zerosWebGL(webgl, t.shape));
  const maps = g.useMask ? [x, offset, mask] : [x, offset];
  const dy2d = runBackendKernel(webgl, Reshape, {x: dy}, {shape: [positions, g.outChannels]});
  const temps: TensorInfo[] = [dy2d];
  let gradInputs: TensorInfo[], gradNames: string[], dWeights: TensorInfo;
  if (oneShot(g)) {
    const rows = dyRows(webgl, dy2d, g, 0, positions);
    const weights = groupedWeight(webgl, weight, g);
    const dcol = runBackendKernel(webgl, BatchMatMul, {a: rows, b: weights}, {transposeA: false, transposeB: true});
    const col = allColumns(webgl, g, maps);
    dWeights = runBackendKernel(webgl, BatchMatMul, {a: col, b: rows}, {transposeA: true, transposeB: false});
    temps.push(rows, weights, dcol, col);
    [gradInputs, gradNames] = [[dcol], ['Dcol']];
  } else {
    dWeights = chunkedWeightGrad(webgl, dy2d, maps, g);
    [gradInputs, gradNames] = [[weight, dy], ['Weight', 'Dy']];
  }
  const uniforms = deformUniforms(g);
  const sampleGrad = (what: 'offset'|'mask') => webgl.runWebGLProgram(
      new DeformSampleGradProgram(g, what, gradNames), [...maps, ...gradInputs], 'float32', uniforms);
  const dOffset = sampleGrad('offset');
  const dMask = g.useMask ? sampleGrad('mask') : zerosWebGL(webgl, mask.shape);
  const r = reach(webgl, offset, g);
  const dx = webgl.runWebGLProgram(new DeformInputGradProgram(g, gradNames),
      [...maps.slice(1), ...gradInputs, r], 'float32', uniforms);
  // [groups, Kg, Cout / groups] -> HWIO
  const dWeight = ungroup(webgl, dWeights, weight.shape);
  disposeAll(webgl, [...temps, r, dWeights]);
  return [dx, dOffset, dMask, dWeight];
};

import {Add, BatchMatMul, Concat, env, KernelFunc, Reshape, TensorInfo} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {DeformConv2dGrad, DeformConv2dGradAttrs, DeformConv2dGradInputs} from '../../src/kernel_names.ts';
import {checkInputGradIndices, ImageChunk, imageCells, imageChunks} from '../gpu/deform_conv2d.ts';
import {deformGeometry, DeformGeometry} from '../reference/deform_conv2d.ts';
import {cellStartsWebGL, sortCellsWebGL} from './cell_sort_gpu.ts';
import {groupedWeight, ungroup} from './DeformConv2d.ts';
import {
  DeformCellsProgram, DeformColumnsProgram, DeformCornerSumsProgram, DeformInputGradProgram, DeformRowsInProgram,
  DeformSampleGradProgram, DeformSortedSamplesProgram, deformUniforms,
} from './deform_conv2d_gpu.ts';
import {assertWebGL2, disposeAll, runBackendKernel, zerosWebGL} from './webgl_util.ts';

/** dy rows [p0, p0 + rows) as [groups, rows, Cout / groups] (a view of dy when groups is 1 and all rows). */
function dyRows(webgl: MathBackendWebGL, dy2d: TensorInfo, g: DeformGeometry, p0: number, rows: number) {
  if (g.groups === 1 && rows === dy2d.shape[0]) {
    return runBackendKernel(webgl, Reshape, {x: dy2d}, {shape: [1, rows, g.outChannels]});
  }
  return webgl.runWebGLProgram(new DeformRowsInProgram(g, rows), [dy2d], 'float32', deformUniforms(g, p0, rows));
}

/** The chunk's dx [images, H, W, C] (added to `prev`, the image's dx so far, when given) by the cell sort. */
function chunkInputGrad(webgl: MathBackendWebGL, g: DeformGeometry, {p0, rows, images}: ImageChunk,
    samplers: TensorInfo[], dcol: TensorInfo, prev: TensorInfo|null) {
  const uniforms = deformUniforms(g, p0, rows);
  const n = rows / images * g.kernelHeight * g.kernelWidth, segments = images * g.offsetGroups;
  const cells = webgl.runWebGLProgram(new DeformCellsProgram(segments * n), [samplers[0]], 'float32', uniforms);
  const order = sortCellsWebGL(webgl, cells, n);
  const sorted = webgl.runWebGLProgram(new DeformSortedSamplesProgram(g, segments * n), [...samplers, order, cells],
      'float32', uniforms);
  const starts = cellStartsWebGL(webgl, sorted, segments, n, imageCells(g));
  const dx = webgl.runWebGLProgram(new DeformInputGradProgram(g, images, prev != null),
      [sorted, starts, dcol, ...(prev == null ? [] : [prev])], 'float32', uniforms);
  disposeAll(webgl, [cells, order, sorted, starts]);
  return dx;
}

/** `pieces` (disposed) one after another along axis 0, as `shape`. */
function concatRows(webgl: MathBackendWebGL, pieces: TensorInfo[], shape: number[]) {
  const all = pieces.length === 1 ? pieces[0] :
      runBackendKernel(webgl, Concat, pieces as unknown as Record<string, TensorInfo>, {axis: 0});
  const out = runBackendKernel(webgl, Reshape, {x: all}, {shape});
  disposeAll(webgl, all === pieces[0] ? pieces : [...pieces, all]);
  return out;
}

function checkSupport(g: DeformGeometry, chunks: ImageChunk[]) {
  assertWebGL2(DeformConv2dGrad);
  if (!env().getBool('WEBGL_RENDER_FLOAT32_ENABLED')) {
    throw new Error(`${DeformConv2dGrad} (webgl): needs float32 render targets (sample indices up to 2^24); ` +
        'use the wasm or cpu backend');
  }
  checkInputGradIndices(`${DeformConv2dGrad} (webgl)`, g, chunks);
}

/**
 * Per chunk of output positions (kernels/gpu/deform_conv2d.ts): dcol = dy W^T
 * and dW += col^T dy by the backend's BatchMatMul; the chunk's rows of the
 * offset and mask gradients (from its corner sums) and its images' part of dx
 * (deform_conv2d_gpu.ts), put together at the end. Nothing read back.
 */
export const deformConv2dGradWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const webgl = backend as MathBackendWebGL;
  const {dy, x, offset, mask, weight} = inputs as DeformConv2dGradInputs;
  assertWebGL2(DeformConv2dGrad);
  const g = deformGeometry(x.shape, weight.shape, attrs as unknown as DeformConv2dGradAttrs);
  const positions = g.batch * g.outHeight * g.outWidth;
  if (positions === 0) return [x, offset, mask, weight].map(t => zerosWebGL(webgl, t.shape));
  const chunks = imageChunks(g);
  checkSupport(g, chunks);
  const maps = g.useMask ? [x, offset, mask] : [x, offset];
  const dy2d = runBackendKernel(webgl, Reshape, {x: dy}, {shape: [positions, g.outChannels]});
  const weights = groupedWeight(webgl, weight, g);
  const dxs: TensorInfo[] = [], dOffsets: TensorInfo[] = [], dMasks: TensorInfo[] = [];
  let dWeights: TensorInfo|null = null;
  for (const chunk of chunks) {
    const {p0, rows} = chunk;
    const uniforms = deformUniforms(g, p0, rows);
    const dyPart = dyRows(webgl, dy2d, g, p0, rows);
    const dcol = runBackendKernel(webgl, BatchMatMul, {a: dyPart, b: weights}, {transposeA: false, transposeB: true});
    const sums = webgl.runWebGLProgram(new DeformCornerSumsProgram(g, rows), [x, offset, dcol], 'float32', uniforms);
    const sampleGrad = (what: 'offset'|'mask') => webgl.runWebGLProgram(
        new DeformSampleGradProgram(g, rows, what), [...maps.slice(1), sums], 'float32', uniforms);
    dOffsets.push(sampleGrad('offset'));
    if (g.useMask) dMasks.push(sampleGrad('mask'));
    const prev = p0 % (g.outHeight * g.outWidth) === 0 ? null : dxs.pop()!;
    dxs.push(chunkInputGrad(webgl, g, chunk, maps.slice(1), dcol, prev));
    const col = webgl.runWebGLProgram(new DeformColumnsProgram(g, rows), maps, 'float32', uniforms);
    const part = runBackendKernel(webgl, BatchMatMul, {a: col, b: dyPart}, {transposeA: true, transposeB: false});
    disposeAll(webgl, [dyPart, dcol, sums, col, ...(prev == null ? [] : [prev])]);
    if (dWeights == null) {
      dWeights = part;
    } else {
      const sum = runBackendKernel(webgl, Add, {a: dWeights, b: part});
      disposeAll(webgl, [dWeights, part]);
      dWeights = sum;
    }
  }
  const dx = concatRows(webgl, dxs, x.shape);
  const dOffset = concatRows(webgl, dOffsets, offset.shape);
  const dMask = g.useMask ? concatRows(webgl, dMasks, mask.shape) : zerosWebGL(webgl, mask.shape);
  // [groups, Kg, Cout / groups] -> HWIO
  const dWeight = ungroup(webgl, dWeights!, weight.shape);
  disposeAll(webgl, [dy2d, weights, dWeights!]);
  return [dx, dOffset, dMask, dWeight];
};
